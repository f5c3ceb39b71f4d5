"""One watch stream's view of its runs: a bounded buffer that keeps only the latest undelivered
state per run, so a client that reads slowly delays nobody, may miss intermediate states, but
always gets the terminal state (it is the last one)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from polysync_batch.domain.errors import PlatformError
from polysync_batch.domain.models import Run
from polysync_batch.service.ports import Clock, Timer, WatchEvent
from polysync_batch.watch.clock import Wakeup

__all__ = ["Subscription", "WatchEvent"]


class Subscription:
    # Thousands exist at once: slots keep each one small.
    __slots__ = (
        "run_ids",
        "_pending",
        "_delivered",
        "_last",
        "_finished",
        "_error",
        "_wakeup",
        "_sequence",
        "_timer",
        "_quiet_since",
        "_clock",
        "_every",
        "__weakref__",
    )

    def __init__(self, run_ids: list[str]) -> None:
        self.run_ids = list(dict.fromkeys(run_ids))
        # Each run's latest undelivered state: (run, stale_since), made a WatchEvent once yielded.
        self._pending: dict[str, tuple[Run, datetime | None]] = {}
        self._delivered: dict[str, tuple] = {}
        self._last: tuple[Run, datetime | None] | None = None  # the last state yielded, repeated by heartbeats
        self._finished: set[str] = set()  # runs whose terminal state was yielded
        self._error: PlatformError | None = None
        self._wakeup = Wakeup()
        self._sequence = 0
        # The heartbeat timer: armed once per quiet period and moved on (not re-made) when a
        # message went out meanwhile, rather than one timer made and cancelled per message.
        self._timer: Timer | None = None
        self._quiet_since = 0.0  # when the current wait for a message began (clock.monotonic)
        self._clock: Clock | None = None
        self._every = 0.0  # heartbeat_seconds

    def deliver(
        self, run: Run, stale_since: datetime | None = None, again: bool = False, change_key: tuple | None = None
    ) -> None:
        """Queues the run's state unless it is the one this stream last saw (`again`: even then,
        when what the service adds to it changed, e.g. a blocked queue's warning). `change_key`:
        `run.change_key()`, when the caller has it (the hub, once for every stream of the run)."""
        key = (run.change_key() if change_key is None else change_key, stale_since)
        if (self._delivered.get(run.run_id) == key and not again) or run.run_id in self._finished:
            return
        self._delivered[run.run_id] = key
        self._pending[run.run_id] = (run, stale_since)
        self._wakeup.wake()

    def fail(self, error: PlatformError) -> None:
        if self._error is None:
            self._error = error
            self._wakeup.wake()

    @property
    def done(self) -> bool:
        return len(self._finished) == len(self.run_ids)

    async def events(self, clock: Clock, heartbeat_seconds: float) -> AsyncIterator[WatchEvent]:
        """Yields states as they come and a heartbeat after each quiet `heartbeat_seconds`;
        returns once every run's terminal state is out, raises the error that ended the watch."""
        self._clock, self._every = clock, heartbeat_seconds
        try:
            while not self.done:
                if self._pending:
                    run_id = next(iter(self._pending))
                    state = self._pending.pop(run_id)
                    if state[0].terminal:
                        self._finished.add(run_id)
                    self._last = state
                    yield self._numbered(state[0], state[1], heartbeat=False)
                    continue
                if self._error is not None:
                    raise self._error
                self._quiet_since = clock.monotonic()
                if self._timer is None:
                    self._timer = clock.call_later(heartbeat_seconds, self._quiet_for_long)
                if not await self._wakeup.wait(clock):
                    yield self._heartbeat()
        finally:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def _quiet_for_long(self) -> None:
        """The heartbeat timer: a heartbeat is due once the current wait has lasted
        heartbeat_seconds; a wait that began later moves the timer on."""
        self._timer = None
        if not self._wakeup.waiting or self._clock is None:
            return  # the stream is busy: its next wait arms the timer again
        left = self._quiet_since + self._every - self._clock.monotonic()
        if left > 1e-6:
            self._timer = self._clock.call_later(left, self._quiet_for_long)
        else:
            self._wakeup.wake(False)

    def _numbered(self, run: Run | None, stale_since: datetime | None, heartbeat: bool) -> WatchEvent:
        """The stream's next message: one WatchEvent with the next sequence number."""
        self._sequence += 1
        return WatchEvent(run, stale_since, heartbeat, self._sequence)

    def _heartbeat(self) -> WatchEvent:
        """A stream of one run repeats the last state it yielded; others send a bare heartbeat."""
        if len(self.run_ids) == 1 and self._last is not None:
            return self._numbered(self._last[0], self._last[1], heartbeat=True)
        return self._numbered(None, None, heartbeat=True)
