"""What the use cases need from the world, in Polysync's words: AWS (the adapters in `aws/`
implement these), the watch core's run states (`watch/` implements `RunStates`) and time
(`Clock`). Tests substitute fakes. Every method raises `domain.errors.PlatformError` on failure.
Nothing here imports an implementation: `aws/` and `watch/` depend on this module, never the
reverse (tests/unit/test_import_graph.py)."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from polysync_batch.domain.connection import QueueStatus
from polysync_batch.domain.errors import PlatformError
from polysync_batch.domain.models import LogPage, Pipeline, QueuedEvent, QueueFront, Run
from polysync_batch.domain.placement import QueueCapacity
from polysync_batch.domain.submit import SubmitRequest

# DescribeJobs takes at most 100 job ids per call.
DESCRIBE_LIMIT = 100
# One DescribeJobs call (BatchPort.describe_runs): the runs AWS Batch knows among the ids.
DescribeRuns = Callable[[list[str]], Awaitable[list[Run]]]


class BatchPort(Protocol):
    async def pipelines(self, name: str | None = None, revision: int | None = None) -> list[Pipeline]:
        """The latest ACTIVE revision of each job definition (of one name, or of all, by name),
        or exactly `revision` of `name`."""
        ...

    async def sample_pipelines(self) -> None:
        """One DescribeJobDefinitions call of one result (a permission probe)."""
        ...

    async def sample_compute_environments(self) -> None:
        """One DescribeComputeEnvironments call of one result (a permission probe)."""
        ...

    async def submit(self, request: SubmitRequest, job_queue: str, job_name: str) -> str:
        """Submits one job (one SubmitJob call); returns its job id, which is the run id."""
        ...

    async def runs_named(self, job_queue: str, job_name: str) -> list[Run]:
        """The jobs with exactly this name on the queue, any status, oldest first (from ListJobs
        summaries: fewer fields than describe_runs)."""
        ...

    async def describe_runs(self, run_ids: list[str]) -> list[Run]:
        """The runs AWS Batch knows among at most DESCRIBE_LIMIT ids (one DescribeJobs call)."""
        ...

    async def list_runs_page(
        self,
        *,
        job_queue: str,
        array_parent_run_id: str,
        native_status: str | None,
        name_prefix: str,
        max_results: int,
        next_token: str,
    ) -> tuple[list[Run], str]:
        """One ListJobs call: the runs of one native status (or, with a name prefix, of any)."""
        ...

    async def terminate(self, run_id: str, reason: str) -> None: ...

    async def job_queue(self, job_queue: str) -> QueueStatus:
        """The queue's state; `exists=False` when it does not exist."""
        ...

    async def queue_capacity(self, job_queue: str) -> QueueCapacity:
        """The queue (DescribeJobQueues) and its compute environments (DescribeComputeEnvironments);
        `environments` is None, with the reason, when the latter may not be read."""
        ...

    async def queue_front(self, job_queue: str) -> QueueFront:
        """GetJobQueueSnapshot: the job ids at the front of the queue, next to be placed first,
        each with the earliest time it was at its position."""
        ...


class LogsPort(Protocol):
    async def log_page(self, group: str, stream: str, token: str, start_from_head: bool) -> LogPage | None:
        """One page of a log stream; None while the stream does not exist yet."""
        ...


class IdentityPort(Protocol):
    async def caller_arn(self) -> str:
        """The ARN the platform's credentials resolve to (STS GetCallerIdentity)."""
        ...

    async def simulate(self, caller_arn: str, actions: list[str], resource: str) -> dict[str, str]:
        """IAM policy simulation: action → decision ("allowed", "implicitDeny", …)."""
        ...


@dataclass(frozen=True)
class Claim:
    """One request_id's entry in the idempotency ledger."""

    key: str
    owner: str  # who is submitting it (a random id per claiming call)
    claimed_at: float  # epoch seconds of the claim or its last renewal
    run_id: str = ""  # set once the job exists
    fingerprint: str = ""  # of the request that claimed it (domain.submit.fingerprint); "" if unknown


class IdempotencyLedger(Protocol):
    """A table shared by every replica: the first call of a request_id claims it, submits, and
    records the job; every other call, on any replica, waits for that record."""

    async def claim(self, key: str, owner: str, now: float, fingerprint: str = "") -> Claim:
        """Claims `key` for a request with this fingerprint unless someone has; returns the entry as
        it is now (ours if owner matches)."""
        ...

    async def read(self, key: str) -> Claim | None: ...

    async def renew(self, claim: Claim, now: float) -> bool:
        """Refreshes our claim before submitting; False if it is no longer ours."""
        ...

    async def take_over(self, claim: Claim, owner: str, now: float) -> bool:
        """Takes an abandoned claim (no run recorded) from its owner; False if anything changed."""
        ...

    async def record(self, claim: Claim, run_id: str, now: float) -> None: ...


class EventQueuePort(Protocol):
    """The platform's queue of job state change events (an SQS queue fed by EventBridge)."""

    async def receive(self, long_poll: bool = True) -> list[QueuedEvent]:
        """Up to 10 messages; with `long_poll`, waiting up to the configured time (≤ 20 s) for
        the first, else answering at once. Raises on any failure."""
        ...

    async def delete(self, receipts: list[str]) -> None:
        """Deletes the messages handled (one DeleteMessageBatch of at most 10)."""
        ...

    def close(self) -> None:
        """No more receives: what one still in flight gets is handed back to the queue."""
        ...


# -- time -------------------------------------------------------------------------------------


class Timer(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    """The server's one source of time (watch/clock.py's SystemClock; tests inject a manual one)."""

    def monotonic(self) -> float: ...
    def wall(self) -> datetime: ...
    def call_later(self, seconds: float, callback: Callable[[], None]) -> Timer: ...
    async def sleep(self, seconds: float) -> None: ...


# -- run states (the watch core) --------------------------------------------------------------


class Source(enum.Enum):
    """Where a run's state came from."""

    POLL = "poll"  # the poller's DescribeJobs of watched runs
    READ = "read"  # a Get/BatchGet/subscribe look-up
    SUBMIT = "submit"  # the service's own SubmitJob (and the read right after it)
    CANCEL = "cancel"  # the state after the service's own TerminateJob
    EVENT = "event"  # a "Batch Job State Change" event from the platform's SQS queue


class Outcome(enum.Enum):
    """What the run states did with one observed state."""

    APPLIED = "applied"  # a new state: cached, and sent to its watchers
    DUPLICATE = "duplicate"  # the state already known: nothing sent
    STALE = "stale"  # older than the state known (or after a terminal one): nothing changed
    UNTRACKED = "untracked"  # an event for a run neither followed nor cached


@dataclass(frozen=True)
class WatchEvent:
    """One message of a watch stream."""

    run: Run | None  # None on heartbeats of multi-run streams
    stale_since: datetime | None = None
    heartbeat: bool = False
    sequence: int = 0  # 1, 2, … in the order the stream yields them


@dataclass(frozen=True)
class WatchStats:
    """The watch core's gauges, read at scrape time."""

    streams: int  # open subscriptions (one per Watch* stream)
    watched_runs: int  # non-terminal runs the poller follows
    oldest_poll_age_seconds: float  # since the last state of the longest-unrefreshed watched run


# A listener of applied changes (RunStates.on_change): the run as now known (with its history),
# where the change came from, and when (the event's time, else the clock's wall time).
ChangeListener = Callable[[Run, Source, datetime], None]


class RunStates(Protocol):
    """The latest known state of each run of one platform: a read cache, the fan-out of every
    change to watch streams, and the only way the use cases read runs from AWS (every
    DescribeJobs goes through its one rate-limited reader). Every Run it hands out carries its
    recorded `history`."""

    async def get(self, run_id: str) -> Run:
        """The run, from memory when fresh or terminal, else read; RUN_NOT_FOUND when AWS does
        not know it."""
        ...

    async def get_many(self, run_ids: list[str]) -> dict[str, Run | None]:
        """Each id's run (None when AWS Batch does not know it), from memory when fresh."""
        ...

    async def fetch(self, run_ids: list[str], source: Source) -> dict[str, Run | None]:
        """Each id's run read from AWS now (never from memory), recorded as coming from `source`."""
        ...

    def observe(self, run: Run, source: Source, event_time: datetime | None = None) -> Outcome:
        """Records a state the caller learnt itself (a submit's, a cancel's)."""
        ...

    def watch(self, run_ids: list[str]) -> AbstractAsyncContextManager[AsyncIterator[WatchEvent]]:
        """The events of a watch: current states first, then changes and heartbeats; ends after
        every run's terminal state. Unknown ids raise RUN_NOT_FOUND on entry."""
        ...

    def on_change(self, listener: ChangeListener) -> None:
        """Calls `listener` with every applied change from now on."""
        ...

    def stats(self) -> WatchStats: ...

    def close(self, error: PlatformError) -> None:
        """Ends every watch with `error` (on shutdown: UNAVAILABLE) and stops every source."""
        ...
