"""The one reconnect policy of every Polysync client helper (the same in Go, TypeScript, Java,
C# and here), and the watch state both the sync and the asyncio helpers share.

- Reconnect on UNAVAILABLE (which includes SERVER_SHUTTING_DOWN), on RESOURCE_EXHAUSTED with
  reason AWS_THROTTLED, and when a stream ends cleanly (OK) before every watched run is
  terminal; with a token source, also once on UNAUTHENTICATED (the next call sends a fresh
  token). Every other error is raised to the caller.
- Before reconnect attempt n (1, 2, ...) wait min(15 s, 0.5 s x 2^(n-1)) x a uniform jitter
  factor in [0.8, 1.2]; n starts again at 1 after any message is received.
- At most 10 consecutive reconnects without a message; then the last error is raised
  (StreamEndedEarly when the last failure was a clean early end).
- On resume the server sends the run's current state first; a state identical to the last one
  yielded (native_status, status_reason, exit_code, array status counts, stale_since) is not
  yielded again. Heartbeats are never suppressed; the state they carry counts as yielded.
- With an idle timeout (off by default), a stream that sends nothing for that long is abandoned
  and reconnected like a failed one (StreamIdle).
- A helper's timeout is a deadline across reconnects (DeadlineExceeded).

The same rules, as data and scenarios every client replays: clients/watch-policy.json.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Protocol

import grpc
from google.protobuf import timestamp_pb2
from polysync.platform.v1 import pipeline_run_pb2

from polysync_platform_client import reasons
from polysync_platform_client.errors import reason

__all__ = ["ReconnectPolicy", "RunEvent", "StreamEndedEarly", "StreamIdle", "DeadlineExceeded", "DEFAULT_POLICY"]


@dataclass(frozen=True)
class ReconnectPolicy:
    """Backoff and budget of reconnects; the defaults are the documented policy."""

    initial_backoff: float = 0.5
    max_backoff: float = 15.0
    jitter: float = 0.2
    max_reconnects: int = 10

    def backoff(self, attempt: int, uniform: Callable[[float, float], float] = random.uniform) -> float:
        """Seconds to wait before reconnect attempt `attempt` (1, 2, ...)."""
        base = min(self.max_backoff, self.initial_backoff * 2 ** (attempt - 1))
        return float(base * uniform(1 - self.jitter, 1 + self.jitter))


DEFAULT_POLICY = ReconnectPolicy()


@dataclass(frozen=True)
class RunEvent:
    """One message of a watch: the run's state, `stale_since` (set while the server cannot poll
    AWS: the time since which `run` may be out of date; None when current) and whether it is a
    heartbeat (nothing changed; `run` repeats the latest state)."""

    run: pipeline_run_pb2.PipelineRun
    stale_since: datetime | None
    heartbeat: bool


class StreamEndedEarly(Exception):
    """A watch stream kept ending cleanly before the watched runs were terminal, until the
    reconnect budget was spent."""


class StreamIdle(Exception):
    """Why a watch reconnected: its stream sent nothing (not even a heartbeat) for the idle
    timeout."""


class DeadlineExceeded(grpc.RpcError):
    """A helper's `timeout` (its deadline across reconnects) passed, or would pass before the
    next reconnect: a gRPC error with code DEADLINE_EXCEEDED whose details name the timeout and
    the last error. No reconnect is reported (on_reconnect) that the deadline leaves no time for."""

    def __init__(self, timeout: float, last_error: BaseException | None) -> None:
        super().__init__()
        self.timeout = timeout
        self.last_error = last_error
        last = _describe(last_error) if last_error is not None else "none"
        self._details = f"the helper's timeout of {timeout:g} s passed before the next reconnect (last error: {last})"

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.DEADLINE_EXCEEDED

    def details(self) -> str:
        return self._details

    def trailing_metadata(self) -> tuple[()]:
        return ()

    def __str__(self) -> str:
        return f"DEADLINE_EXCEEDED: {self._details}"


def _describe(error: BaseException) -> str:
    code, details = getattr(error, "code", None), getattr(error, "details", None)
    if isinstance(error, grpc.RpcError) and callable(code) and callable(details):
        why = reason(error)
        return f"{code().name}{f' {why}' if why else ''}: {details()}"
    return f"{type(error).__name__}: {error}"


class WatchResponse(Protocol):
    """WatchPipelineRunResponse and WatchPipelineRunsResponse alike."""

    @property
    def run(self) -> pipeline_run_pb2.PipelineRun: ...
    @property
    def heartbeat(self) -> bool: ...
    def HasField(self, field_name: str) -> bool: ...
    @property
    def stale_since(self) -> timestamp_pb2.Timestamp: ...


def state_key(run: pipeline_run_pb2.PipelineRun, stale_since: datetime | None = None) -> tuple[object, ...]:
    """What makes two states of a run "the same" for the helpers' duplicate suppression: the
    server's own (native_status, status_reason, exit_code, array status counts) and whether and
    since when the state is stale. (The array size never changes alone.)"""
    exit_code = run.exit_code if run.HasField("exit_code") else None
    counts = tuple(sorted(run.array.status_counts.items()))
    return (run.native_status, run.status_reason, exit_code, counts, stale_since)


def is_reconnectable(error: grpc.RpcError, *, unauthenticated_allowed: bool) -> bool:
    code = error.code()
    if code == grpc.StatusCode.UNAVAILABLE:
        return True
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return reason(error) == reasons.AWS_THROTTLED
    return code == grpc.StatusCode.UNAUTHENTICATED and unauthenticated_allowed


class Deadline:
    """An optional overall deadline across reconnects (seconds from now)."""

    def __init__(self, timeout: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.timeout = timeout
        self._at = None if timeout is None else clock() + timeout

    def remaining(self) -> float | None:
        return None if self._at is None else max(0.0, self._at - self._clock())

    def cap(self, seconds: float) -> float:
        left = self.remaining()
        return seconds if left is None else min(seconds, left)

    def allow(self, delay: float, last_error: BaseException | None) -> float:
        """`delay` when a reconnect after it still fits before the deadline; else raises
        DeadlineExceeded (the reconnect is neither reported nor waited for)."""
        left = self.remaining()
        if left is not None and delay >= left:
            raise DeadlineExceeded(self.timeout or 0.0, last_error) from last_error
        return delay


@dataclass
class Reconnects:
    """The reconnect budget of a stream helper, without I/O: which errors are retried, the
    backoff before each reconnect, and the count of consecutive reconnects without a message
    (the watch helpers' WatchState and the feed helper's FeedState both use it)."""

    policy: ReconnectPolicy = DEFAULT_POLICY
    retry_unauthenticated: bool = False
    uniform: Callable[[float, float], float] = random.uniform
    reconnects: int = field(init=False, default=0)  # consecutive, without a message
    last_error: BaseException | None = field(init=False, default=None)
    _unauthenticated_retried: bool = field(init=False, default=False)

    def received(self) -> None:
        """A message arrived: the backoff and the one UNAUTHENTICATED retry start over."""
        self.reconnects = 0
        self._unauthenticated_retried = False

    def on_idle(self, idle_timeout: float) -> float:
        """The stream sent nothing for `idle_timeout` s: the delay before reconnecting."""
        return self._reconnect(StreamIdle(f"the stream sent nothing for {idle_timeout:g} s"))

    def on_error(self, error: grpc.RpcError) -> float:
        """The delay before reconnecting after `error`; raises it when it is not retried."""
        unauthenticated = error.code() == grpc.StatusCode.UNAUTHENTICATED
        allowed = self.retry_unauthenticated and not self._unauthenticated_retried
        if not is_reconnectable(error, unauthenticated_allowed=allowed):
            raise error
        if unauthenticated:
            self._unauthenticated_retried = True
        return self._reconnect(error)

    def _reconnect(self, error: BaseException) -> float:
        self.last_error = error
        if self.reconnects >= self.policy.max_reconnects:
            raise error
        self.reconnects += 1
        return self.policy.backoff(self.reconnects, self.uniform)


@dataclass
class WatchState(Reconnects):
    """Everything a watch helper decides, without I/O: what to yield, when it is done, whether
    and how long to wait before reconnecting."""

    run_ids: Iterable[str] = ()
    pending: list[str] = field(init=False)
    _last: dict[str, tuple[object, ...]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.pending = list(dict.fromkeys(self.run_ids))

    @property
    def done(self) -> bool:
        return not self.pending

    def on_message(self, response: WatchResponse) -> RunEvent | None:
        """The event to yield for a received message, or None to suppress it."""
        self.received()
        run = response.run
        if run.terminal and run.run_id in self.pending:
            self.pending.remove(run.run_id)
        stale = None
        if response.HasField("stale_since"):
            stale = response.stale_since.ToDatetime(tzinfo=timezone.utc)
        key = state_key(run, stale)
        if not response.heartbeat and self._last.get(run.run_id) == key:
            return None  # heartbeats are never suppressed, but the state they carry is known
        self._last[run.run_id] = key
        return RunEvent(run=run, stale_since=stale, heartbeat=response.heartbeat)

    def on_clean_end(self) -> float:
        """The stream ended OK before every run was terminal: the delay before reconnecting, or
        StreamEndedEarly once the budget is spent."""
        return self._reconnect(
            StreamEndedEarly(
                f"the watch stream ended {self.reconnects + 1} times in a row before "
                f"{', '.join(self.pending)} reached a terminal state"
            )
        )


@dataclass
class ExecuteRetries:
    """ExecutePipeline is retried on UNAVAILABLE and DEADLINE_EXCEEDED (safe: the request_id
    makes it idempotent), with the same backoff and budget as reconnects."""

    policy: ReconnectPolicy = DEFAULT_POLICY
    uniform: Callable[[float, float], float] = random.uniform
    attempts: int = 0

    def on_error(self, error: grpc.RpcError, deadline: Deadline) -> float:
        code = error.code()
        retryable = code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
        if not retryable or self.attempts >= self.policy.max_reconnects or deadline.remaining() == 0:
            raise error
        self.attempts += 1
        return deadline.allow(self.policy.backoff(self.attempts, self.uniform), error)
