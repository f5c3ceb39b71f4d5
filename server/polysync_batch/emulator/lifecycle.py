"""How an emulated job moves through the AWS Batch states over time.

A job's state is a pure function of the instant asked about (plus any stop request recorded
before that instant). Nothing ticks in the background: DescribeJobs and ListJobs evaluate the
same function, so they always agree, and tests can ask about any instant without sleeping.
"""

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

SUBMITTED = "SUBMITTED"
PENDING = "PENDING"
RUNNABLE = "RUNNABLE"
STARTING = "STARTING"
RUNNING = "RUNNING"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"

ALL_STATUSES = (SUBMITTED, PENDING, RUNNABLE, STARTING, RUNNING, SUCCEEDED, FAILED)
TERMINAL_STATUSES = (SUCCEEDED, FAILED)
# CancelJob only affects jobs that have not been placed yet; AWS leaves STARTING/RUNNING alone.
CANCELLABLE_STATUSES = (SUBMITTED, PENDING, RUNNABLE)

ESSENTIAL_CONTAINER_EXITED = "Essential container in task exited"
DEPENDENCY_FAILED = "Dependent Job failed"
TIMED_OUT = "Job attempt duration exceeded timeout"


@dataclass(frozen=True)
class Lifecycle:
    """Seconds a job spends in each state before moving on."""

    submitted: float = 0.5
    pending: float = 0.5
    runnable: float = 1.0
    starting: float = 0.5
    running: float = 3.0

    def __post_init__(self) -> None:
        for name, seconds in vars(self).items():
            if seconds < 0:
                raise ValueError(f"Lifecycle.{name} must not be negative, got {seconds}")


@dataclass(frozen=True)
class JobView:
    """What a job looks like at one instant."""

    status: str
    reason: str | None = None
    started_at: float | None = None  # entered RUNNING (AWS's startedAt)
    stopped_at: float | None = None
    exit_code: int | None = None
    placed: bool = False  # reached STARTING: a task, and so a log stream, exists

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


class Timeline(Protocol):
    created_at: float

    def view(self, at: float) -> JobView: ...

    def stop(self, at: float, reason: str, *, cancel_only: bool) -> bool: ...


@dataclass(frozen=True)
class _StopRequest:
    at: float
    reason: str


class JobTimeline:
    """The timeline of one container job (a plain job or one array child)."""

    def __init__(
        self,
        created_at: float,
        lifecycle: Lifecycle,
        *,
        run_seconds: float,
        exit_code: int,
        timeout_seconds: float | None = None,
        depends_on: Sequence[Timeline] = (),
    ) -> None:
        self.created_at = created_at
        self._lifecycle = lifecycle
        self._run_seconds = run_seconds
        self._exit_code = exit_code
        self._timeout_seconds = timeout_seconds
        self._depends_on = tuple(depends_on)
        self._stop: _StopRequest | None = None
        self._lock = threading.Lock()

    def view(self, at: float) -> JobView:
        stop = self._stop
        if stop is None or at < stop.at:
            return self._natural(at)
        before = self._natural(stop.at)
        return JobView(
            FAILED,
            stop.reason,
            started_at=before.started_at,
            stopped_at=stop.at,
            placed=before.placed,
        )

    def stop(self, at: float, reason: str, *, cancel_only: bool) -> bool:
        """TerminateJob (any non-terminal state) or CancelJob (only before STARTING)."""
        with self._lock:
            current = self.view(at)
            if current.terminal or (cancel_only and current.status not in CANCELLABLE_STATUSES):
                return False
            self._stop = _StopRequest(at, reason)
            return True

    def _natural(self, at: float) -> JobView:
        """The state at `at` if nobody had stopped the job."""
        lifecycle = self._lifecycle
        pending_at = self.created_at + lifecycle.submitted
        if at < pending_at:
            return JobView(SUBMITTED)

        # A job stays PENDING until every dependency succeeded, and fails if any of them failed.
        dependencies = [dependency.view(at) for dependency in self._depends_on]
        failed_at = [d.stopped_at for d in dependencies if d.status == FAILED and d.stopped_at]
        if failed_at:
            return JobView(FAILED, DEPENDENCY_FAILED, stopped_at=max(pending_at, min(failed_at)))
        if not all(d.terminal for d in dependencies):
            return JobView(PENDING)
        runnable_at = max([pending_at + lifecycle.pending] + [d.stopped_at or 0.0 for d in dependencies])
        if at < runnable_at:
            return JobView(PENDING)

        starting_at = runnable_at + lifecycle.runnable
        if at < starting_at:
            return JobView(RUNNABLE)
        running_at = starting_at + lifecycle.starting
        if at < running_at:
            return JobView(STARTING, placed=True)

        duration, timed_out = self._run_seconds, False
        if self._timeout_seconds is not None and self._timeout_seconds < duration:
            duration, timed_out = self._timeout_seconds, True
        stopped_at = running_at + duration
        if at < stopped_at:
            return JobView(RUNNING, started_at=running_at, placed=True)
        if timed_out:
            return JobView(FAILED, TIMED_OUT, started_at=running_at, stopped_at=stopped_at, placed=True)
        return JobView(
            SUCCEEDED if self._exit_code == 0 else FAILED,
            ESSENTIAL_CONTAINER_EXITED,  # AWS reports it for successful containers too
            started_at=running_at,
            stopped_at=stopped_at,
            exit_code=self._exit_code,
            placed=True,
        )


class ArrayTimeline:
    """The parent of an array job: a pointer whose state is derived from its children.

    As in AWS, the parent is only ever SUBMITTED, PENDING (once any child is RUNNABLE),
    SUCCEEDED (every child succeeded) or FAILED.
    """

    def __init__(self, created_at: float, children: Sequence[Timeline]) -> None:
        self.created_at = created_at
        self.children = tuple(children)
        self._stop: _StopRequest | None = None
        self._lock = threading.Lock()

    def view(self, at: float) -> JobView:
        children = [child.view(at) for child in self.children]
        started = [c.started_at for c in children if c.started_at is not None]
        started_at = min(started) if started else None
        if not all(c.terminal for c in children):
            advanced = any(c.status not in (SUBMITTED, PENDING) for c in children)
            return JobView(PENDING if advanced else SUBMITTED, started_at=started_at)
        stop = self._stop
        return JobView(
            SUCCEEDED if all(c.status == SUCCEEDED for c in children) else FAILED,
            stop.reason if stop is not None and stop.at <= at else None,
            started_at=started_at,
            stopped_at=max(c.stopped_at or 0.0 for c in children),
        )

    def status_summary(self, at: float) -> dict[str, int]:
        summary = dict.fromkeys(ALL_STATUSES, 0)
        for child in self.children:
            summary[child.view(at).status] += 1
        return summary

    def stop(self, at: float, reason: str, *, cancel_only: bool) -> bool:
        """Stopping the parent stops each child the request applies to."""
        with self._lock:
            stopped = [child.stop(at, reason, cancel_only=cancel_only) for child in self.children]
            if not any(stopped):
                return False
            if self._stop is None:
                self._stop = _StopRequest(at, reason)
            return True
