"""One poller per platform: every watched, unfinished run is polled with DescribeJobs (at most
100 ids per call) on its own adaptive schedule, however many streams watch it, and each new
state fans out to every subscriber. Gets are answered from fresh state or micro-batched."""

from __future__ import annotations

import asyncio
import logging
import random
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from polysync_batch.aws.gateway import DESCRIBE_JOBS_LIMIT
from polysync_batch.domain import errors
from polysync_batch.domain.models import Run
from polysync_batch.watch.batcher import DescribeBatcher
from polysync_batch.watch.budget import RateBudget
from polysync_batch.watch.clock import Clock, SystemClock, Wakeup
from polysync_batch.watch.subscription import Subscription

log = logging.getLogger(__name__)
# AWS errors that do not end a watch: the state is marked stale and polling backs off.
TRANSIENT = (errors.Unavailable, errors.ResourceExhausted)


@dataclass(frozen=True)
class WatchSettings:
    min_interval_seconds: float = 5.0  # right after a submit or a change
    max_interval_seconds: float = 30.0  # for runs that have not changed in a long while
    interval_growth: float = 1.5  # each unchanged poll stretches the interval by this factor
    heartbeat_seconds: float = 30.0  # under the 60 s idle timeout of AWS load balancers
    not_found_after_polls: int = 3
    describe_jobs_per_second: float = 10.0
    describe_jobs_burst: int = 20
    batch_gap_seconds: float = 0.02  # under load, at most one partial DescribeJobs batch per gap
    max_backoff_seconds: float = 60.0
    max_cached_runs: int = 100_000


@dataclass
class Tracked:
    run_id: str
    run: Run | None = None
    fetched_at: float = float("-inf")
    next_poll: float = float("inf")  # set by the first state; until then the run is not polled
    interval: float = 0.0
    misses: int = 0
    stale_since: datetime | None = None
    subscribers: set[Subscription] = field(default_factory=set)


Describe = Callable[[list[str]], Awaitable[list[Run]]]


class RunPoller:
    def __init__(self, platform: str, describe: Describe, settings: WatchSettings = WatchSettings(),
                 clock: Clock | None = None) -> None:
        self.platform = platform
        self.settings = settings
        self.clock = clock or SystemClock()
        self._describe_raw = describe
        self._budget = RateBudget(settings.describe_jobs_per_second, settings.describe_jobs_burst, self.clock)
        self._batcher = DescribeBatcher(self._describe, self.clock, settings.batch_gap_seconds)
        self._tracked: OrderedDict[str, Tracked] = OrderedDict()
        self._wakeup = Wakeup()
        self._task: asyncio.Task | None = None
        self._failures = 0
        self._closed: errors.PlatformError | None = None
        self.describe_calls = 0

    # -- look-ups ------------------------------------------------------------------------------

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
            tracked = self._tracked.get(run_id)
            if tracked is not None and tracked.run is not None and (
                    tracked.run.terminal or now - tracked.fetched_at < self.settings.min_interval_seconds):
                found[run_id] = tracked.run
            else:
                misses.append(run_id)
        if misses:
            for run_id, run in (await self._batcher.get_many(misses)).items():
                if run is not None:
                    self._update(self._track(run_id), run)
                found[run_id] = run
        return {run_id: found[run_id] for run_id in dict.fromkeys(run_ids)}

    def prime(self, run: Run) -> None:
        """Records a state just read elsewhere (after a submit or cancel) and polls it soon."""
        tracked = self._track(run.run_id)
        self._update(tracked, run)
        tracked.interval = self.settings.min_interval_seconds
        tracked.next_poll = self.clock.monotonic() + tracked.interval
        self._wakeup.wake()

    # -- watching ------------------------------------------------------------------------------

    async def subscribe(self, run_ids: list[str]) -> Subscription:
        """A subscription whose first events are the runs' current states. Unknown ids raise
        RUN_NOT_FOUND; a closed poller raises its closing error."""
        if self._closed is not None:
            raise self._closed
        subscription = Subscription(run_ids)
        for run_id in subscription.run_ids:  # subscribed first, so no change can slip between
            self._track(run_id).subscribers.add(subscription)
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
            subscription.deliver(run, self._tracked[run_id].stale_since)
        self._ensure_running()
        self._wakeup.wake()
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        for run_id in subscription.run_ids:
            tracked = self._tracked.get(run_id)
            if tracked is not None:
                tracked.subscribers.discard(subscription)

    def close(self, error: errors.PlatformError) -> None:
        """Ends every subscription with `error` (on shutdown: UNAVAILABLE) and stops polling."""
        self._closed = error
        for tracked in self._tracked.values():
            for subscription in list(tracked.subscribers):
                subscription.fail(error)
        if self._task is not None:
            self._task.cancel()

    @property
    def watched_runs(self) -> int:
        return sum(1 for t in self._tracked.values() if t.subscribers and not self._finished(t))

    # -- polling -------------------------------------------------------------------------------

    def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._loop())

    async def _loop(self) -> None:
        while self._closed is None:
            active = [t for t in self._tracked.values() if t.subscribers and not self._finished(t)]
            if not active:
                await self._wakeup.wait(self.clock)
                continue
            now = self.clock.monotonic()
            due = [t for t in active if t.next_poll <= now]
            if not due:
                await self._wakeup.wait(self.clock, min(t.next_poll for t in active) - now)
                continue
            await self._poll(self._fill(due, active))

    def _fill(self, due: list[Tracked], active: list[Tracked]) -> list[Tracked]:
        """Due runs, topped up with the soonest-due others so the last call is not half empty."""
        room = -len(due) % DESCRIBE_JOBS_LIMIT
        if room:
            due_ids = {t.run_id for t in due}
            soon = sorted((t for t in active if t.run_id not in due_ids), key=lambda t: t.next_poll)
            due = due + soon[:room]
        return due

    async def _poll(self, batch: list[Tracked]) -> None:
        chunks = [batch[i:i + DESCRIBE_JOBS_LIMIT] for i in range(0, len(batch), DESCRIBE_JOBS_LIMIT)]
        results = await asyncio.gather(*(self._poll_chunk(chunk) for chunk in chunks), return_exceptions=True)
        for chunk, result in zip(chunks, results):
            if isinstance(result, BaseException):
                self._on_error(chunk, result)
        if all(not isinstance(r, BaseException) for r in results):
            self._failures = 0

    async def _poll_chunk(self, chunk: list[Tracked]) -> None:
        runs = {run.run_id: run for run in await self._describe([t.run_id for t in chunk])}
        now = self.clock.monotonic()
        for tracked in chunk:
            run = runs.get(tracked.run_id)
            if run is not None:
                self._update(tracked, run)
                continue
            tracked.misses += 1
            tracked.next_poll = now + self.settings.min_interval_seconds
            if tracked.misses >= self.settings.not_found_after_polls:
                self._drop(tracked, errors.run_not_found(tracked.run_id, self.platform))

    def _on_error(self, chunk: list[Tracked], error: BaseException) -> None:
        if isinstance(error, TRANSIENT):
            self._failures += 1
            backoff = min(self.settings.max_backoff_seconds,
                          self.settings.min_interval_seconds * 2 ** (self._failures - 1))
            retry_at = self.clock.monotonic() + backoff * random.uniform(0.5, 1.0)  # jitter
            for tracked in chunk:
                if tracked.stale_since is None:
                    tracked.stale_since = self.clock.wall()
                    self._notify(tracked)
                tracked.next_poll = retry_at
            log.warning("platform %s: DescribeJobs failed (%s); retrying in %.1f s", self.platform,
                        getattr(error, "reason", type(error).__name__), backoff)
            return
        failure = error if isinstance(error, errors.PlatformError) else errors.Internal(
            "INTERNAL", "internal error while polling AWS Batch")
        if not isinstance(error, errors.PlatformError):
            log.error("platform %s: polling failed", self.platform, exc_info=error)
        for tracked in chunk:
            self._drop(tracked, failure)

    async def _describe(self, run_ids: list[str]) -> list[Run]:
        await self._budget.acquire()
        self.describe_calls += 1
        return await self._describe_raw(run_ids)

    # -- state ---------------------------------------------------------------------------------

    def _track(self, run_id: str) -> Tracked:
        tracked = self._tracked.get(run_id)
        if tracked is None:
            tracked = self._tracked[run_id] = Tracked(run_id, interval=self.settings.min_interval_seconds)
            self._evict()
        self._tracked.move_to_end(run_id)
        return tracked

    def _evict(self) -> None:
        """Bounded memory: forget the least recently used runs nobody watches."""
        excess = len(self._tracked) - self.settings.max_cached_runs
        for run_id in [r for r, t in self._tracked.items() if not t.subscribers][:max(0, excess)]:
            del self._tracked[run_id]

    def _update(self, tracked: Tracked, run: Run) -> None:
        now = self.clock.monotonic()
        changed = tracked.run is None or tracked.run.change_key() != run.change_key()
        was_stale = tracked.stale_since is not None
        tracked.run, tracked.fetched_at, tracked.misses, tracked.stale_since = run, now, 0, None
        if changed:
            tracked.interval = self.settings.min_interval_seconds
        else:
            tracked.interval = min(self.settings.max_interval_seconds, tracked.interval * self.settings.interval_growth)
        tracked.next_poll = now + tracked.interval
        if changed or was_stale:
            self._notify(tracked)

    def _notify(self, tracked: Tracked) -> None:
        if tracked.run is not None:
            for subscription in list(tracked.subscribers):
                subscription.deliver(tracked.run, tracked.stale_since)

    def _drop(self, tracked: Tracked, error: errors.PlatformError) -> None:
        for subscription in list(tracked.subscribers):
            subscription.fail(error)
            self.unsubscribe(subscription)
        self._tracked.pop(tracked.run_id, None)

    @staticmethod
    def _finished(tracked: Tracked) -> bool:
        """Not to be polled: terminal, or not fetched yet (subscribe fetches it first)."""
        return tracked.run is None or tracked.run.terminal

