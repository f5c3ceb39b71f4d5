"""A clock for tests: time moves only when a test calls `advance` (the `Clock` port of
service/ports.py)."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from polysync_batch.service.ports import Timer


class _ManualTimer:
    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback: Callable[[], None] | None = callback

    def cancel(self) -> None:
        self.callback = None


class ManualClock:
    """Time moves only when a test calls `advance`; timers fire in order of their deadline."""

    def __init__(self, start: datetime = datetime(2026, 1, 1, tzinfo=UTC)) -> None:
        self._now = 0.0
        self._start = start
        self._timers: list[tuple[float, int, _ManualTimer]] = []
        self._order = itertools.count()

    def monotonic(self) -> float:
        return self._now

    def wall(self) -> datetime:
        return self._start + timedelta(seconds=self._now)

    def call_later(self, seconds: float, callback: Callable[[], None]) -> Timer:
        timer = _ManualTimer(callback)
        heapq.heappush(self._timers, (self._now + max(0.0, seconds), next(self._order), timer))
        return timer

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        self.call_later(seconds, lambda: future.done() or future.set_result(None))
        await future

    async def advance(self, seconds: float) -> None:
        """Moves time forward, firing each timer at its deadline and letting the loop run."""
        target = self._now + seconds
        await settle()  # timers set just before must be registered first
        while self._timers and self._timers[0][0] <= target:
            deadline, _, timer = heapq.heappop(self._timers)
            self._now = max(self._now, deadline)
            if timer.callback is not None:
                timer.callback()
                await settle()
        self._now = target
        await settle()


async def settle(rounds: int = 50) -> None:
    """Lets every ready task run until the loop is quiet (bounded)."""
    for _ in range(rounds):
        await asyncio.sleep(0)
