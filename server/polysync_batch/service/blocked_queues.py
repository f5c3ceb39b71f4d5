"""Blocked job queues (SPEC §13; issue 19 item 4), as "Batch Job Queue Blocked" events report
them, on the RUNNABLE runs of each queue that are read or watched.

An event (watch/event_source.py hands it to `record`) names the queue and the RUNNABLE job at
its front that AWS Batch cannot place. Every RUNNABLE run of that queue that someone reads
(GetPipelineRun, BatchGetPipelineRuns) or watches gets a warning with the reason, advice and
AWS's page (domain/queue_blocked.py); watchers of those runs get their run again at once with
it. A block ends when its job leaves RUNNABLE: the watch core's change hook (`on_change`) says
so, and a read re-checks a block older than `recheck_seconds` (its job read through the watch
core's one DescribeJobs reader, so a change the events never brought is found too). A run's
warning goes once the run itself leaves RUNNABLE, since only RUNNABLE runs get it.

Memory is bounded: at most MAX_QUEUES queues, MAX_BLOCKERS blocking jobs each.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime

from polysync_batch.domain import errors
from polysync_batch.domain.models import Run
from polysync_batch.domain.queue_blocked import QueueBlocked, queue_name, warning
from polysync_batch.service.annotated_events import RunnableAnnotated
from polysync_batch.service.ports import Source, WatchEvent

log = logging.getLogger(__name__)

MAX_QUEUES = 64
MAX_BLOCKERS = 8  # per queue: AWS names one at a time; a few more cover events out of order
RUNNABLE = "RUNNABLE"
ReadRuns = Callable[[list[str]], Awaitable[dict[str, Run | None]]]
Redeliver = Callable[[Callable[[Run], bool]], None]


@dataclasses.dataclass
class _Block:
    event: QueueBlocked
    checked_at: float  # when the blocker was last known RUNNABLE (monotonic)


class BlockedQueues:
    def __init__(
        self,
        platform: str,
        read: ReadRuns,
        redeliver: Redeliver | None = None,
        recheck_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._platform = platform
        self._read = read  # the watch core's get_many: cached, else one shared DescribeJobs
        self._redeliver = redeliver  # the watch core's: sends watched runs again, unchanged
        self._recheck = recheck_seconds
        self._clock = clock
        self._queues: OrderedDict[str, OrderedDict[str, _Block]] = OrderedDict()  # queue name → job id → block
        self._blockers: dict[str, str] = {}  # job id → queue name

    # -- what the events and the watch core say ------------------------------------------------

    def record(self, blocked: QueueBlocked) -> None:
        """A "Batch Job Queue Blocked" event (its job's state is already applied)."""
        queue = queue_name(blocked.job_queue)
        blocks = self._queues.setdefault(queue, OrderedDict())
        self._queues.move_to_end(queue)
        new = blocked.job_id not in blocks
        if not new and blocks[blocked.job_id].event.reason == blocked.reason:
            blocks[blocked.job_id].checked_at = self._clock()
            return
        blocks[blocked.job_id] = _Block(blocked, self._clock())
        self._blockers[blocked.job_id] = queue
        while len(blocks) > MAX_BLOCKERS:
            self._blockers.pop(blocks.popitem(last=False)[0], None)
        while len(self._queues) > MAX_QUEUES:
            _, dropped = self._queues.popitem(last=False)
            for job_id in dropped:
                self._blockers.pop(job_id, None)
        if new:
            log.warning(
                "platform %s: job queue %s is blocked by job %s: %s",
                self._platform,
                queue,
                blocked.job_id,
                blocked.reason,
            )
        self._tell_watchers(queue)

    def on_change(self, run: Run, source: Source, when: datetime) -> None:
        """The watch core's change hook: a blocking job that left RUNNABLE ends its block."""
        if run.run_id in self._blockers and run.native_status != RUNNABLE:
            self._clear(run.run_id, f"its job is {run.native_status}")

    def _clear(self, job_id: str, why: str) -> None:
        queue = self._blockers.pop(job_id, None)
        if queue is None:
            return
        blocks = self._queues.get(queue)
        if blocks is not None:
            blocks.pop(job_id, None)
            if not blocks:
                del self._queues[queue]
        log.info("platform %s: job queue %s no longer blocked by job %s (%s)", self._platform, queue, job_id, why)
        self._tell_watchers(queue)

    def _tell_watchers(self, queue: str) -> None:
        if self._redeliver is not None:
            self._redeliver(lambda run: run.native_status == RUNNABLE and queue_name(run.job_queue) == queue)

    # -- runs as callers see them --------------------------------------------------------------

    async def annotate(self, run: Run) -> Run:
        """The run with its queue's block as a warning while it is RUNNABLE; as it is otherwise."""
        if run.native_status != RUNNABLE or not run.job_queue:
            return run
        queue = queue_name(run.job_queue)
        if queue not in self._queues:
            return run
        await self._recheck_blocks(queue, run)
        blocks = self._queues.get(queue)
        if not blocks:
            return run
        # The block of the run itself if it blocks the queue, else the oldest one still standing.
        block = blocks.get(run.run_id) or next(iter(blocks.values()))
        return dataclasses.replace(run, warnings=[*run.warnings, warning(block.event, run.run_id)])

    async def annotate_all(self, runs: dict[str, Run | None]) -> dict[str, Run | None]:
        return {run_id: (await self.annotate(run) if run is not None else None) for run_id, run in runs.items()}

    def annotate_events(self, events: AsyncIterator[WatchEvent]) -> AsyncIterator[WatchEvent]:
        return RunnableAnnotated(self.annotate, events)

    async def _recheck_blocks(self, queue: str, run: Run) -> None:
        """Reads the queue's blocking jobs not known RUNNABLE for `recheck_seconds`; ends the
        blocks of those that left RUNNABLE (or that AWS no longer knows)."""
        now = self._clock()
        blocks = self._queues.get(queue) or {}
        due = [job_id for job_id, block in blocks.items() if now - block.checked_at >= self._recheck]
        if not due:
            return
        for job_id in due:
            blocks[job_id].checked_at = now  # one read per interval, whoever reads meanwhile
        found: dict[str, Run | None] = {run.run_id: run} if run.run_id in due else {}
        missing = [job_id for job_id in due if job_id not in found]
        if missing:
            try:
                found.update(await self._read(missing))
            except errors.PlatformError as failure:  # the blocks stand until a read succeeds
                log.info(
                    "platform %s: could not re-check the blocks of queue %s: %s", self._platform, queue, failure.message
                )
                return
        for job_id in due:
            current = found.get(job_id)
            if current is None or current.native_status != RUNNABLE:
                self._clear(job_id, f"its job is {current.native_status if current else 'no longer known'}")
