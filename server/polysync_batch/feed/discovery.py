"""The feed's own source of runs (SPEC §12 "What it covers"): it finds the runs of the platform's
job queues that nobody asked about — submitted by other programs, or whose events were lost —
and keeps the feed's non-terminal runs refreshed.

Each round: ListJobs of every covered queue (the first round: every non-terminal status, so
the snapshot holds the runs that were already there; later rounds: the jobs created since the
previous round, less a margin, with AWS's AFTER_CREATED_AT filter, which lists every status),
then one read (DescribeJobs, 100 ids per call, through the watch core's reader, which records
what it finds) of the runs not seen before (array children `<jobId>:<index>` included: ListJobs
lists only their parent, and their ids follow from its size) and of the non-terminal runs the
feed knows that may have changed. Those are all of them, unless listing the queues in the
statuses those runs are in (1,000 jobs per page) takes fewer calls than reading them (100 per
call): then the round lists, and reads only the runs whose listed status or reason differs from
the feed's, or that no longer appear (moved to another status, ended, or forgotten by AWS) — on
a quiet platform of 10,000 RUNNABLE runs, 11 ListJobs a round instead of 1 ListJobs and 100
DescribeJobs. The runs a round read, or found unchanged in a listing, are reported (`confirm`):
the watch core's reconcile need not read them again. What the reads find reaches the feed
through the watch core's change hook like any other change.
Rounds run every `interval` seconds: the poll interval without events, the reconcile interval
with them (events then carry the changes; the rounds find what they lost). Without a history
table discovery starts with the first feed stream (before it, no cursor exists that could miss
a change, and a server nobody follows the feed of makes no calls for it); with one, at start-up."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Protocol

from polysync_batch.domain import errors
from polysync_batch.domain.models import ListedRun, Run

log = logging.getLogger(__name__)
NON_TERMINAL = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING")
DESCRIBE_LIMIT = 100
LIST_LIMIT = 1000  # ListJobs' maxResults
# Jobs created this long before the previous round are listed again (clock skew, AWS's lag).
MARGIN = timedelta(seconds=60)
# Ids already read once, so a listing that repeats them costs no DescribeJobs.
MAX_SEEN = 100_000


class QueueLister(Protocol):
    """What discovery needs from AWS Batch (aws/batch.py's BatchAdapter)."""

    async def list_runs(
        self, job_queue: str, *, native_status: str | None = None, created_after: datetime | None = None
    ) -> list[ListedRun]:
        """Every job of the queue in that status, or created after that time (all statuses)."""
        ...


class FeedRuns(Protocol):
    def known_active(self) -> dict[str, ListedRun]: ...
    def array_children(self) -> list[str]: ...
    def drop(self, run_id: str) -> None: ...
    def set_stale(self, since: datetime | None) -> None: ...


# Reads runs from AWS now and records them (the watch core's fetch with Source.POLL).
Fetch = Callable[[list[str]], Awaitable[dict[str, Run | None]]]


class Discovery:
    def __init__(
        self,
        platform: str,
        queues: list[str],
        lister: QueueLister,
        fetch: Fetch,
        feed: FeedRuns,
        wall: Callable[[], datetime],
        interval: float,
        active: Callable[[], bool] = lambda: True,
        confirm: Callable[[list[str]], None] = lambda run_ids: None,
    ) -> None:
        self.platform = platform
        self._queues = queues
        self._lister = lister
        self._fetch = fetch
        self._feed = feed
        self._wall = wall
        self.interval = interval
        self._active = active  # with a history table: only the replica that writes it discovers
        self._confirm = confirm  # runs read or found unchanged: the watch core's reconcile skips them
        self._since: datetime | None = None  # None: the first round lists every non-terminal status
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._task: asyncio.Task | None = None
        self._first_round: asyncio.Event | None = None
        self.rounds = 0

    def start(self) -> None:
        if self._first_round is None:
            self._first_round = asyncio.Event()
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._run())

    async def ready(self, snapshot: bool) -> None:
        """Starts discovery (if it was not); for a snapshot, returns once its first round is
        over, so the snapshot holds the runs that were already there."""
        self.start()
        assert self._first_round is not None
        if snapshot:
            await self._first_round.wait()

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        while True:
            try:
                if self._active():
                    await self.round()
                else:
                    self._since = None  # if this replica starts writing, it lists every non-terminal run first
            except errors.PlatformError as error:
                log.warning("feed discovery of platform %s failed: %s", self.platform, error.message)
                self._feed.set_stale(self._wall())
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug must not stop discovery for good
                log.exception("feed discovery of platform %s failed", self.platform)
            assert self._first_round is not None
            self._first_round.set()
            await asyncio.sleep(self.interval)

    async def round(self) -> None:
        started = self._wall()
        active = self._feed.known_active()
        listed: list[str] = []
        for queue in self._queues:
            if self._since is None:
                for status in NON_TERMINAL:
                    listed += [run.run_id for run in await self._lister.list_runs(queue, native_status=status)]
            else:
                listed += [
                    run.run_id for run in await self._lister.list_runs(queue, created_after=self._since - MARGIN)
                ]
        if self._since is not None:
            statuses = self._known_statuses(active)
            if self._listing_is_cheaper(active, statuses):
                active = await self._changed(active, statuses)
        listed += self._feed.array_children()  # ListJobs lists only parents; children follow from them
        new = [run_id for run_id in dict.fromkeys(listed) if run_id not in self._seen]
        ids = list(dict.fromkeys(new + list(active)))
        for start in range(0, len(ids), DESCRIBE_LIMIT):
            chunk = ids[start : start + DESCRIBE_LIMIT]
            found = await self._fetch(chunk)
            for run_id in chunk:
                if found.get(run_id) is None:
                    self._feed.drop(run_id)  # AWS no longer knows it
            self._confirm([run_id for run_id in chunk if found.get(run_id) is not None])  # read just now
        for run_id in new:
            self._seen[run_id] = None
            if len(self._seen) > MAX_SEEN:
                self._seen.popitem(last=False)
        self._since = started
        self.rounds += 1
        self._feed.set_stale(None)

    @staticmethod
    def _known_statuses(active: dict[str, ListedRun]) -> list[str]:
        """The non-terminal statuses the feed's known runs are in (array children, never listed,
        aside): a status none of them is in need not be listed to tell whether they changed — a
        run that moved into it is missing from its old status's listing, and is read."""
        statuses = {known.native_status for run_id, known in active.items() if ":" not in run_id}
        return [status for status in NON_TERMINAL if status in statuses]

    def _listing_is_cheaper(self, active: dict[str, ListedRun], statuses: list[str]) -> bool:
        """Whether listing the known runs' `statuses` in every queue (at least one call each, 1,000
        jobs a page) takes fewer calls than reading the known runs (100 a call)."""
        parents = sum(1 for run_id in active if ":" not in run_id)
        listing = len(statuses) * len(self._queues) + -(-parents // LIST_LIMIT)
        return listing < -(-parents // DESCRIBE_LIMIT)

    async def _changed(self, active: dict[str, ListedRun], statuses: list[str]) -> dict[str, ListedRun]:
        """The known runs that may have changed: array children (not listed), and runs whose
        summary listed under `statuses` differs from the feed's or that are no longer listed."""
        now: dict[str, ListedRun] = {}
        for queue in self._queues:
            for status in statuses:
                now.update((run.run_id, run) for run in await self._lister.list_runs(queue, native_status=status))
        changed = {run_id: known for run_id, known in active.items() if ":" in run_id or now.get(run_id) != known}
        self._confirm([run_id for run_id in active if run_id not in changed])
        return changed
