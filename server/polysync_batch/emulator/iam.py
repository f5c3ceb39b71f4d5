"""IAM SimulatePrincipalPolicy, which moto does not implement, so the demo's TestConnection can
check SubmitJob, TerminateJob and PassRole without side effects. The demo identity may do
anything, so every action is "allowed"; accounts that are not an emulator's keep moto's
NotImplementedError."""

from typing import Any

from moto.core.responses import ActionResult
from moto.iam.responses import IamResponse

_EMULATOR_ACCOUNTS: set[str] = set()


def _simulate_principal_policy(self: IamResponse) -> Any:
    if self.current_account not in _EMULATOR_ACCOUNTS:
        raise NotImplementedError("The simulate_principal_policy action has not been implemented")
    actions = self._get_param("ActionNames", [])
    resources = self._get_param("ResourceArns", []) or ["*"]
    results = [
        {"EvalActionName": action, "EvalResourceName": resource, "EvalDecision": "allowed"}
        for action in actions
        for resource in resources
    ]
    return ActionResult({"EvaluationResults": results, "IsTruncated": False})


_simulate_principal_policy.emulator_patch = True  # type: ignore[attr-defined]


def install_iam(account_id: str) -> None:
    """Answer SimulatePrincipalPolicy for this emulator account; safe to call more than once."""
    _EMULATOR_ACCOUNTS.add(account_id)
    if not getattr(getattr(IamResponse, "simulate_principal_policy", None), "emulator_patch", False):
        IamResponse.simulate_principal_policy = _simulate_principal_policy  # type: ignore[attr-defined]
