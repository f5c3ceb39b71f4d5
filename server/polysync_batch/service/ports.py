"""What the use cases need from AWS, in Polysync's words. The adapters in `aws/` implement
these; tests substitute fakes. Every method raises `domain.errors.PlatformError` on failure."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from polysync_batch.domain.connection import QueueStatus
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

    async def submit(self, request: SubmitRequest, job_queue: str, job_name: str) -> Run:
        """Submits one job; returns its run as AWS knows it right after (SUBMITTED, built from
        the request, while DescribeJobs does not know the new job yet)."""
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


class IdempotencyLedger(Protocol):
    """A table shared by every replica: the first call of a request_id claims it, submits, and
    records the job; every other call, on any replica, waits for that record."""

    async def claim(self, key: str, owner: str, now: float) -> Claim:
        """Claims `key` unless someone has; returns the entry as it is now (ours if owner matches)."""
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
