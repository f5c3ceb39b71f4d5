"""The hub's state with an injected clock: bounded at any age (adding a run at the bound is
O(1), unknown ids are never kept, watched runs are never evicted), each run's status history,
and the change hook."""

import asyncio
import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from polysync_batch.aws.translate import RunContext, to_run
from polysync_batch.bootstrap import build_watch
from polysync_batch.domain import errors
from polysync_batch.domain.models import StatusChange
from polysync_batch.watch.source import Source

from tests.manual_clock import ManualClock, settle
from tests.support import watch_config
from tests.unit.test_poller import SETTINGS, FakeBatch

CTX = RunContext("prod", "eu-west-1", None, 600)


def run(run_id: str, status: str = "RUNNING", reason: str = ""):
    job = {"jobId": run_id, "status": status, "jobDefinition": "arn:x:job-definition/d:1"}
    if reason:
        job["statusReason"] = reason
    return to_run(job, CTX)


def make(**settings):
    batch, clock = FakeBatch(), ManualClock()
    hub = build_watch("prod", batch.describe, watch_config(**{**SETTINGS.__dict__, **settings}), clock).hub
    return batch, clock, hub


def test_adding_runs_at_the_bound_costs_constant_time_and_keeps_the_most_recent():
    bound = 50_000
    batch, clock, hub = make(max_cached_runs=bound)
    template = run("template")
    for i in range(bound):
        hub.observe(replace(template, run_id=f"old-{i}"), Source.READ)
    new = [replace(template, run_id=f"new-{i}") for i in range(2000)]
    started = time.perf_counter()
    for each in new:
        hub.observe(each, Source.READ)
    took = time.perf_counter() - started
    # A scan of every cached entry per new one took seconds here (about 2 ms each at 50,000).
    assert took < 1.0, f"2,000 runs at the bound took {took:.2f} s"
    assert len(hub._entries) == bound
    assert "old-0" not in hub._entries and "old-1999" not in hub._entries and "old-2000" in hub._entries
    assert "new-1999" in hub._entries


async def test_watched_runs_are_never_evicted_and_rejoin_the_lru_when_unwatched():
    batch, clock, hub = make(max_cached_runs=3)
    batch.add("w", "a", "b", "c", "d")
    subscription = await hub.subscribe(["w"])
    for run_id in "abcd":
        await hub.get(run_id)
    assert "w" in hub._entries and len(hub._entries) == 3  # w plus the two most recent
    hub.unsubscribe(subscription)  # back in the LRU, as its most recent run
    await hub.get("a")
    await hub.get("b")
    assert "w" in hub._entries
    batch.add("e")
    await hub.get("e")
    assert "w" not in hub._entries and set(hub._entries) == {"a", "b", "e"}
    hub.close(errors.server_shutting_down())


async def test_watches_of_unknown_ids_keep_nothing():
    batch, clock, hub = make()
    batch.add("known")
    for i in range(100):
        with pytest.raises(errors.NotFound):
            await hub.subscribe(["known"] + [f"unknown-{i}-{j}" for j in range(50)])
    assert set(hub._entries) == {"known"}  # the read of "known" is cached; no unknown id is kept
    assert hub.stats().streams == 0


async def test_history_records_each_status_or_reason_change_with_its_time():
    batch, clock, hub = make()
    hub.observe(run("a", "SUBMITTED"), Source.SUBMIT)
    await clock.advance(5)
    hub.observe(run("a", "RUNNABLE", "waiting for capacity"), Source.POLL)
    hub.observe(run("a", "RUNNABLE", "waiting for capacity"), Source.POLL)  # the same: nothing recorded
    event_time = datetime(2026, 12, 1, 9, 0, 7, tzinfo=UTC)
    hub.observe(run("a", "FAILED", "Terminated by alice"), Source.EVENT, event_time)
    history = (await hub.get("a")).history
    assert history == (
        StatusChange("SUBMITTED", "", history[0].time),
        StatusChange("RUNNABLE", "waiting for capacity", history[1].time),
        StatusChange("FAILED", "Terminated by alice", event_time),
    )
    assert (history[1].time - history[0].time).total_seconds() == 5  # the injected clock's wall time


async def test_history_is_bounded_and_every_watch_message_carries_it():
    batch, clock, hub = make()
    batch.add("a", status="RUNNABLE")
    subscription = await hub.subscribe(["a"])
    for i in range(100):
        hub.observe(run("a", "RUNNABLE", f"reason {i}"), Source.POLL)
    hub.observe(run("a", "SUCCEEDED"), Source.POLL)
    events = [event async for event in subscription.events(clock, 3600)]
    assert events[-1].run.native_status == "SUCCEEDED"
    history = events[-1].run.history
    assert len(history) == 64 and history[-1].native_status == "SUCCEEDED"
    assert history[0].status_reason == "reason 37"  # the oldest were dropped
    hub.close(errors.server_shutting_down())


async def test_the_change_hook_gets_each_applied_change_once_from_any_source():
    batch, clock, hub = make()
    seen = []
    hub.on_change(lambda changed, source, when: seen.append((changed.native_status, source, when)))
    batch.add("a", status="RUNNABLE")
    await hub.get("a")
    hub.observe(run("a", "RUNNABLE"), Source.POLL)  # a duplicate: not a change
    event_time = datetime(2026, 12, 1, 9, 0, 7, tzinfo=UTC)
    hub.observe(run("a", "RUNNING"), Source.EVENT, event_time)
    hub.observe(run("a", "RUNNABLE"), Source.POLL)  # older: not applied
    assert [(status, source) for status, source, _ in seen] == [("RUNNABLE", Source.READ), ("RUNNING", Source.EVENT)]
    assert seen[0][2] == clock.wall() and seen[1][2] == event_time
    await settle()
    await asyncio.sleep(0)
