"""The IdentityPort over boto3's STS and IAM clients."""

from __future__ import annotations

import re
from typing import Any

from polysync_batch.aws.calls import AwsCaller

_ASSUMED_ROLE = re.compile(r"^arn:(aws[a-z\-]*):sts::(\d{12}):assumed-role/([^/]+)/.+$")


class IdentityAdapter:
    def __init__(self, sts_client: Any, iam_client: Any, call: AwsCaller) -> None:
        self._sts = sts_client
        self._iam = iam_client
        self._call = call

    async def caller_arn(self) -> str:
        return (await self._call("GetCallerIdentity", self._sts.get_caller_identity)).get("Arn", "")

    async def simulate(self, caller_arn: str, actions: list[str], resource: str) -> dict[str, str]:
        response = await self._call(
            "SimulatePrincipalPolicy",
            self._iam.simulate_principal_policy,
            PolicySourceArn=policy_source(caller_arn),
            ActionNames=actions,
            ResourceArns=[resource],
        )
        return {r["EvalActionName"]: r["EvalDecision"] for r in response.get("EvaluationResults", [])}


def policy_source(caller_arn: str) -> str:
    """The IAM principal to simulate: an assumed role's role ARN (without its path, which STS
    does not tell), or the caller ARN itself for users."""
    match = _ASSUMED_ROLE.match(caller_arn)
    if match:
        partition, account, role = match.groups()
        return f"arn:{partition}:iam::{account}:role/{role}"
    return caller_arn
