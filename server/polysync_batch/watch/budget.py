"""A token bucket: the per-platform DescribeJobs budget, well under AWS's shared limit of about
50 requests per second per account."""

from __future__ import annotations

import asyncio

from polysync_batch.watch.clock import Clock


class RateBudget:
    def __init__(self, per_second: float, burst: int, clock: Clock) -> None:
        self._rate = per_second
        self._burst = float(burst)
        self._tokens = float(burst)
        self._clock = clock
        self._updated = clock.monotonic()
        self._lock = asyncio.Lock()  # callers queue in order instead of racing for tokens

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = self._clock.monotonic()
                self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
                self._updated = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await self._clock.sleep((1 - self._tokens) / self._rate)
