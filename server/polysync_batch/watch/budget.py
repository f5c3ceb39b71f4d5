"""Token buckets: the per-platform DescribeJobs budget, well under AWS's shared limit of about
50 requests per second per account, and the adaptive SubmitJob rate limit."""

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


class AdaptiveBudget(RateBudget):
    """A rate budget that AWS's throttling slows down: each throttled call halves the rate (to
    at least `floor_per_second`), each successful one wins back 5% of the configured rate."""

    def __init__(self, per_second: float, burst: int, clock: Clock, floor_per_second: float = 0.5) -> None:
        super().__init__(per_second, burst, clock)
        self.configured = per_second
        self._floor = min(floor_per_second, per_second)

    @property
    def rate(self) -> float:
        return self._rate

    def throttled(self) -> None:
        self._rate = max(self._floor, self._rate / 2)

    def succeeded(self) -> None:
        self._rate = min(self.configured, self._rate + self.configured * 0.05)
