"""The server's clock (the `Clock` port of service/ports.py) and a timer-based wake-up for
the watch machinery. Tests inject tests/manual_clock.py's ManualClock instead."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime

from polysync_batch.service.ports import Clock, Timer

__all__ = ["Clock", "SystemClock", "Timer", "Wakeup"]


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> datetime:
        return datetime.now(UTC)

    def call_later(self, seconds: float, callback: Callable[[], None]) -> Timer:
        return asyncio.get_running_loop().call_later(max(0.0, seconds), callback)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class Wakeup:
    """Wakes one waiter, or lets its wait time out on a clock. A timer rather than a task per
    wait, because thousands of watch streams wait at once. Edge-triggered: a wake with no one
    waiting is dropped, so waiters check their state before they wait."""

    __slots__ = ("_waiter",)

    def __init__(self) -> None:
        self._waiter: asyncio.Future[bool] | None = None

    @property
    def waiting(self) -> bool:
        """Whether someone waits now (a wake would reach it)."""
        return self._waiter is not None and not self._waiter.done()

    def wake(self, woken: bool = True) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(woken)

    async def wait(self, clock: Clock, seconds: float | None = None) -> bool:
        """True when woken, False when `seconds` passed first (None: no time-out)."""
        self._waiter = asyncio.get_running_loop().create_future()
        timer = clock.call_later(seconds, lambda: self.wake(False)) if seconds is not None else None
        try:
            return await self._waiter
        finally:
            if timer is not None:
                timer.cancel()
            self._waiter = None
