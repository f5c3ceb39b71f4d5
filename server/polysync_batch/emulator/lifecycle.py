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
# The failure causes the emulator plays (job parameter `failure`), in AWS's own wording
# (sources: domain/diagnosis.py and the README's "Why a run failed").
OUT_OF_MEMORY = "OutOfMemoryError: Container killed due to memory usage"
HOST_TERMINATED = "Host EC2 (instance i-0e1f2a3b4c5d6e7f8) terminated."
IMAGE_PULL = (
    "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "
    '"public.ecr.aws/docker/library/busybox:missing": not found'
)
TASK_START = "ResourceInitializationError: failed to validate logger args: the log group does not exist"
JOB_RESOURCE_REQUIREMENT = (
    "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - The job resource requirement (vCPU/memory/GPU) is higher than "
    "that can be met by the CE(s) attached to the job queue."
)
TIME_LIMIT_CANCEL = "Canceled by JobStateTimeLimit action due to reason: MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT"
INSUFFICIENT_CAPACITY = (
    "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY - Service cannot fulfill the capacity requested for instance type "
    "[m5.large]"
)
# `failure` values: how the job's attempts end.
FAILURES = ("oom", "spot", "image_pull", "platform", "timeout", "unplaceable", "blocked")


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
class AttemptView:
    """One finished attempt of a job that had more than the emulator's usual one."""

    started_at: float | None
    stopped_at: float
    exit_code: int | None
    reason: str
    container_reason: str = ""


@dataclass(frozen=True)
class JobView:
    """What a job looks like at one instant."""

    status: str
    reason: str | None = None
    started_at: float | None = None  # entered RUNNING (AWS's startedAt)
    stopped_at: float | None = None
    exit_code: int | None = None
    placed: bool = False  # reached STARTING: a task, and so a log stream, exists
    container_reason: str | None = None  # ECS's reason (container.reason), for a `failure` scenario
    attempts: tuple[AttemptView, ...] | None = None  # set by `failure` scenarios: every finished attempt
    attempt: int = 0  # the index of the attempt in progress (or the last one)
    blocks_queue: bool = False  # RUNNABLE at the front of its queue, which it blocks (`failure` blocked)

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
        failure: str | None = None,
        attempts_allowed: int = 1,
        time_limit_seconds: float = 5.0,
    ) -> None:
        self.created_at = created_at
        self._failure = failure
        self._attempts_allowed = attempts_allowed
        self._time_limit = time_limit_seconds
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
            attempts=before.attempts,
            attempt=before.attempt,
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

        if self._failure is not None:
            return self._scenario(at, runnable_at)
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

    def _scenario(self, at: float, runnable_at: float) -> JobView:
        """The job's state from RUNNABLE on, when it plays a failure cause."""
        failure, lifecycle = self._failure, self._lifecycle
        if failure == "blocked":  # at the head of a blocked queue until someone cancels it
            return JobView(RUNNABLE, INSUFFICIENT_CAPACITY, attempts=(), blocks_queue=True)
        if failure == "unplaceable":  # then the queue's job state time limit action cancels it
            cancelled_at = runnable_at + self._time_limit
            if at < cancelled_at:
                return JobView(RUNNABLE, JOB_RESOURCE_REQUIREMENT, attempts=())
            return JobView(FAILED, TIME_LIMIT_CANCEL, stopped_at=cancelled_at, attempts=())
        finished: list[AttemptView] = []
        start = runnable_at
        for index in range(max(1, self._attempts_allowed)):
            starting_at = start + lifecycle.runnable
            if at < starting_at:
                return JobView(RUNNABLE, attempts=tuple(finished), attempt=index)
            running_at = starting_at + lifecycle.starting
            if failure in ("image_pull", "platform"):  # the task never starts: no exit code
                reason = IMAGE_PULL if failure == "image_pull" else TASK_START
                if at < running_at:
                    return JobView(STARTING, placed=True, attempts=tuple(finished), attempt=index)
                attempt = AttemptView(None, running_at, None, reason, reason)
                return self._ended(attempt, finished, index)
            if at < running_at:
                return JobView(STARTING, placed=True, attempts=tuple(finished), attempt=index)
            reclaimed = failure == "spot" and index == 0
            duration = self._run_seconds / 2 if reclaimed else self._run_seconds
            stopped_at = running_at + duration
            if at < stopped_at:
                return JobView(RUNNING, started_at=running_at, placed=True, attempts=tuple(finished), attempt=index)
            if reclaimed:
                attempt = AttemptView(running_at, stopped_at, None, HOST_TERMINATED)
                if index + 1 < self._attempts_allowed:  # AWS Batch retries it: back to RUNNABLE
                    finished.append(attempt)
                    start = stopped_at
                    continue
                return self._ended(attempt, finished, index)
            if failure == "oom":
                attempt = AttemptView(running_at, stopped_at, 137, ESSENTIAL_CONTAINER_EXITED, OUT_OF_MEMORY)
                return self._ended(attempt, finished, index, reason=OUT_OF_MEMORY)
            if failure == "timeout":
                return self._ended(AttemptView(running_at, stopped_at, None, TIMED_OUT), finished, index)
            code = self._exit_code  # a later attempt of a Spot reclaim runs as the job would
            attempt = AttemptView(running_at, stopped_at, code, ESSENTIAL_CONTAINER_EXITED)
            return self._ended(attempt, finished, index, status=SUCCEEDED if code == 0 else FAILED)
        raise AssertionError("unreachable: the last attempt always ends the job")

    @staticmethod
    def _ended(
        attempt: AttemptView, finished: list[AttemptView], index: int, reason: str | None = None, status: str = FAILED
    ) -> JobView:
        return JobView(
            status,
            reason or attempt.reason,
            started_at=attempt.started_at,
            stopped_at=attempt.stopped_at,
            exit_code=attempt.exit_code,
            placed=True,
            container_reason=attempt.container_reason or None,
            attempts=(*finished, attempt),
            attempt=index,
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
