"""Queue position of RUNNABLE runs (SPEC §13) from GetJobQueueSnapshot (the front of the queue).

Only runs someone reads (or watches) while RUNNABLE are looked up, and each queue's snapshot is
fetched at most once per `interval_seconds`, shared by every run of that queue. A run not among
the first 100 gets no position. When the platform may not call GetJobQueueSnapshot (or AWS
fails it), runs get no position and the log says so once, not per call.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from polysync_batch.domain import errors
from polysync_batch.domain.models import QueuePosition, Run
from polysync_batch.service.annotated_events import RunnableAnnotated
from polysync_batch.service.ports import BatchPort, WatchEvent

log = logging.getLogger(__name__)

MAX_QUEUES = 64  # snapshots kept: a bound, whatever queues the runs read name
Front = dict[str, tuple[int, datetime | None]]  # job id → (position, earliest time at it)


class QueuePositions:
    def __init__(
        self,
        platform: str,
        batch: BatchPort,
        interval_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._platform = platform
        self._batch = batch
        self._interval = interval_seconds
        self._clock = clock
        self._snapshots: OrderedDict[str, tuple[float, Front]] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}
        self._denied = False  # the platform may not call GetJobQueueSnapshot: never again
        self._said: set[str] = set()  # what the log already said

    async def annotate(self, run: Run) -> Run:
        """The run with its queue position while RUNNABLE; as it is otherwise."""
        if run.native_status != "RUNNABLE" or not run.job_queue or self._denied:
            return run
        front = await self._front(run.job_queue)
        found = front.get(run.run_id)
        if found is None:
            return run
        return dataclasses.replace(run, queue_position=QueuePosition(found[0], found[1]))

    async def annotate_all(self, runs: dict[str, Run | None]) -> dict[str, Run | None]:
        return {run_id: (await self.annotate(run) if run is not None else None) for run_id, run in runs.items()}

    def annotate_events(self, events: AsyncIterator[WatchEvent]) -> AsyncIterator[WatchEvent]:
        """A watch's events, a RUNNABLE run's with its position (refreshed on each event and
        heartbeat that carries the run, from the same shared snapshot)."""
        return RunnableAnnotated(self.annotate, events)

    async def _front(self, queue: str) -> Front:
        cached = self._snapshots.get(queue)
        if cached is not None and self._clock() - cached[0] < self._interval:
            return cached[1]
        lock = self._locks.setdefault(queue, asyncio.Lock())
        async with lock:  # one GetJobQueueSnapshot per queue at a time; the others wait for it
            cached = self._snapshots.get(queue)
            if cached is not None and self._clock() - cached[0] < self._interval:
                return cached[1]
            front: Front = {}
            try:
                jobs = await self._batch.queue_front(queue)
                front = {job_id: (index + 1, since) for index, (job_id, since) in enumerate(jobs[:100])}
            except errors.PermissionDenied as denied:
                self._denied = True
                self._say("denied", "queue positions off on platform %s: %s", denied.message)
            except errors.PlatformError as failure:  # kept for the interval too: no retry storm
                self._say(f"failed:{queue}", "no queue positions for %s: %s", failure.message, queue=queue)
            self._snapshots[queue] = (self._clock(), front)
            self._snapshots.move_to_end(queue)
            while len(self._snapshots) > MAX_QUEUES:
                evicted, _ = self._snapshots.popitem(last=False)
                self._locks.pop(evicted, None)
            return front

    def _say(self, key: str, message: str, detail: str, queue: str = "") -> None:
        if key in self._said or len(self._said) > MAX_QUEUES:
            return
        self._said.add(key)
        log.warning(message, queue or self._platform, detail)
