"""Where the feed's changes live: a numbered log of changes, each with its run's version. The
in-process history keeps the newest `max_changes`; the DynamoDB one (aws/history.py) keeps them
for `history_retention_seconds` on every replica sharing the table. Both tell their `listener`
about each batch of new changes, in position order."""

from __future__ import annotations

import secrets
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from polysync_batch.domain.errors import cursor_expired
from polysync_batch.domain.models import Run
from polysync_batch.feed.cursor import CursorCodec

# Changes the in-process history keeps (older cursors are CURSOR_EXPIRED).
MAX_CHANGES = 100_000
# Changes one read of the history returns at most (a stream far behind reads on at once).
READ_LIMIT = 5_000


@dataclass(frozen=True)
class Change:
    """One change of one run, at its place in the history."""

    run: Run
    version: int  # per run: increases with every change of that run
    time: datetime  # when it happened (the AWS event's time, else when the service saw it)
    position: int  # in the history: 1, 2, …; a cursor names the last position a consumer has


BatchListener = Callable[[list[Change]], None]


class MemoryHistory:
    """The history of one process: bounded, lost on restart (its cursors then are expired)."""

    def __init__(self, platform: str, max_changes: int = MAX_CHANGES) -> None:
        self.platform = platform
        self.codec = CursorCodec(platform, uuid.uuid4().hex[:16], secrets.token_bytes(32))
        self._changes: deque[Change] = deque(maxlen=max_changes)
        self._versions: dict[str, int] = {}
        self._head = 0
        self._listeners: list[BatchListener] = []

    @property
    def head(self) -> int:
        """The position of the newest change (0 before the first)."""
        return self._head

    def subscribe(self, listener: BatchListener) -> None:
        self._listeners.append(listener)

    def record(self, batch: list[tuple[Run, datetime]]) -> None:
        """Numbers a batch of changes that arrived together and tells the listeners."""
        changes = []
        for run, time in batch:
            version = self._versions.get(run.run_id, 0) + 1
            if run.terminal:
                self._versions.pop(run.run_id, None)  # nothing follows a terminal state
            else:
                self._versions[run.run_id] = version
            self._head += 1
            changes.append(Change(run, version, time, self._head))
        self._changes.extend(changes)
        for listener in self._listeners:
            listener(changes)

    async def start(self) -> None:
        """Nothing to load: the history of this process begins empty."""

    def close(self) -> None:
        pass

    async def after(self, position: int, limit: int = READ_LIMIT) -> list[Change]:
        """The changes after `position`, oldest first, at most `limit`; CURSOR_EXPIRED when
        some are no longer kept."""
        if position > self._head:
            raise cursor_expired(self.platform, "it is ahead of this server's history")
        first = self._changes[0].position if self._changes else self._head + 1
        if position < first - 1:
            raise cursor_expired(self.platform, "older than the changes this server keeps")
        start = max(0, position - first + 1)
        return [self._changes[i] for i in range(start, min(len(self._changes), start + limit))]
