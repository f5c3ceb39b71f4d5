"""The watch hub of one platform: the latest known state of each run, fed by every source of
states (the poller's DescribeJobs, Get/BatchGet reads, the service's own submits and cancels,
SQS events), applied only forward (domain/ordering.py), and fanned out to every subscribed
watch stream. It is also the read cache of GetPipelineRun
and BatchGetPipelineRuns: fresh or terminal states are answered from memory, the rest in shared,
micro-batched DescribeJobs calls. Scheduling of polls is the poller's job (watch/poller.py)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from polysync_batch.config import WatchConfig
from polysync_batch.domain import errors
from polysync_batch.domain.models import Run
from polysync_batch.domain.ordering import Verdict, compare
from polysync_batch.service.ports import DescribeRuns
from polysync_batch.watch.batcher import DescribeBatcher
from polysync_batch.watch.budget import RateBudget
from polysync_batch.watch.clock import Clock, SystemClock
from polysync_batch.watch.poller import RunPoller
from polysync_batch.watch.source import Outcome, Source
from polysync_batch.watch.subscription import Subscription


@dataclass
class Entry:
    run_id: str
    run: Run | None = None
    fetched_at: float = float("-inf")
    stale_since: datetime | None = None  # when refreshing this state last failed; None once it succeeds
    submitted_at: float | None = None  # when this server submitted it (monotonic), for the submit grace
    event_time: datetime | None = None  # the event `time` of the state, when an event brought it
    subscribers: set[Subscription] = field(default_factory=set)

    @property
    def watched(self) -> bool:
        """To be polled: someone watches it, its state is known and not terminal."""
        return bool(self.subscribers) and self.run is not None and not self.run.terminal


@dataclass(frozen=True)
class HubStats:
    streams: int  # open subscriptions (one per Watch* stream)
    watched_runs: int  # non-terminal runs the poller follows
    oldest_poll_age_seconds: float  # since the last state of the longest-unrefreshed watched run


class RunHub:
    def __init__(
        self, platform: str, describe: DescribeRuns, settings: WatchConfig, clock: Clock | None = None
    ) -> None:
        self.platform = platform
        self.settings = settings
        self.clock = clock or SystemClock()
        self._describe_raw = describe
        self._budget = RateBudget(settings.describe_jobs_per_second, settings.describe_jobs_burst, self.clock)
        self._batcher = DescribeBatcher(self.describe, self.clock, settings.batch_gap_seconds)
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._closed: errors.PlatformError | None = None
        self.poller = RunPoller(self, settings, self.clock)
        self.describe_calls = 0
        self._on_close: list[Callable[[], None]] = []  # stops other sources of states (events)

    async def describe(self, run_ids: list[str]) -> list[Run]:
        """One DescribeJobs call within the platform's budget (polls and reads share it)."""
        await self._budget.acquire()
        self.describe_calls += 1
        return await self._describe_raw(run_ids)

    # -- reads ---------------------------------------------------------------------------------

    async def get(self, run_id: str) -> Run:
        run = (await self.get_many([run_id]))[run_id]
        if run is None:
            raise errors.run_not_found(run_id, self.platform)
        return run

    async def get_many(self, run_ids: list[str]) -> dict[str, Run | None]:
        """Fresh or terminal states from memory; the rest in shared DescribeJobs calls."""
        found: dict[str, Run | None] = {}
        now = self.clock.monotonic()
        misses = []
        for run_id in dict.fromkeys(run_ids):
            entry = self._entries.get(run_id)
            if (
                entry is not None
                and entry.run is not None
                and (entry.run.terminal or now - entry.fetched_at < self.settings.poll_interval_seconds)
            ):
                found[run_id] = entry.run
            else:
                misses.append(run_id)
        if misses:
            for run_id, run in (await self._batcher.get_many(misses)).items():
                if run is not None:
                    self.observe(run, Source.READ)
                elif self.in_submit_grace(run_id):
                    run = self._entries[run_id].run  # AWS has not caught up: the submit-time state
                # The hub's state: an event may have brought a newer one while the call was out.
                entry = self._entries.get(run_id)
                found[run_id] = entry.run if run is not None and entry is not None and entry.run is not None else run
        return {run_id: found[run_id] for run_id in dict.fromkeys(run_ids)}

    # -- sources of states ---------------------------------------------------------------------

    def observe(self, run: Run, source: Source, event_time: datetime | None = None) -> Outcome:
        """Records a run's state if it is newer than the one known (domain/ordering.py);
        subscribers get it when it changed, or when the known one was stale. An event
        (`source` EVENT, stamped `event_time`) for a run neither followed nor cached is
        dropped (one being subscribed to is followed): the queue carries every job of the account."""
        entry = self._entries.get(run.run_id)
        if source is Source.EVENT and (entry is None or (entry.run is None and not entry.subscribers)):
            return Outcome.UNTRACKED
        entry = self._entry(run.run_id)
        if source is Source.SUBMIT and entry.submitted_at is None:
            entry.submitted_at = self.clock.monotonic()
        verdict = Verdict.NEWER if entry.run is None else compare(run, event_time, entry.run, entry.event_time)
        was_stale = entry.stale_since is not None
        if source is not Source.EVENT:  # an answer from AWS: polling works, whatever it says
            entry.fetched_at, entry.stale_since = self.clock.monotonic(), None
        elif verdict is not Verdict.OLDER:
            entry.fetched_at = self.clock.monotonic()
        if verdict is not Verdict.OLDER:
            entry.run = run
            # Only an event's own time orders later events; after any other source the job's
            # progress does (a poll's clock is not AWS's).
            entry.event_time = event_time if source is Source.EVENT else None
        self.poller.observed(run.run_id, verdict is Verdict.NEWER, source)
        if verdict is Verdict.NEWER or (was_stale and entry.stale_since is None):
            self._notify(entry)
        return {Verdict.NEWER: Outcome.APPLIED, Verdict.SAME: Outcome.DUPLICATE, Verdict.OLDER: Outcome.STALE}[verdict]

    def on_close(self, stop: Callable[[], None]) -> None:
        """`stop` is called when the hub closes (another source of states shutting down)."""
        self._on_close.append(stop)

    def in_submit_grace(self, run_id: str) -> bool:
        """Whether this server submitted the run within `submit_grace_seconds`: while AWS does
        not know it yet, it is not NOT_FOUND."""
        entry = self._entries.get(run_id)
        return (
            entry is not None
            and entry.submitted_at is not None
            and entry.run is not None
            and self.clock.monotonic() - entry.submitted_at < self.settings.submit_grace_seconds
        )

    def mark_stale(self, run_ids: list[str]) -> None:
        """Refreshing these states failed: every message says so until one succeeds."""
        for run_id in run_ids:
            entry = self._entries.get(run_id)
            if entry is not None and entry.stale_since is None:
                entry.stale_since = self.clock.wall()
                self._notify(entry)

    def forget(self, run_id: str, error: errors.PlatformError) -> None:
        """Ends every watch of the run with `error` and drops its state."""
        entry = self._entries.pop(run_id, None)
        self.poller.forget(run_id)
        if entry is not None:
            for subscription in list(entry.subscribers):
                subscription.fail(error)
                self.unsubscribe(subscription)

    # -- watching ------------------------------------------------------------------------------

    async def subscribe(self, run_ids: list[str]) -> Subscription:
        """A subscription whose first events are the runs' current states. Unknown ids raise
        RUN_NOT_FOUND; a closed hub raises its closing error."""
        if self._closed is not None:
            raise self._closed
        subscription = Subscription(run_ids)
        for run_id in subscription.run_ids:  # subscribed first, so no change can slip between
            self._entry(run_id).subscribers.add(subscription)
        try:
            current = await self.get_many(subscription.run_ids)
        except BaseException:
            self.unsubscribe(subscription)
            raise
        missing = [run_id for run_id, run in current.items() if run is None]
        if missing:
            self.unsubscribe(subscription)
            raise errors.run_not_found(", ".join(missing), self.platform)
        for run_id, run in current.items():
            entry = self._entries[run_id]
            subscription.deliver(entry.run or run, entry.stale_since)
        self.poller.start(subscription.run_ids)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        for run_id in subscription.run_ids:
            entry = self._entries.get(run_id)
            if entry is not None:
                entry.subscribers.discard(subscription)

    def close(self, error: errors.PlatformError) -> None:
        """Ends every subscription with `error` (on shutdown: UNAVAILABLE) and stops polling."""
        self._closed = error
        for entry in self._entries.values():
            for subscription in list(entry.subscribers):
                subscription.fail(error)
        self.poller.close()
        for stop in self._on_close:
            stop()

    @property
    def closed(self) -> bool:
        return self._closed is not None

    def watched(self) -> list[str]:
        """Ids of the runs to poll."""
        return [entry.run_id for entry in self._entries.values() if entry.watched]

    @property
    def watched_runs(self) -> int:
        return sum(1 for entry in self._entries.values() if entry.watched)

    def stats(self) -> HubStats:
        """For the metrics gauges, read at scrape time (nothing is counted on the hot path)."""
        streams: set[Subscription] = set()
        watched, oldest = 0, None
        for entry in self._entries.values():
            streams.update(entry.subscribers)
            if entry.watched:
                watched += 1
                oldest = entry.fetched_at if oldest is None else min(oldest, entry.fetched_at)
        age = 0.0 if oldest is None else max(0.0, self.clock.monotonic() - oldest)
        return HubStats(streams=len(streams), watched_runs=watched, oldest_poll_age_seconds=age)

    # -- state ---------------------------------------------------------------------------------

    def _entry(self, run_id: str) -> Entry:
        entry = self._entries.get(run_id)
        if entry is None:
            entry = self._entries[run_id] = Entry(run_id)
            self._evict()
        self._entries.move_to_end(run_id)
        return entry

    def _evict(self) -> None:
        """Bounded memory: forget the least recently used runs nobody watches."""
        excess = len(self._entries) - self.settings.max_cached_runs
        if excess <= 0:  # (without this, every new run cost a scan of every cached one)
            return
        for run_id in [r for r, e in self._entries.items() if not e.subscribers][: max(0, excess)]:
            del self._entries[run_id]
            self.poller.forget(run_id)

    def _notify(self, entry: Entry) -> None:
        if entry.run is not None:
            for subscription in list(entry.subscribers):
                subscription.deliver(entry.run, entry.stale_since)
