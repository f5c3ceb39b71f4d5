"""The shared poller with an injected clock: call counts, caching, micro-batching, heartbeats,
NOT_FOUND after K polls, staleness under throttling, slow consumers, shutdown."""

import asyncio
import math

import pytest
from polysync_batch.aws.translate import RunContext, to_run
from polysync_batch.bootstrap import build_watch
from polysync_batch.config import WatchConfig
from polysync_batch.domain import errors
from polysync_batch.watch.source import Source

from tests.manual_clock import ManualClock, settle
from tests.support import watch_config

SETTINGS = watch_config(
    poll_interval_seconds=5,
    max_poll_interval_seconds=5,
    heartbeat_seconds=30,
    not_found_after_polls=3,
    describe_jobs_per_second=1000,
    describe_jobs_burst=1000,
)
CTX = RunContext("prod", "eu-west-1", None, 600)


class FakeBatch:
    """DescribeJobs over an in-memory job table; counts calls and ids per call."""

    def __init__(self) -> None:
        self.status: dict[str, str] = {}
        self.calls: list[list[str]] = []
        self.fail_with: errors.PlatformError | None = None
        self.gate: asyncio.Event | None = None  # when set, calls wait for it: a call in flight

    def add(self, *run_ids: str, status: str = "RUNNING") -> None:
        for run_id in run_ids:
            self.status[run_id] = status

    async def describe(self, run_ids: list[str]):
        assert len(run_ids) <= 100, "DescribeJobs takes at most 100 ids"
        self.calls.append(list(run_ids))
        await asyncio.sleep(0)
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_with is not None:
            raise self.fail_with
        return [
            to_run({"jobId": i, "status": self.status[i], "jobDefinition": "arn:x:job-definition/d:1"}, CTX)
            for i in run_ids
            if i in self.status
        ]


def make(settings: WatchConfig = SETTINGS):
    batch, clock = FakeBatch(), ManualClock()
    return batch, clock, build_watch("prod", batch.describe, settings, clock).hub


async def drain(subscription, clock, into: list):
    async for event in subscription.events(clock, SETTINGS.heartbeat_seconds):
        into.append(event)


@pytest.mark.parametrize("runs,watchers_per_run", [(1000, 10), (250, 4), (7, 50)])
async def test_n_watchers_of_m_runs_cost_ceil_m_over_100_calls_per_interval(runs, watchers_per_run):
    batch, clock, poller = make()
    ids = [f"r{i}" for i in range(runs)]
    batch.add(*ids)
    subscriptions = [await poller.subscribe([i]) for i in ids for _ in range(watchers_per_run)]
    assert len(subscriptions) == runs * watchers_per_run
    for _ in range(3):
        before = len(batch.calls)
        await clock.advance(SETTINGS.poll_interval_seconds)
        assert len(batch.calls) - before == math.ceil(runs / 100)
    poller.close(errors.Unavailable("X", "bye"))


async def test_cached_gets_cost_no_calls():
    batch, clock, poller = make()
    batch.add("a", "b")
    batch.add("done", status="SUCCEEDED")
    await poller.get_many(["a", "b", "done"])
    assert len(batch.calls) == 1
    await clock.advance(SETTINGS.poll_interval_seconds - 1)
    assert (await poller.get("a")).native_status == "RUNNING"
    await poller.get_many(["a", "b"])
    assert len(batch.calls) == 1  # polled within the interval: answered from memory
    await clock.advance(3600)
    assert (await poller.get("done")).terminal
    assert len(batch.calls) == 1  # terminal states never change
    await poller.get("a")
    assert len(batch.calls) == 2  # stale again: one call


async def test_concurrent_misses_are_micro_batched():
    batch, clock, poller = make()
    ids = [f"r{i}" for i in range(1000)]
    batch.add(*ids)
    runs = await asyncio.gather(*(poller.get(i) for i in ids))
    assert [r.run_id for r in runs] == ids
    assert len(batch.calls) <= 11
    assert sorted(i for call in batch.calls for i in call) == sorted(ids)


async def test_a_lone_miss_is_sent_at_once_and_misses_during_a_call_share_the_next():
    batch, clock, poller = make()
    batch.add(*[f"r{i}" for i in range(30)])
    batch.gate = asyncio.Event()
    first = asyncio.ensure_future(poller.get("r0"))
    await settle()
    assert batch.calls == [["r0"]]  # no waiting window when nothing is in flight
    rest = asyncio.ensure_future(asyncio.gather(*(poller.get(f"r{i}") for i in range(1, 30))))
    await settle()
    assert len(batch.calls) == 1  # arrivals during a call wait for it
    batch.gate.set()
    await first
    await settle()
    assert len(batch.calls) == 1  # and, being load, for the gap after it
    await clock.advance(SETTINGS.batch_gap_seconds)
    await rest
    assert len(batch.calls) == 2
    assert await poller.get("r0") and len(batch.calls) == 2  # cached
    await clock.advance(SETTINGS.poll_interval_seconds)
    await poller.get("r0")
    assert (
        len(batch.calls) == 3
    )  # quiet again: sent at once, no gap and sorted(batch.calls[1]) == sorted(f"r{i}" for i in range(1, 30))


async def test_micro_batching_shares_calls_for_the_same_id():
    batch, clock, poller = make()
    batch.add("a")
    await asyncio.gather(*(poller.get("a") for _ in range(50)))
    assert batch.calls == [["a"]]


async def test_first_event_is_current_state_then_one_per_change_then_end():
    batch, clock, poller = make()
    batch.add("a", status="RUNNABLE")
    subscription = await poller.subscribe(["a"])
    events = []
    reader = asyncio.ensure_future(drain(subscription, clock, events))
    await settle()
    await clock.advance(5)  # unchanged: nothing new
    batch.status["a"] = "RUNNING"
    await clock.advance(5)
    batch.status["a"] = "SUCCEEDED"
    await clock.advance(5)
    await reader
    assert [e.run.native_status for e in events] == ["RUNNABLE", "RUNNING", "SUCCEEDED"]
    assert poller.watched_runs == 0
    before = len(batch.calls)
    await clock.advance(50)
    assert len(batch.calls) == before  # terminal runs leave the poll set


async def test_heartbeats_while_nothing_changes():
    batch, clock, poller = make()
    batch.add("a")
    subscription = await poller.subscribe(["a"])
    events = []
    reader = asyncio.ensure_future(drain(subscription, clock, events))
    await settle()
    await clock.advance(SETTINGS.heartbeat_seconds + 1)
    assert [e.heartbeat for e in events] == [False, True]
    assert events[1].run.run_id == "a"  # a single-run heartbeat repeats the latest state
    await clock.advance(SETTINGS.heartbeat_seconds)
    assert [e.heartbeat for e in events] == [False, True, True]
    poller.close(errors.Unavailable("X", "bye"))
    with pytest.raises(errors.Unavailable):
        await reader


async def test_a_run_that_disappears_is_not_found_after_k_polls():
    batch, clock, poller = make()
    batch.add("a")
    subscription = await poller.subscribe(["a"])
    events = []
    reader = asyncio.ensure_future(drain(subscription, clock, events))
    del batch.status["a"]
    for _ in range(SETTINGS.not_found_after_polls - 1):
        await clock.advance(5)
        assert not reader.done()
    await clock.advance(5)
    with pytest.raises(errors.NotFound) as caught:
        await reader
    assert caught.value.reason == "RUN_NOT_FOUND"


async def test_unknown_run_is_not_found_at_once():
    batch, clock, poller = make()
    with pytest.raises(errors.NotFound):
        await poller.subscribe(["nope"])


async def test_throttling_keeps_the_stream_and_marks_the_state_stale():
    batch, clock, poller = make()
    batch.add("a")
    subscription = await poller.subscribe(["a"])
    events = []
    reader = asyncio.ensure_future(drain(subscription, clock, events))
    batch.fail_with = errors.ResourceExhausted("AWS_THROTTLED", "slow down")
    await clock.advance(5)
    assert len(events) == 2 and events[1].stale_since is not None
    stale_since = events[1].stale_since
    failed_calls = len(batch.calls)
    await clock.advance(5)  # backing off (5 s × 2 × jitter ≥ 5 s): at most one retry
    await clock.advance(60)
    assert not reader.done()
    assert all(e.stale_since == stale_since for e in events[1:])  # one stale event, no repeats
    assert len(batch.calls) - failed_calls <= 4  # exponential backoff, not one call per interval
    batch.fail_with = None
    batch.status["a"] = "SUCCEEDED"
    await clock.advance(120)
    await reader
    assert events[-1].run.native_status == "SUCCEEDED" and events[-1].stale_since is None


async def test_a_slow_consumer_still_gets_the_terminal_state_and_delays_no_one():
    batch, clock, poller = make()
    batch.add("a", status="SUBMITTED")
    slow = await poller.subscribe(["a"])
    fast = await poller.subscribe(["a"])
    fast_events = []
    reader = asyncio.ensure_future(drain(fast, clock, fast_events))
    for status in ("PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"):
        batch.status["a"] = status
        await clock.advance(5)
    await reader
    assert [e.run.native_status for e in fast_events] == [
        "SUBMITTED",
        "PENDING",
        "RUNNABLE",
        "STARTING",
        "RUNNING",
        "SUCCEEDED",
    ]
    slow_events = []
    await drain(slow, clock, slow_events)  # reads only now: intermediate states were coalesced
    assert [e.run.native_status for e in slow_events] == ["SUCCEEDED"]


async def test_interval_grows_for_unchanged_runs_and_resets_on_change():
    settings = watch_config(
        poll_interval_seconds=5,
        max_poll_interval_seconds=40,
        interval_growth=2,
        describe_jobs_per_second=1000,
        describe_jobs_burst=1000,
    )
    batch, clock = FakeBatch(), ManualClock()
    polled_at = []
    original = batch.describe

    async def recording(ids):
        polled_at.append(clock.monotonic())
        return await original(ids)

    batch.describe = recording  # observe the poll times
    poller = build_watch("prod", batch.describe, settings, clock).hub
    batch.add("a")
    await poller.subscribe(["a"])
    polled_at.clear()  # the subscribe's read
    await clock.advance(200)
    gaps = [b - a for a, b in zip(polled_at, polled_at[1:], strict=False)]
    assert gaps[:3] == [10, 20, 40] and set(gaps[3:]) == {40}
    batch.status["a"] = "SUCCEEDED"
    await clock.advance(40)
    assert poller.watched_runs == 0


async def test_describe_jobs_budget_spaces_calls():
    settings = watch_config(
        poll_interval_seconds=5, max_poll_interval_seconds=5, describe_jobs_per_second=2, describe_jobs_burst=2
    )
    batch, clock, poller = make(settings)
    ids = [f"r{i}" for i in range(1000)]
    batch.add(*ids)
    task = asyncio.ensure_future(poller.get_many(ids))
    await settle()
    assert len(batch.calls) == 2  # the burst
    await clock.advance(1)
    assert len(batch.calls) == 4  # then 2 per second
    await clock.advance(3)
    await task
    assert len(batch.calls) == 10


async def test_close_ends_every_subscription_with_the_error():
    batch, clock, poller = make()
    batch.add("a", "b")
    subscriptions = [await poller.subscribe(["a"]), await poller.subscribe(["a", "b"])]
    poller.close(errors.Unavailable("SERVER_SHUTTING_DOWN", "bye"))
    for subscription in subscriptions:
        with pytest.raises(errors.Unavailable):
            await drain(subscription, clock, [])
    with pytest.raises(errors.Unavailable):
        await poller.subscribe(["a"])


async def test_a_run_this_server_submitted_is_not_not_found_while_aws_catches_up():
    batch, clock, poller = make()  # polls every 5 s, NOT_FOUND after 3 misses, 30 s of submit grace
    submitted = to_run({"jobId": "new", "status": "SUBMITTED", "jobDefinition": "arn:x:job-definition/d:1"}, CTX)
    poller.observe(submitted, Source.SUBMIT)  # DescribeJobs does not know it yet
    await clock.advance(6)  # past the read cache: a get asks AWS, which does not know it
    assert (await poller.get("new")).native_status == "SUBMITTED"
    subscription = await poller.subscribe(["new"])
    events = []
    reader = asyncio.ensure_future(drain(subscription, clock, events))
    await clock.advance(20)  # four polls that miss: still inside the grace
    assert not reader.done()
    batch.add("new", status="RUNNABLE")  # AWS caught up
    await clock.advance(5)
    assert [e.run.native_status for e in events] == ["SUBMITTED", "RUNNABLE"]
    del batch.status["new"]  # forgotten after the grace: NOT_FOUND after the usual misses
    await clock.advance(5 * SETTINGS.not_found_after_polls)
    with pytest.raises(errors.NotFound):
        await reader


async def test_an_unknown_run_gets_no_grace():
    batch, clock, poller = make()
    with pytest.raises(errors.NotFound):
        await poller.get("never-submitted")


async def test_stats_count_streams_and_watched_runs_and_the_poll_lag_grows_while_aws_fails(caplog):
    batch, clock, hub = make()
    batch.add("a", "b")
    one, two = await hub.subscribe(["a"]), await hub.subscribe(["a", "b"])
    stats = hub.stats()
    assert (stats.streams, stats.watched_runs, stats.oldest_poll_age_seconds) == (2, 2, 0.0)
    await clock.advance(4)
    assert hub.stats().oldest_poll_age_seconds == pytest.approx(4)
    batch.fail_with = errors.ResourceExhausted("AWS_THROTTLED", "slow down")
    await clock.advance(30)
    assert hub.stats().oldest_poll_age_seconds >= 30  # nothing refreshed: the lag shows it
    backoffs = [r.fields for r in caplog.records if getattr(r, "fields", {}).get("event") == "poll_backoff"]
    assert backoffs and backoffs[0]["platform"] == "prod" and backoffs[0]["reason"] == "AWS_THROTTLED"
    batch.fail_with = None
    await clock.advance(60)
    assert hub.stats().oldest_poll_age_seconds < 6
    hub.unsubscribe(one)
    assert hub.stats().streams == 1
    batch.status["a"] = batch.status["b"] = "SUCCEEDED"
    await clock.advance(60)
    assert hub.stats().watched_runs == 0 and hub.stats().oldest_poll_age_seconds == 0
    hub.unsubscribe(two)
    assert hub.stats().streams == 0


async def test_runs_another_reconcile_confirmed_are_not_read_again_while_events_flow():
    batch, clock = FakeBatch(), ManualClock()
    watch = build_watch("prod", batch.describe, SETTINGS, clock)
    ids = [f"r{i}" for i in range(300)]
    batch.add(*ids)
    subscriptions = [await watch.hub.subscribe(ids[i : i + 100]) for i in range(0, 300, 100)]
    watch.poller.reconcile_every(60)  # events flow
    await clock.advance(60)
    before = len(batch.calls)
    await clock.advance(60)
    assert len(batch.calls) - before == 3  # the reconcile reads every watched run
    watch.poller.confirmed(ids[100:], 120)  # the feed's round found 200 of them unchanged
    before = len(batch.calls)
    await clock.advance(60)
    assert [sorted(call) for call in batch.calls[before:]] == [sorted(ids[:100])]
    watch.poller.reconcile_every(None)  # events stopped: polling finds changes again, at once
    before = len(batch.calls)
    await clock.advance(SETTINGS.poll_interval_seconds)
    assert {i for call in batch.calls[before:] for i in call} == set(ids)
    watch.hub.close(errors.Unavailable("X", "bye"))
    assert len(subscriptions) == 3


async def test_without_events_a_confirmation_changes_no_schedule():
    batch, clock = FakeBatch(), ManualClock()
    watch = build_watch("prod", batch.describe, SETTINGS, clock)
    ids = [f"r{i}" for i in range(200)]
    batch.add(*ids)
    subscriptions = [await watch.hub.subscribe(ids[:100]), await watch.hub.subscribe(ids[100:])]
    await clock.advance(SETTINGS.poll_interval_seconds)
    watch.poller.confirmed(ids, 120)
    before = len(batch.calls)
    await clock.advance(SETTINGS.poll_interval_seconds)
    assert len(batch.calls) - before == 2  # polling is how changes are found without events
    watch.hub.close(errors.Unavailable("X", "bye"))
    assert len(subscriptions) == 2


async def test_while_describe_jobs_fails_a_confirmation_does_not_put_off_the_retry():
    batch, clock = FakeBatch(), ManualClock()
    watch = build_watch("prod", batch.describe, SETTINGS, clock)
    batch.add("a")
    subscription = await watch.hub.subscribe(["a"])
    watch.poller.reconcile_every(60)
    batch.fail_with = errors.ResourceExhausted("AWS_THROTTLED", "slow down")
    await clock.advance(60)  # the reconcile fails: the state is stale, a retry is due within ~10 s
    failed = len(batch.calls)
    batch.fail_with = None
    watch.poller.confirmed(["a"], 120)  # a listing saw it unchanged: the retry still clears the stale mark
    await clock.advance(15)
    assert len(batch.calls) > failed
    watch.hub.close(errors.Unavailable("X", "bye"))
    assert subscription is not None
