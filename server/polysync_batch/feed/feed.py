"""The run changes feed of one platform (SPEC §12).

Recording: the watch core calls `listener(run, source, time)` for every applied change; changes
of runs the feed covers (the platform's job queues) that arrive together — one poll answer,
the event batches of the same `BATCH_SECONDS` — are recorded in the history as one batch.

Serving: `stream(cursor, snapshot, tags)` yields messages: a snapshot of the non-terminal runs
(when asked), else a first message at once; then every change after the stream's position, up
to `MAX_CHANGES_PER_MESSAGE` per message, each message with a cursor naming the position after
it; and a heartbeat with the latest cursor after `heartbeat_seconds` without a message."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from polysync_batch.domain import errors, requests
from polysync_batch.domain.models import ListedRun, Run
from polysync_batch.feed.cursor import CursorCodec
from polysync_batch.feed.history import READ_LIMIT, BatchListener, Change

MAX_CHANGES_PER_MESSAGE = 500
# Changes that arrive within this long of the first one are recorded (and sent) together: the
# event consumer applies each ReceiveMessage answer (10 events) in a turn of its own.
BATCH_SECONDS = 0.05
# A stream sends changes at most this often: what arrives meanwhile goes in its next message
# (under a burst, more changes per message and far fewer messages to send, for ≤ 0.1 s).
MESSAGE_GAP_SECONDS = 0.1


class History(Protocol):
    """Where the changes are kept (feed/history.py in the process, aws/history.py in DynamoDB)."""

    codec: CursorCodec  # set once started

    @property
    def head(self) -> int: ...
    def subscribe(self, listener: BatchListener) -> None: ...
    def record(self, batch: list[tuple[Run, datetime]]) -> None: ...
    async def start(self) -> None: ...
    def close(self) -> None: ...
    async def after(self, position: int, limit: int = READ_LIMIT) -> list[Change]: ...


@dataclass(frozen=True)
class FeedMessage:
    changes: list[Change]
    cursor: str
    heartbeat: bool = False
    snapshot_complete: bool = False
    stale_since: datetime | None = None


@dataclass(eq=False)
class _Reader:
    """One open stream: woken when the history grows or the feed closes."""

    wake: asyncio.Event = field(default_factory=asyncio.Event)


def _matches(run: Run, tags: dict[str, str]) -> bool:
    return all(run.tags.get(key) == value for key, value in tags.items())


class RunFeed:
    def __init__(
        self,
        platform: str,
        history: History,
        covers: Callable[[Run], bool],
        heartbeat_seconds: float,
        wall: Callable[[], datetime],
    ) -> None:
        self.platform = platform
        self._history = history
        self._covers = covers
        self._heartbeat = heartbeat_seconds
        self._wall = wall
        self._pending: list[tuple[Run, datetime]] = []
        self._flush_scheduled = False
        self._active: dict[str, Change] = {}  # the latest change of each non-terminal run
        self._readers: set[_Reader] = set()
        self._closed: errors.PlatformError | None = None
        self.stale_since: datetime | None = None
        self._started: asyncio.Future | None = None
        self._warm_up: Callable[[bool], Awaitable[None]] | None = None
        history.subscribe(self._recorded)

    # -- recording -----------------------------------------------------------------------------

    def listener(self, run: Run, source: object, time: datetime) -> None:
        """The watch core's change hook: one applied change (`source` is not needed here)."""
        if not self._covers(run):
            return
        self._pending.append((run, time))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_later(BATCH_SECONDS, self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        batch, self._pending = self._pending, []
        if batch:
            self._history.record(batch)

    def _recorded(self, changes: list[Change]) -> None:
        for change in changes:
            if change.run.terminal:
                self._active.pop(change.run.run_id, None)
            else:
                self._active[change.run.run_id] = change
        for reader in self._readers:
            reader.wake.set()

    def known_active(self) -> dict[str, ListedRun]:
        """The non-terminal runs the feed knows, by id, as ListJobs would summarize them (for the
        refresh source: a listed run whose summary matches has not changed)."""
        return {
            run_id: ListedRun(run_id, change.run.native_status, change.run.status_reason)
            for run_id, change in self._active.items()
        }

    def array_children(self) -> list[str]:
        """Ids (`<jobId>:<index>`) of every child of the non-terminal array runs the feed knows:
        children are runs of their own in the feed, and their ids follow from the parent's size."""
        return [
            f"{change.run.run_id}:{index}"
            for change in self._active.values()
            if change.run.array is not None and change.run.array.index is None and ":" not in change.run.run_id
            for index in range(change.run.array.size)
        ]

    def drop(self, run_id: str) -> None:
        """AWS no longer knows the run: it leaves the snapshot."""
        self._active.pop(run_id, None)

    def set_stale(self, since: datetime | None) -> None:
        """AWS cannot be polled since `since` (None: it can again); on every message meanwhile."""
        if (since is None) != (self.stale_since is None):
            self.stale_since = since
            for reader in self._readers:
                reader.wake.set()

    def before_streams(self, warm_up: Callable[[bool], Awaitable[None]]) -> None:
        """`warm_up(snapshot)` is awaited before each stream's first message (it starts discovery,
        and for a snapshot waits for its first round)."""
        self._warm_up = warm_up

    def start(self) -> None:
        """Starts the history (loads what a durable one keeps); streams wait for it."""
        if self._started is None:
            self._started = asyncio.ensure_future(self._history.start())

    async def _ready(self) -> None:
        started = self._started
        if started is not None and started.done() and not started.cancelled() and started.exception() is not None:
            self._started = None  # it failed (AWS): the next stream tries again
        self.start()
        assert self._started is not None
        await asyncio.shield(self._started)

    def close(self, error: errors.PlatformError) -> None:
        """Ends every stream with `error` (on shutdown: UNAVAILABLE)."""
        self._closed = error
        self._history.close()
        for reader in self._readers:
            reader.wake.set()

    # -- serving -------------------------------------------------------------------------------

    async def stream(self, cursor: str, snapshot: bool, tags: dict[str, str]) -> AsyncIterator[FeedMessage]:
        requests.check_feed_tags(tags)
        if self._closed is not None:
            raise self._closed
        await self._ready()
        if self._warm_up is not None:
            await self._warm_up(snapshot and not cursor)
        # What discovery just read waits for the batch window: record it now, so the snapshot
        # holds it (and a stream without a cursor starts after it).
        self._flush()
        codec = self._history.codec
        reader = _Reader()
        self._readers.add(reader)
        try:
            if cursor:
                position = codec.decode(cursor, tags)
                await self._history.after(position, 1)  # expired: fail before the first message
            else:
                position = self._history.head
            sent_any = False
            if snapshot and not cursor:
                runs = [c for c in self._active.values() if _matches(c.run, tags)]
                chunks = [runs[i : i + MAX_CHANGES_PER_MESSAGE] for i in range(0, len(runs), MAX_CHANGES_PER_MESSAGE)]
                for index, chunk in enumerate(chunks or [[]]):
                    yield FeedMessage(
                        chunk,
                        codec.encode(position, tags),
                        snapshot_complete=index == len(chunks or [[]]) - 1,
                        stale_since=self.stale_since,
                    )
                sent_any = True
            loop = asyncio.get_running_loop()
            last_sent, sent_changes = loop.time(), False
            while True:
                if self._closed is not None:
                    raise self._closed
                gap = MESSAGE_GAP_SECONDS - (loop.time() - last_sent)
                if sent_changes and gap > 0:
                    await asyncio.sleep(gap)
                reader.wake.clear()
                changes = await self._history.after(position)
                head = changes[-1].position if changes else position
                matching = [c for c in changes if _matches(c.run, tags)] if tags else changes
                # Past one full message, a partial rest waits for the next read (one gap later):
                # under a burst every message is full, and a stream sends far fewer of them.
                ready = (
                    len(matching) - len(matching) % MAX_CHANGES_PER_MESSAGE
                    if len(matching) > MAX_CHANGES_PER_MESSAGE
                    else len(matching)
                )
                for start in range(0, ready, MAX_CHANGES_PER_MESSAGE):
                    chunk = matching[start : start + MAX_CHANGES_PER_MESSAGE]
                    last = head if start + MAX_CHANGES_PER_MESSAGE >= len(matching) else chunk[-1].position
                    yield FeedMessage(chunk, codec.encode(last, tags), stale_since=self.stale_since)
                    sent_any, last_sent = True, loop.time()
                sent_changes = bool(matching)
                position = head if ready == len(matching) else matching[ready - 1].position
                if len(changes) >= READ_LIMIT or ready < len(matching):
                    continue  # far behind, or a rest held back: read on (after the gap) before waiting
                quiet = loop.time() - last_sent
                if not sent_any or quiet >= self._heartbeat:  # the first message at once; then bookmarks
                    yield FeedMessage([], codec.encode(position, tags), heartbeat=True, stale_since=self.stale_since)
                    sent_any, last_sent = True, loop.time()
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(reader.wake.wait(), self._heartbeat - quiet)
        finally:
            self._readers.discard(reader)
