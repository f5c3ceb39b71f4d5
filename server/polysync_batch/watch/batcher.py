"""Micro-batching of DescribeJobs: concurrent look-ups of distinct runs share calls of up to 100
ids, so 1,000 concurrent GetPipelineRun cost about 10 calls instead of 1,000."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from polysync_batch.domain.models import Run

DESCRIBE_LIMIT = 100
Describe = Callable[[list[str]], Awaitable[list[Run]]]


class DescribeBatcher:
    def __init__(self, describe: Describe, window_seconds: float = 0.002) -> None:
        self._describe = describe  # one DescribeJobs call (≤100 ids), budgeted by the caller
        self._window = window_seconds
        self._waiting: dict[str, asyncio.Future[Run | None]] = {}
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
        while len(self._waiting) >= DESCRIBE_LIMIT:  # full calls need not wait for the window
            self._send(DESCRIBE_LIMIT)
        if self._waiting and not self._scheduled:
            self._scheduled = True
            loop = asyncio.get_running_loop()
            if self._window > 0:
                loop.call_later(self._window, self._flush)
            else:
                loop.call_soon(self._flush)
        return {run_id: await future for run_id, future in futures.items()}

    def _flush(self) -> None:
        self._scheduled = False
        while self._waiting:
            self._send(DESCRIBE_LIMIT)

    def _send(self, limit: int) -> None:
        batch = dict(list(self._waiting.items())[:limit])
        for run_id in batch:
            del self._waiting[run_id]
        asyncio.ensure_future(self._resolve(batch))

    async def _resolve(self, batch: dict[str, asyncio.Future[Run | None]]) -> None:
        try:
            runs = {run.run_id: run for run in await self._describe(list(batch))}
        except Exception as error:  # noqa: BLE001 — every waiter gets the same failure
            for future in batch.values():
                if not future.done():
                    future.set_exception(error)
            return
        for run_id, future in batch.items():
            if not future.done():
                future.set_result(runs.get(run_id))
