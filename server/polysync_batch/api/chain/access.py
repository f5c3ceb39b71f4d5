"""Per-platform access (SPEC §8.2), once per call, after the caller is identified and before the
handler: the request message's `platform` names the platform (empty: the default), so a
BatchGet or Watch of a thousand runs checks it once, and no method can forget it. Every
PlatformService method reads, but for those that change runs (submit access)."""

from __future__ import annotations

from polysync_batch.api.chain.call import Call, Method
from polysync_batch.api.chain.step import Step
from polysync_batch.api.health import SERVICE_NAME
from polysync_batch.domain.access import AccessPolicy, Action

# Methods that only read; anything else on PlatformService (today ExecutePipeline and
# CancelPipelineRun, and any method added later until listed here) needs submit access.
READ_METHODS = frozenset(
    {
        "TestConnection",
        "ListPipelines",
        "GetPipeline",
        "GetPipelineRun",
        "BatchGetPipelineRuns",
        "ListPipelineRuns",
        "WatchPipelineRun",
        "WatchPipelineRuns",
        "StreamPipelineRunLogs",
        "WatchRunChanges",
    }
)


class _MethodAccess:
    __slots__ = ("_policy", "_action")

    def __init__(self, policy: AccessPolicy, action: Action) -> None:
        self._policy = policy
        self._action = action

    def enter(self, call: Call) -> None:
        if call.caller is not None:
            self._policy.check(call.caller.name, getattr(call.request, "platform", ""), self._action)


class Access(Step):
    name = "access"

    def __init__(self, policy: AccessPolicy, *, enabled: bool) -> None:
        self._policy = policy
        self._enabled = enabled

    def bind(self, method: Method) -> _MethodAccess | None:
        if not self._enabled or method.service != SERVICE_NAME:
            return None
        return _MethodAccess(self._policy, Action.READ if method.name in READ_METHODS else Action.SUBMIT)
