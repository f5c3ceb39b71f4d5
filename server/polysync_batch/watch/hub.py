"""The watch hub of one platform — the `RunStates` port of service/ports.py: the latest known
state of each run, fed by every source of states (the poller, reads, the service's own submits
and cancels, SQS events), applied only forward (domain/ordering.py), recorded in each run's
bounded history, and fanned out to every subscribed watch stream and change listener. It is
also the read cache of GetPipelineRun and BatchGetPipelineRuns: fresh or terminal states are
answered from memory, the rest read through the platform's one DescribeJobs reader.

The hub owns no source. Sources are wired in bootstrap.py: they call `observe` (and the poller
`mark_stale`, `forget`, `watched`, `in_submit_grace`: the `RunSink` of watch/poller.py); a
`Follower` (the poller) is told which runs became watched, what was seen, what was dropped.

Memory is bounded at any age: runs nobody watches sit in an LRU of at most
`watch.max_cached_runs` (adding one at the bound drops the least recently used: O(1), no scan);
ids AWS does not know are never kept; watched runs always are."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from polysync_batch.config import WatchConfig
from polysync_batch.domain import errors
from polysync_batch.domain.models import Run, StatusChange
from polysync_batch.domain.ordering import Verdict, compare
from polysync_batch.service.ports import ChangeListener, Clock, Outcome, Source, WatchEvent, WatchStats
from polysync_batch.watch.subscription import Subscription

# Status changes kept per run (the oldest are dropped).
MAX_HISTORY = 64
# Reads of runs from AWS: the platform's DescribeReader.read (watch/reader.py).
ReadRuns = Callable[[list[str]], Awaitable[dict[str, Run | None]]]
# Kept for callers of the old name.
HubStats = WatchStats
_OUTCOMES = {Verdict.NEWER: Outcome.APPLIED, Verdict.SAME: Outcome.DUPLICATE, Verdict.OLDER: Outcome.STALE}


class Follower(Protocol):
    """What the hub tells a source that follows watched runs (the poller)."""

    def followed(self, run_ids: list[str]) -> None:
        """These runs just became watched."""

    def seen(self, run_id: str, changed: bool, source: Source) -> None:
        """A state of the run reached the hub (`changed`: a new one)."""

    def dropped(self, run_id: str) -> None:
        """The hub forgot the run."""


@dataclass(eq=False)
class Entry:
    run_id: str
    run: Run | None = None
    fetched_at: float = float("-inf")
    stale_since: datetime | None = None  # when refreshing this state last failed; None once it succeeds
    submitted_at: float | None = None  # when this server submitted it (monotonic), for the submit grace
    event_time: datetime | None = None  # the event `time` of the state, when an event brought it
    history: tuple[StatusChange, ...] = ()
    subscribers: set[Subscription] = field(default_factory=set)

    @property
    def watched(self) -> bool:
        """To be polled: someone watches it, its state is known and not terminal."""
        return bool(self.subscribers) and self.run is not None and not self.run.terminal


class RunHub:
    def __init__(self, platform: str, read: ReadRuns, settings: WatchConfig, clock: Clock) -> None:
        self.platform = platform
        self.clock = clock
        self._read = read
        self._fresh_for = settings.poll_interval_seconds
        self._heartbeat = settings.heartbeat_seconds
        self._grace = settings.submit_grace_seconds
        self._max_cached = settings.max_cached_runs
        self._entries: dict[str, Entry] = {}  # every run known
        self._idle: OrderedDict[str, None] = OrderedDict()  # runs nobody watches, least recently used first
        self._subscribed: dict[str, Entry] = {}  # runs someone watches (never evicted)
        self._subscribing: dict[str, int] = {}  # ids whose new watch is reading them: their events count
        self._followers: list[Follower] = []
        self._listeners: list[ChangeListener] = []
        self._admits: Callable[[Run], bool] = lambda run: False  # events applied for untracked runs
        self._on_close: list[Callable[[], None]] = []
        self._closed: errors.PlatformError | None = None

    # -- wiring (bootstrap.py) -----------------------------------------------------------------

    def follow(self, follower: Follower) -> None:
        self._followers.append(follower)

    def on_change(self, listener: ChangeListener) -> None:
        """The change hook: `listener(run, source, time)` is called, in order, for every applied
        change (a state newer than the one known) from any source, with the run as now known
        (history included), where it came from, and when (the event's time, else the clock's
        wall time). Listeners run on the event loop inside `observe`: they must be quick and
        must not raise (an exception is the caller's)."""
        self._listeners.append(listener)

    def admit_events(self, admits: Callable[[Run], bool]) -> None:
        """Events of runs `admits` accepts are applied even when nobody follows or caches the run
        (the feed's queues, SPEC §12); other untracked events are still dropped."""
        self._admits = admits

    def on_close(self, stop: Callable[[], None]) -> None:
        """`stop` is called when the hub closes (a source shutting down)."""
        self._on_close.append(stop)

    # -- reads ---------------------------------------------------------------------------------

    async def get(self, run_id: str) -> Run:
        run = (await self.get_many([run_id]))[run_id]
        if run is None:
            raise errors.run_not_found(run_id, self.platform)
        return run

    async def get_many(self, run_ids: list[str]) -> dict[str, Run | None]:
        """Fresh or terminal states from memory; the rest read (shared DescribeJobs calls)."""
        found: dict[str, Run | None] = {}
        now = self.clock.monotonic()
        misses = []
        for run_id in dict.fromkeys(run_ids):
            entry = self._entries.get(run_id)
            if (
                entry is not None
                and entry.run is not None
                and (entry.run.terminal or now - entry.fetched_at < self._fresh_for)
            ):
                self._touch(entry)
                found[run_id] = entry.run
            else:
                misses.append(run_id)
        if misses:
            found.update(await self.fetch(misses, Source.READ))
        return {run_id: found[run_id] for run_id in dict.fromkeys(run_ids)}

    async def fetch(self, run_ids: list[str], source: Source) -> dict[str, Run | None]:
        """Reads the runs from AWS now and records what it finds as `source`."""
        found: dict[str, Run | None] = {}
        for run_id, run in (await self._read(run_ids)).items():
            if run is not None:
                self.observe(run, source)
            elif self.in_submit_grace(run_id):
                run = self._entries[run_id].run  # AWS has not caught up: the submit-time state
            # The hub's state: an event may have brought a newer one while the call was out.
            entry = self._entries.get(run_id)
            found[run_id] = entry.run if run is not None and entry is not None and entry.run is not None else run
        return found

    # -- sources of states ---------------------------------------------------------------------

    def observe(self, run: Run, source: Source, event_time: datetime | None = None) -> Outcome:
        """Records a run's state if it is newer than the one known (domain/ordering.py);
        subscribers get it when it changed, or when the known one was stale. An event
        (`source` EVENT, stamped `event_time`) for a run neither followed nor cached is
        dropped (one being subscribed to is followed): the queue carries every job of the account."""
        entry = self._entries.get(run.run_id)
        if source is Source.EVENT and entry is None and run.run_id not in self._subscribing and not self._admits(run):
            return Outcome.UNTRACKED
        if entry is None:
            entry = self._add(run.run_id)
        else:
            self._touch(entry)
        if source is Source.SUBMIT and entry.submitted_at is None:
            entry.submitted_at = self.clock.monotonic()
        verdict = Verdict.NEWER if entry.run is None else compare(run, event_time, entry.run, entry.event_time)
        was_stale = entry.stale_since is not None
        if source is not Source.EVENT:  # an answer from AWS: polling works, whatever it says
            entry.fetched_at, entry.stale_since = self.clock.monotonic(), None
        elif verdict is not Verdict.OLDER:
            entry.fetched_at = self.clock.monotonic()
        if verdict is not Verdict.OLDER:
            previous = entry.run
            if previous is None or (previous.native_status, previous.status_reason) != (
                run.native_status,
                run.status_reason,
            ):
                change = StatusChange(run.native_status, run.status_reason, event_time or self.clock.wall())
                entry.history = (entry.history + (change,))[-MAX_HISTORY:]
            entry.run = run.with_history(entry.history)
            # Only an event's own time orders later events; after any other source the job's
            # progress does (a poll's clock is not AWS's).
            entry.event_time = event_time if source is Source.EVENT else None
        for follower in self._followers:
            follower.seen(run.run_id, verdict is Verdict.NEWER, source)
        if verdict is Verdict.NEWER:
            for listener in self._listeners:
                listener(entry.run, source, event_time or self.clock.wall())
        if verdict is Verdict.NEWER or (was_stale and entry.stale_since is None):
            self._notify(entry)
        return _OUTCOMES[verdict]

    def in_submit_grace(self, run_id: str) -> bool:
        """Whether this server submitted the run within `submit_grace_seconds`: while AWS does
        not know it yet, it is not NOT_FOUND."""
        entry = self._entries.get(run_id)
        return (
            entry is not None
            and entry.submitted_at is not None
            and entry.run is not None
            and self.clock.monotonic() - entry.submitted_at < self._grace
        )

    def redeliver(self, matches: Callable[[Run], bool]) -> None:
        """Sends every watched run `matches` accepts to its watchers again, unchanged: what the
        service adds to it on the way out changed (service/blocked_queues.py's warning)."""
        for entry in list(self._subscribed.values()):
            if entry.run is not None and matches(entry.run):
                for subscription in list(entry.subscribers):
                    subscription.deliver(entry.run, entry.stale_since, again=True)

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
        self._idle.pop(run_id, None)
        self._subscribed.pop(run_id, None)
        for follower in self._followers:
            follower.dropped(run_id)
        if entry is not None:
            for subscription in list(entry.subscribers):
                subscription.fail(error)
                self.unsubscribe(subscription)

    # -- watching ------------------------------------------------------------------------------

    def watch(self, run_ids: list[str]) -> _Watch:
        """`async with hub.watch(ids) as events`: subscribes on entry, unsubscribes on exit."""
        return _Watch(self, run_ids)

    async def subscribe(self, run_ids: list[str]) -> Subscription:
        """A subscription whose first events are the runs' current states. Unknown ids raise
        RUN_NOT_FOUND (and are not kept); a closed hub raises its closing error."""
        if self._closed is not None:
            raise self._closed
        subscription = Subscription(run_ids)
        for run_id in subscription.run_ids:  # events for them count while they are read
            self._subscribing[run_id] = self._subscribing.get(run_id, 0) + 1
        try:
            current = await self.get_many(subscription.run_ids)
        finally:
            for run_id in subscription.run_ids:
                left = self._subscribing[run_id] - 1
                if left:
                    self._subscribing[run_id] = left
                else:
                    del self._subscribing[run_id]
        missing = [run_id for run_id, run in current.items() if run is None]
        if missing:
            raise errors.run_not_found(", ".join(missing), self.platform)
        if self._closed is not None:
            raise self._closed
        for run_id, run in current.items():
            entry = self._entries.get(run_id)
            if entry is None or entry.run is None:  # evicted meanwhile
                self.observe(run, Source.READ)
                entry = self._entries[run_id]
            if not entry.subscribers:
                self._idle.pop(run_id, None)
                self._subscribed[run_id] = entry
            entry.subscribers.add(subscription)
            # The hub's state, which may be newer than the read (an event came meanwhile).
            subscription.deliver(entry.run, entry.stale_since)
        for follower in self._followers:
            follower.followed(subscription.run_ids)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        for run_id in subscription.run_ids:
            entry = self._entries.get(run_id)
            if entry is not None and subscription in entry.subscribers:
                entry.subscribers.discard(subscription)
                if not entry.subscribers:
                    self._subscribed.pop(run_id, None)
                    self._idle[run_id] = None
                    self._evict()

    def close(self, error: errors.PlatformError) -> None:
        """Ends every subscription with `error` (on shutdown: UNAVAILABLE) and stops every source."""
        self._closed = error
        for entry in list(self._subscribed.values()):
            for subscription in list(entry.subscribers):
                subscription.fail(error)
        for stop in self._on_close:
            stop()

    @property
    def closed(self) -> bool:
        return self._closed is not None

    def watched(self) -> list[str]:
        """Ids of the runs to poll (subscribed, known, not terminal)."""
        return [run_id for run_id, entry in self._subscribed.items() if entry.watched]

    @property
    def watched_runs(self) -> int:
        return sum(1 for entry in self._subscribed.values() if entry.watched)

    def stats(self) -> WatchStats:
        """For the metrics gauges, read at scrape time (nothing is counted on the hot path)."""
        streams: set[Subscription] = set()
        watched, oldest = 0, None
        for entry in self._subscribed.values():
            streams.update(entry.subscribers)
            if entry.watched:
                watched += 1
                oldest = entry.fetched_at if oldest is None else min(oldest, entry.fetched_at)
        age = 0.0 if oldest is None else max(0.0, self.clock.monotonic() - oldest)
        return WatchStats(streams=len(streams), watched_runs=watched, oldest_poll_age_seconds=age)

    # -- state ---------------------------------------------------------------------------------

    def _add(self, run_id: str) -> Entry:
        entry = self._entries[run_id] = Entry(run_id)
        self._idle[run_id] = None
        self._evict()
        return entry

    def _touch(self, entry: Entry) -> None:
        if not entry.subscribers:
            self._idle.move_to_end(entry.run_id)

    def _evict(self) -> None:
        """Bounded memory: forget the least recently used runs nobody watches (O(1) each)."""
        while len(self._entries) > self._max_cached and len(self._idle) > 1:
            run_id, _ = self._idle.popitem(last=False)
            del self._entries[run_id]
            for follower in self._followers:
                follower.dropped(run_id)

    def _notify(self, entry: Entry) -> None:
        if entry.run is not None and entry.subscribers:
            key = entry.run.change_key()
            for subscription in list(entry.subscribers):
                subscription.deliver(entry.run, entry.stale_since, change_key=key)


class _Watch:
    """One watch of the hub, as an async context manager. A class rather than an
    asynccontextmanager: tens of thousands are open at once, and a generator (its frame, its
    registration with the loop) costs several times this object (bench/README.md)."""

    __slots__ = ("_hub", "_run_ids", "_subscription")

    def __init__(self, hub: RunHub, run_ids: list[str]) -> None:
        self._hub = hub
        self._run_ids = run_ids
        self._subscription: Subscription | None = None

    async def __aenter__(self) -> AsyncIterator[WatchEvent]:
        self._subscription = await self._hub.subscribe(self._run_ids)
        return self._subscription.events(self._hub.clock, self._hub._heartbeat)

    async def __aexit__(self, *exc_info: object) -> None:
        if self._subscription is not None:
            self._hub.unsubscribe(self._subscription)
            self._subscription = None
