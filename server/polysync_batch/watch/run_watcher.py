"""WatchPipelineRun's source of events. The only module that knows how runs are observed, so
a shared poller can replace this per-stream polling without touching the servicer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from polysync_batch.domain.models import Run

Sleep = Callable[[float], Awaitable[None]]


class RunWatcher:
    def __init__(self, poll_interval_seconds: float, sleep: Sleep = asyncio.sleep) -> None:
        self.poll_interval_seconds = poll_interval_seconds
        self._sleep = sleep

    async def watch(self, fetch: Callable[[], Awaitable[Run]]) -> AsyncIterator[Run]:
        """Yields the run's current state, then each change of status, reason, exit code or
        array progress; returns after yielding a terminal state. Errors of `fetch` end it."""
        last_key: tuple | None = None
        while True:
            run = await fetch()
            if run.change_key() != last_key:
                last_key = run.change_key()
                yield run
            if run.terminal:
                return
            await self._sleep(self.poll_interval_seconds)

    async def watch_many(self, run_ids: list[str],
                         fetch: Callable[[list[str]], Awaitable[list[Run]]]) -> AsyncIterator[Run]:
        """Like `watch` for many runs at once (one fetch per interval for all that are still
        running); returns once every run has yielded its terminal state."""
        last_keys: dict[str, tuple] = {}
        pending = list(dict.fromkeys(run_ids))
        while pending:
            runs = await fetch(pending)
            for run in runs:
                if run.change_key() != last_keys.get(run.run_id):
                    last_keys[run.run_id] = run.change_key()
                    yield run
            pending = [run.run_id for run in runs if not run.terminal]
            if pending:
                await self._sleep(self.poll_interval_seconds)
