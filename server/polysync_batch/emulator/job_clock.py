"""The only place the emulator reads the time (epoch seconds), so tests can substitute their own."""

import threading
import time
from typing import Protocol


class JobClock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch."""
        ...


class SystemJobClock:
    """Epoch seconds that never go backwards.

    Anchored to the wall clock once, then advanced by the monotonic clock, so a wall-clock step
    (NTP, suspend) cannot make a job's state move backwards between two reads.
    """

    def __init__(self) -> None:
        self._wall_anchor = time.time()
        self._monotonic_anchor = time.monotonic()

    def now(self) -> float:
        return self._wall_anchor + (time.monotonic() - self._monotonic_anchor)


class ManualJobClock:
    """A clock that moves only when told, for tests that want exact states without sleeping.

    Starts at the real time because CloudWatch Logs rejects events older than 14 days.
    """

    def __init__(self) -> None:
        self._now = time.time()
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds
