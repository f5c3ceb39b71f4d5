"""A platform's job queues (SPEC §8.5 `job_queues`): what it may submit to, list, and read runs
from, so two platforms on one AWS account do not see each other's runs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from polysync_batch.domain import errors
from polysync_batch.domain.models import Run


def queue_name(queue: str) -> str:
    """A queue's name, from its name or its ARN (arn:aws:batch:<region>:<account>:job-queue/<name>)."""
    return queue.rsplit("/", 1)[-1] if queue.startswith("arn:") else queue


@dataclass(frozen=True)
class QueueScope:
    platform: str
    names: frozenset[str] | None  # None: any queue (job_queues not set)

    @classmethod
    def of(cls, platform: str, default_job_queue: str, job_queues: list[str] | None) -> QueueScope:
        if job_queues is None:
            return cls(platform, None)
        queues = [*job_queues, default_job_queue] if default_job_queue else list(job_queues)
        return cls(platform, frozenset(queue_name(q) for q in queues))

    @property
    def confined(self) -> bool:
        return self.names is not None

    def allows(self, queue: str) -> bool:
        return self.names is None or queue_name(queue) in self.names

    def check(self, queue: str, done: str = "nothing was submitted or listed") -> None:
        """Refuses a queue outside the platform's (PERMISSION_DENIED JOB_QUEUE_NOT_ALLOWED);
        `done` says what the refused call did not do."""
        if not self.allows(queue):
            raise errors.job_queue_not_allowed(queue, self.platform, sorted(self.names or ()), done)

    def visible(self, run: Run | None) -> Run | None:
        """The run, or None when it is in another platform's queue (a run not yet described may
        carry no queue: it came from this platform's own submit)."""
        if run is None or not run.job_queue or self.allows(run.job_queue):
            return run
        return None

    def readable(self, run: Run) -> Run:
        """The run, or NOT_FOUND RUN_NOT_FOUND as for any id the platform does not know."""
        if self.visible(run) is None:
            raise errors.run_not_found(run.run_id, self.platform)
        return run

    def check_readable(self, runs: Iterable[Run | None]) -> None:
        """Refuses (RUN_NOT_FOUND) if any known run is in another platform's queue."""
        for run in runs:
            if run is not None:
                self.readable(run)
