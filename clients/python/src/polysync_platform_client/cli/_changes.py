"""Following the run changes feed (SPEC §12, WatchRunChanges) for `polysync changes`.

The client package has no feed helper yet, so this follower lives here: it opens the feed (from
a cursor, or with a snapshot of the non-terminal runs), resumes from the last cursor when the
stream breaks (the shared reconnect policy: UNAVAILABLE, or AWS_THROTTLED), relists with a
snapshot on CURSOR_EXPIRED, and drops a change it has already shown (same run, no newer
version). The RPC and its messages are looked up by their §12 names, so the command works as
soon as the generated stubs have them and says so clearly while they do not."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import grpc
from polysync.platform.v1 import platform_service_pb2

from polysync_platform_client import errors, reasons
from polysync_platform_client.policy import DEFAULT_POLICY, ReconnectPolicy

RPC = "WatchRunChanges"
REQUEST = "WatchRunChangesRequest"


class NotInContract(Exception):
    """The generated stubs have no WatchRunChanges (SPEC §12)."""


def feed_method(stub: Any) -> tuple[Callable[..., Any], Any]:
    """The stub's WatchRunChanges and its request type, or NotInContract."""
    method = getattr(stub, RPC, None)
    request_type = getattr(platform_service_pb2, REQUEST, None)
    if method is None or request_type is None:
        raise NotInContract(f"this server's contract has no {RPC} (SPEC §12) yet")
    return method, request_type


def _reconnectable(error: grpc.RpcError) -> bool:
    code = error.code()
    if code == grpc.StatusCode.UNAVAILABLE:
        return True
    return code == grpc.StatusCode.RESOURCE_EXHAUSTED and errors.reason(error) == reasons.AWS_THROTTLED


class ChangesFollower:
    """Follows the feed until interrupted; `cursor` is always the latest resume point."""

    def __init__(
        self,
        method: Callable[..., Any],
        request_type: Any,
        *,
        platform: str,
        cursor: str,
        emit: Callable[[Any], None],
        note: Callable[[str], None],
        policy: ReconnectPolicy = DEFAULT_POLICY,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._method = method
        self._request_type = request_type
        self._platform = platform
        self.cursor = cursor
        self._emit = emit
        self._note = note
        self._policy = policy
        self._sleep = sleep
        self._versions: dict[str, int] = {}
        self._call: Any = None
        self._stale = False

    def run(self) -> None:
        """Follows forever (the feed has no end); raises what the policy does not retry."""
        reconnects = 0
        while True:
            request = self._request_type(platform=self._platform, cursor=self.cursor, snapshot=not self.cursor)
            self._call = self._method(request)
            try:
                for response in self._call:
                    reconnects = 0
                    self._on_message(response)
                failure: BaseException = RuntimeError("the changes feed ended")
            except grpc.RpcError as error:
                if errors.reason(error) == reasons.CURSOR_EXPIRED:
                    self._note(f"cursor expired ({error.details()}): listing the current runs again")
                    self.cursor = ""
                    continue
                if not _reconnectable(error):
                    raise
                failure = error
            finally:
                self._call.cancel()
            if reconnects >= self._policy.max_reconnects:
                raise failure
            reconnects += 1
            delay = self._policy.backoff(reconnects)
            self._note(f"the feed broke ({failure}); resuming from the last cursor in {delay:.1f} s")
            self._sleep(delay)

    def cancel(self) -> None:
        if self._call is not None:
            self._call.cancel()

    def _on_message(self, response: Any) -> None:
        for change in response.changes:
            run_id = change.run.run_id
            if self._versions.get(run_id, -1) >= change.version:
                continue  # delivered again after a resume (at least once): already shown
            self._versions[run_id] = change.version
            self._emit(change)
        if response.cursor:
            self.cursor = response.cursor
        stale = response.HasField("stale_since")
        if stale != self._stale:
            self._stale = stale
            self._note(
                f"the server cannot refresh the runs' state since {response.stale_since.ToJsonString()}"
                if stale
                else "the server refreshes the runs' state again"
            )
        if response.snapshot_complete:
            self._note("snapshot complete: following changes")
