"""A source of run states: DescribeJobs polls of one platform's watched runs. Each unfinished
run the sink says is watched is polled on its own adaptive schedule (the interval grows while
nothing changes), at most 100 ids per call, however many streams watch it. Results go to the
sink (the hub), which fans them out; transient AWS errors mark the states stale and back off
with jitter. While the platform's event queue answers (watch/event_source.py), polling is only
reconciliation: every run waits `events.reconcile_interval_seconds` between polls, and a run the
feed's discovery round found unchanged is not read again before its next rounds (`confirmed`).

The poller is wired in bootstrap.py: it reads through the platform's reader (`read`), reports to
a `RunSink`, and is the hub's `Follower` (told what became watched, was seen, was dropped)."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from polysync_batch.config import WatchConfig
from polysync_batch.domain import errors
from polysync_batch.domain.backoff import backoff
from polysync_batch.domain.models import Run
from polysync_batch.service.ports import DESCRIBE_LIMIT, Clock, Outcome, Source
from polysync_batch.watch.clock import Wakeup

log = logging.getLogger(__name__)
# The poller's reads: the platform's DescribeReader.read with the poller's own fair-share key.
PollRead = Callable[[list[str]], Awaitable[dict[str, Run | None]]]


class RunSink(Protocol):
    """Where the poller's findings go (the hub)."""

    def watched(self) -> list[str]: ...
    def observe(self, run: Run, source: Source, event_time: datetime | None = None) -> Outcome: ...
    def mark_stale(self, run_ids: list[str]) -> None: ...
    def forget(self, run_id: str, error: errors.PlatformError) -> None: ...
    def in_submit_grace(self, run_id: str) -> bool: ...


# AWS errors that do not end a watch: the state is marked stale and polling backs off.
TRANSIENT = (errors.Unavailable, errors.ResourceExhausted)


@dataclass
class Schedule:
    interval: float
    next_poll: float
    misses: int = 0  # consecutive polls that did not find the run


class RunPoller:
    def __init__(self, platform: str, sink: RunSink, read: PollRead, settings: WatchConfig, clock: Clock) -> None:
        self._platform = platform
        self._sink = sink
        self._read = read
        self._closed = False
        self._settings = settings
        self._clock = clock
        self._schedules: dict[str, Schedule] = {}
        self._wakeup = Wakeup()
        # When the loop's current wait ends (inf: no watched run; None: not waiting). A new
        # schedule wakes the loop only if it is due sooner, so N subscribes do not cost N scans
        # of every watched run.
        self._wake_at: float | None = None
        self._task: asyncio.Task | None = None
        self._failures = 0
        self._reconcile_interval: float | None = None  # set while events flow

    def reconcile_every(self, seconds: float | None) -> None:
        """Events flow (`seconds`: the reconcile interval) or stopped flowing (None: back to
        `watch.poll_interval_seconds` at once). Each schedule is re-anchored on its last poll, so
        runs that waited longer than the new interval are polled now."""
        if seconds == self._reconcile_interval:
            return
        self._reconcile_interval = seconds
        interval, now = self._base_interval(), self._clock.monotonic()
        for schedule in self._schedules.values():
            last = schedule.next_poll - schedule.interval
            schedule.interval, schedule.next_poll = (
                interval,
                max(now, last + interval) if seconds else min(schedule.next_poll, last + interval),
            )
        self._wakeup.wake()

    def _base_interval(self) -> float:
        return self._reconcile_interval or self._settings.poll_interval_seconds

    # -- the hub's Follower ---------------------------------------------------------------------

    def seen(self, run_id: str, changed: bool, source: Source) -> None:
        """A new state of the run reached the hub: poll soon after a change or the service's own
        submit/cancel, later and later while nothing changes."""
        interval = self._base_interval()
        schedule = self._schedules.get(run_id)
        if (
            self._reconcile_interval is None
            and schedule is not None
            and not changed
            and source in (Source.POLL, Source.READ)
        ):
            interval = min(self._settings.max_poll_interval_seconds, schedule.interval * self._settings.interval_growth)
        self._schedules[run_id] = schedule = Schedule(interval, self._clock.monotonic() + interval)
        self._wake_before(schedule.next_poll)

    def confirmed(self, run_ids: list[str], seconds: float) -> None:
        """Another reconcile (the feed's discovery round, feed/discovery.py) found these runs
        unchanged: while events flow, a watched one among them is not read again for `seconds`,
        so a run both watched and in the feed costs one reconcile, not two. (Without events
        polling is how changes are found, at its own pace.) The schedule is anchored on now, so
        if events stop the run is polled `watch.poll_interval_seconds` after this."""
        if self._reconcile_interval is None or self._failures:
            return  # (while DescribeJobs fails, the poller's retries are what clears the stale marks)
        now = self._clock.monotonic()
        for run_id in run_ids:
            schedule = self._schedules.get(run_id)
            if schedule is not None and schedule.next_poll < now + seconds:
                self._schedules[run_id] = Schedule(seconds, now + seconds)

    def dropped(self, run_id: str) -> None:
        self._schedules.pop(run_id, None)

    def followed(self, run_ids: list[str]) -> None:
        """Polling runs (it starts with the first watch); `run_ids` just became watched."""
        if self._closed:
            return
        if self._task is None or self._task.done():
            # A context of its own: the loop outlives the call that started it, so its AWS calls
            # belong to no RPC (no trace parent, no call record).
            self._task = asyncio.get_running_loop().create_task(self._loop(), context=contextvars.Context())
        for run_id in run_ids:
            self._wake_before(self._schedule(run_id).next_poll)

    def _wake_before(self, when: float) -> None:
        if self._wake_at is not None and when < self._wake_at:
            self._wakeup.wake()

    def close(self) -> None:
        self._closed = True
        if self._task is not None:
            self._task.cancel()

    async def _loop(self) -> None:
        while not self._closed:
            active = [(run_id, self._schedule(run_id)) for run_id in self._sink.watched()]
            if not active:
                await self._wait(float("inf"))
                continue
            now = self._clock.monotonic()
            due = [item for item in active if item[1].next_poll <= now]
            if not due:
                await self._wait(min(s.next_poll for _, s in active))
                continue
            await self._poll(self._fill(due, active))

    async def _wait(self, until: float) -> None:
        self._wake_at = until
        try:
            await self._wakeup.wait(self._clock, None if until == float("inf") else until - self._clock.monotonic())
        finally:
            self._wake_at = None

    def _schedule(self, run_id: str) -> Schedule:
        schedule = self._schedules.get(run_id)
        if schedule is None:  # known to the hub before the poller heard of it
            interval = self._base_interval()
            schedule = self._schedules[run_id] = Schedule(interval, self._clock.monotonic() + interval)
        return schedule

    @staticmethod
    def _fill(due: list[tuple[str, Schedule]], active: list[tuple[str, Schedule]]) -> list[str]:
        """Due runs, topped up with the soonest-due others so the last call is not half empty."""
        ids = [run_id for run_id, _ in due]
        room = -len(ids) % DESCRIBE_LIMIT
        if room:
            due_ids = set(ids)
            soon = sorted((item for item in active if item[0] not in due_ids), key=lambda item: item[1].next_poll)
            ids += [run_id for run_id, _ in soon[:room]]
        return ids

    async def _poll(self, run_ids: list[str]) -> None:
        chunks = [run_ids[i : i + DESCRIBE_LIMIT] for i in range(0, len(run_ids), DESCRIBE_LIMIT)]
        results = await asyncio.gather(*(self._poll_chunk(chunk) for chunk in chunks), return_exceptions=True)
        for chunk, result in zip(chunks, results, strict=False):
            if isinstance(result, BaseException):
                self._on_error(chunk, result)
        if all(not isinstance(r, BaseException) for r in results):
            self._failures = 0

    async def _poll_chunk(self, chunk: list[str]) -> None:
        runs = await self._read(chunk)
        now = self._clock.monotonic()
        for run_id in chunk:
            run = runs.get(run_id)
            if run is not None:
                self._sink.observe(run, Source.POLL)
                continue
            schedule = self._schedule(run_id)
            schedule.next_poll = now + self._settings.poll_interval_seconds
            if self._sink.in_submit_grace(run_id):
                continue  # AWS has not caught up with our own submit yet: keep polling
            schedule.misses += 1
            if schedule.misses >= self._settings.not_found_after_polls:
                self._sink.forget(run_id, errors.run_not_found(run_id, self._platform))

    def _on_error(self, chunk: list[str], error: BaseException) -> None:
        if isinstance(error, TRANSIENT):
            self._failures += 1
            delay = backoff(self._failures, self._settings.poll_interval_seconds, self._settings.max_backoff_seconds)
            retry_at = self._clock.monotonic() + delay
            self._sink.mark_stale(chunk)
            for run_id in chunk:
                self._schedule(run_id).next_poll = retry_at
            reason = getattr(error, "reason", type(error).__name__)
            log.warning(
                "platform %s: DescribeJobs failed (%s); retrying in %.1f s",
                self._platform,
                reason,
                delay,
                extra={
                    "fields": {
                        "event": "poll_backoff",
                        "platform": self._platform,
                        "reason": str(reason),
                        "runs": len(chunk),
                        "backoff_seconds": round(delay, 2),
                    }
                },
            )
            return
        failure = (
            error
            if isinstance(error, errors.PlatformError)
            else errors.internal("internal error while polling AWS Batch")
        )
        if not isinstance(error, errors.PlatformError):
            log.error(
                "platform %s: polling failed",
                self._platform,
                exc_info=error,
                extra={"fields": {"event": "poll_failed", "platform": self._platform}},
            )
        for run_id in chunk:
            self._sink.forget(run_id, failure)
