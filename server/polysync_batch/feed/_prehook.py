"""TEMPORARY (deleted when the watch core's change hook lands): gives today's hub the hook's
shape, `listener(run, source, time)` for every applied change, and `fetch(ids)`."""

from __future__ import annotations

from polysync_batch.watch.source import Outcome, Source


def install(hub, listener) -> None:
    original = hub.observe

    def observe(run, source, event_time=None):
        outcome = original(run, source, event_time)
        if outcome is Outcome.APPLIED:
            listener(hub._entries[run.run_id].run, source, event_time or hub.clock.wall())
        return outcome

    hub.observe = observe


def fetcher(hub):
    async def fetch(run_ids):
        runs = {run.run_id: run for run in await hub.describe(run_ids)}
        for run in runs.values():
            hub.observe(run, Source.POLL)
        return {run_id: runs.get(run_id) for run_id in run_ids}

    return fetch
