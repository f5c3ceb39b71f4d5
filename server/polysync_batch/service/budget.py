"""Token buckets for AWS calls: the per-platform DescribeJobs budget (well under AWS's shared
limit of about 50 requests per second per account) and the adaptive SubmitJob rate limit."""

from __future__ import annotations

import asyncio

from polysync_batch.service.ports import Clock


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

    def refund(self) -> None:
        """Gives back a token acquired for a call that was not made after all."""
        self._tokens = min(self._burst, self._tokens + 1)


class AdaptiveBudget(RateBudget):
    """A rate budget that AWS's throttling slows down (AIMD): a throttled call halves the rate,
    at most once per second however many calls were throttled together, down to a tenth of the
    configured rate; each successful call wins back a twentieth of it."""

    def __init__(self, per_second: float, burst: int, clock: Clock) -> None:
        super().__init__(per_second, burst, clock)
        self.configured = per_second
        self._floor = per_second / 10
        self._last_cut = float("-inf")

    @property
    def rate(self) -> float:
        return self._rate

    def throttled(self) -> None:
        now = self._clock.monotonic()
        if now - self._last_cut >= 1.0:
            self._last_cut = now
            self._rate = max(self._floor, self._rate / 2)

    def succeeded(self) -> None:
        self._rate = min(self.configured, self._rate + self.configured / 20)
