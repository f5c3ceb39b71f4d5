"""Micro-batching of DescribeJobs: concurrent look-ups of distinct runs share calls of up to 100
ids, so 1,000 concurrent GetPipelineRun cost about 10 calls instead of 1,000.

No fixed window: a partial batch is sent on the next loop iteration when the platform is quiet
(a caller making one request after another never waits). Under load — requests arrived while
the previous partial batch was in flight — it also waits until `min_gap` seconds after that
batch, so requests arriving one by one (as gRPC delivers them) still share calls. Full batches
of 100 are sent at once."""

from __future__ import annotations

import asyncio

from polysync_batch.domain import deadline
from polysync_batch.domain.models import Run
from polysync_batch.service.ports import DESCRIBE_LIMIT, DescribeRuns
from polysync_batch.watch.clock import Clock


class DescribeBatcher:
    def __init__(self, describe: DescribeRuns, clock: Clock, min_gap_seconds: float = 0.02) -> None:
        self._describe = describe  # one DescribeJobs call (≤100 ids), budgeted by the caller
        self._clock = clock
        self._min_gap = min_gap_seconds
        self._waiting: dict[str, asyncio.Future[Run | None]] = {}
        self._partial_in_flight = False
        self._last_partial = float("-inf")
        self._busy = False  # requests arrived while the last partial batch was in flight
        self._scheduled = False

    async def get_many(self, run_ids: list[str]) -> dict[str, Run | None]:
        """Each id's run, or None when AWS Batch does not know it."""
        futures = {}
        for run_id in dict.fromkeys(run_ids):
            future = self._waiting.get(run_id)
            if future is None:
                future = asyncio.get_running_loop().create_future()
                self._waiting[run_id] = future
            futures[run_id] = future
        while len(self._waiting) >= DESCRIBE_LIMIT:
            self._send(partial=False)
        self._schedule()
        return {run_id: await future for run_id, future in futures.items()}

    def _schedule(self) -> None:
        if self._waiting and not self._scheduled and not self._partial_in_flight:
            self._scheduled = True
            delay = self._last_partial + self._min_gap - self._clock.monotonic() if self._busy else 0.0
            if delay > 0:
                self._clock.call_later(delay, self._flush)
            else:
                asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._scheduled = False
        while len(self._waiting) >= DESCRIBE_LIMIT:
            self._send(partial=False)
        if self._waiting:
            self._send(partial=True)

    def _send(self, partial: bool) -> None:
        batch = dict(list(self._waiting.items())[:DESCRIBE_LIMIT])
        for run_id in batch:
            del self._waiting[run_id]
        if partial:
            self._partial_in_flight = True
            self._last_partial = self._clock.monotonic()
        # The batch serves every waiter: the deadline of the call that happened to send it is not its own.
        asyncio.get_running_loop().create_task(self._resolve(batch, partial), context=deadline.without_deadline())

    async def _resolve(self, batch: dict[str, asyncio.Future[Run | None]], partial: bool) -> None:
        try:
            runs = {run.run_id: run for run in await self._describe(list(batch))}
        except Exception as error:
            for future in batch.values():
                if not future.done():
                    future.set_exception(error)
            return
        finally:
            if partial:
                self._partial_in_flight = False
                self._busy = bool(self._waiting)
                self._schedule()  # what gathered meanwhile goes next
        for run_id, future in batch.items():
            if not future.done():
                future.set_result(runs.get(run_id))
