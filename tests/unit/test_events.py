"""Event-driven watches with an injected clock: the EventBridge envelope, ordering (event time,
then job progress), duplicates, terminal finality, polls applied only forward, reconciliation
while the queue answers, fall-back to polling when it fails, recovery with backoff."""

import asyncio
import json
import math

import pytest
from polysync_batch.aws.event_queue import SqsEventQueue
from polysync_batch.aws.translate import RunContext, to_run
from polysync_batch.bootstrap import attach_events, build_watch
from polysync_batch.domain import errors
from polysync_batch.domain.reasons import Reason
from polysync_batch.watch.clock import Wakeup
from polysync_batch.watch.source import Outcome, Source

from tests.manual_clock import ManualClock, settle
from tests.support import watch_config

ACCOUNT, REGION = "111122223333", "eu-west-1"
CTX = RunContext("prod", REGION, None, 600)
SETTINGS = watch_config(
    poll_interval_seconds=5,
    max_poll_interval_seconds=5,
    heartbeat_seconds=3600,
    not_found_after_polls=3,
    describe_jobs_per_second=1000,
    describe_jobs_burst=1000,
    max_cached_runs=100_000,
)
RECONCILE = 60.0
PARSER = SqsEventQueue(None, None, "https://sqs.eu-west-1.amazonaws.com/111122223333/q", CTX, ACCOUNT)


def job(job_id: str, status: str, attempts: int = 0, reason: str = "") -> dict:
    detail = {
        "jobId": job_id,
        "status": status,
        "jobDefinition": "arn:aws:batch:eu-west-1:1:job-definition/d:1",
        "attempts": [{"container": {"exitCode": 1}}] * attempts,
    }
    if reason:
        detail["statusReason"] = reason
    return detail


def envelope(job_id: str, status: str, second: int, attempts: int = 0, **overrides) -> str:
    body = {
        "version": "0",
        "id": f"{job_id}-{status}-{second}",
        "detail-type": "Batch Job State Change",
        "source": "aws.batch",
        "account": ACCOUNT,
        "time": f"2026-12-01T09:00:{second:02d}Z",
        "region": REGION,
        "resources": [],
        "detail": job(job_id, status, attempts),
    }
    body.update(overrides)
    return json.dumps(body)


class FakeBatch:
    def __init__(self) -> None:
        self.jobs: dict[str, dict] = {}
        self.calls = 0
        self.gate: asyncio.Event | None = None  # when set, answers wait for it (a call in flight)

    async def describe(self, run_ids):
        self.calls += 1
        answer = [to_run(self.jobs[i], CTX) for i in run_ids if i in self.jobs]  # as of the request
        await asyncio.sleep(0)
        if self.gate is not None:
            await self.gate.wait()
        return answer


class FakeQueue:
    """The port over an in-memory queue: a receive waits (on the clock) up to 20 s for messages;
    deleted receipts are recorded; `fail_with` makes every receive fail."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.visible: list[tuple[str, str]] = []
        self.deleted: list[str] = []
        self.fail_with: Exception | None = None
        self.receives = 0
        self._wakeups: list[Wakeup] = []
        self._receipts = iter(range(1_000_000))
        self.waiting = self.most_waiting = 0

    def send(self, *bodies: str) -> None:
        self.visible += [(f"r{next(self._receipts)}", body) for body in bodies]
        for wakeup in self._wakeups:
            wakeup.wake()

    async def _wait(self):
        wakeup = Wakeup()
        self._wakeups.append(wakeup)
        try:
            await wakeup.wait(self.clock, 20)
        finally:
            self._wakeups.remove(wakeup)

    async def receive(self, long_poll=True):
        self.receives += 1
        if self.fail_with is not None:
            raise self.fail_with
        if not self.visible and long_poll:
            self.waiting += 1
            self.most_waiting = max(self.most_waiting, self.waiting)
            try:
                await self._wait()
            finally:
                self.waiting -= 1
        taken, self.visible = self.visible[:10], self.visible[10:]
        return [PARSER.parse(receipt, body) for receipt, body in taken]

    async def delete(self, receipts):
        assert len(receipts) <= 10
        self.deleted += receipts

    def close(self):
        pass

    @property
    def in_flight(self) -> int:
        return len(self.visible)


def make(receivers=1):
    clock, batch = ManualClock(), FakeBatch()
    core = build_watch("prod", batch.describe, SETTINGS, clock)
    hub = core.hub
    queue = FakeQueue(clock)
    consumer = attach_events(core, queue, SETTINGS, reconcile_interval_seconds=RECONCILE, receivers=receivers)
    return clock, batch, hub, queue, consumer


async def watch(hub, clock, run_ids):
    subscription = await hub.subscribe(run_ids)
    seen = []

    async def drain():
        async for event in subscription.events(clock, SETTINGS.heartbeat_seconds):
            if not event.heartbeat:
                seen.append(event.run.native_status)

    task = asyncio.ensure_future(drain())
    await settle()
    return task, seen


async def test_events_apply_only_forward_and_duplicates_send_nothing():
    clock, batch, hub, queue, consumer = make()
    batch.jobs["a"] = job("a", "RUNNABLE")
    task, seen = await watch(hub, clock, ["a"])
    consumer.start()
    await settle()
    queue.send(envelope("a", "RUNNING", 10), envelope("a", "STARTING", 9), envelope("a", "RUNNING", 10))
    await settle()
    queue.send(envelope("a", "SUCCEEDED", 12), envelope("a", "RUNNING", 13), envelope("a", "FAILED", 14))
    await settle()
    assert seen == ["RUNNABLE", "RUNNING", "SUCCEEDED"]
    assert task.done()  # the terminal state ended the watch
    assert (await hub.get("a")).native_status == "SUCCEEDED"  # final, whatever came after
    assert {k: v for k, v in consumer.counts.items() if v} == {"applied": 2, "stale": 3, "duplicate": 1}
    assert len(queue.deleted) == 6 and queue.in_flight == 0
    hub.close(errors.server_shutting_down())


async def test_same_second_is_ordered_by_status_and_a_retry_moves_forward_by_its_attempts():
    clock, batch, hub, queue, consumer = make()
    batch.jobs["a"] = job("a", "SUBMITTED")
    task, seen = await watch(hub, clock, ["a"])
    consumer.start()
    queue.send(envelope("a", "RUNNABLE", 5), envelope("a", "PENDING", 5))  # same second, reversed
    await settle()
    assert seen == ["SUBMITTED", "RUNNABLE"]
    for body in (
        envelope("a", "RUNNING", 6),
        envelope("a", "RUNNABLE", 6, attempts=1),  # attempt 1 failed, same second: a retry
        envelope("a", "RUNNING", 6),
    ):  # attempt 1's RUNNING again: older than the retry
        queue.send(body)
        await settle()
    assert seen == ["SUBMITTED", "RUNNABLE", "RUNNING", "RUNNABLE"]
    assert consumer.counts["stale"] == 2
    task.cancel()
    hub.close(errors.server_shutting_down())


async def test_a_poll_answer_older_than_an_event_changes_nothing():
    """A DescribeJobs answer may describe an instant before an event applied meanwhile:
    polls are forward-only too, so watchers never see RUNNING → RUNNABLE → RUNNING."""
    clock, batch, hub, queue, consumer = make()
    batch.jobs["a"] = job("a", "RUNNABLE")
    task, seen = await watch(hub, clock, ["a"])
    assert hub.observe(to_run(job("a", "RUNNING"), CTX), Source.EVENT, None) is Outcome.APPLIED
    await clock.advance(SETTINGS.poll_interval_seconds)  # the poll still says RUNNABLE
    assert batch.calls == 2
    assert seen == ["RUNNABLE", "RUNNING"]
    batch.jobs["a"] = job("a", "SUCCEEDED")
    await clock.advance(SETTINGS.poll_interval_seconds)
    assert seen == ["RUNNABLE", "RUNNING", "SUCCEEDED"]
    task.cancel()
    hub.close(errors.server_shutting_down())


async def test_events_of_runs_neither_followed_nor_cached_are_not_kept():
    clock, batch, hub, queue, consumer = make()
    consumer.start()
    queue.send(envelope("elsewhere", "RUNNING", 1))
    await settle()
    assert consumer.counts["untracked"] == 1 and queue.deleted == ["r0"]
    batch.jobs["elsewhere"] = job("elsewhere", "RUNNABLE")
    assert (await hub.get("elsewhere")).native_status == "RUNNABLE"  # nothing cached from the event
    hub.close(errors.server_shutting_down())


@pytest.mark.parametrize(
    "body,outcome",
    [
        ("not json {", "malformed"),
        ('"a string"', "malformed"),
        (envelope("a", "RUNNING", 1, **{"detail-type": "EC2 Instance State-change Notification"}), "foreign"),
        (envelope("a", "RUNNING", 1, source="aws.ec2"), "foreign"),
        (envelope("a", "RUNNING", 1, account="999999999999"), "foreign"),
        (envelope("a", "RUNNING", 1, region="us-east-1"), "foreign"),
        (envelope("a", "RUNNING", 1, detail={"jobId": "a"}), "malformed"),
        (envelope("a", "RUNNING", 1, detail={"jobId": "a", "status": "EXPLODED", "jobDefinition": "x"}), "malformed"),
        (envelope("a", "RUNNING", 1, time="yesterday"), "malformed"),
    ],
)
async def test_bad_messages_are_counted_logged_once_and_deleted(body, outcome, caplog):
    clock, batch, hub, queue, consumer = make()
    batch.jobs["a"] = job("a", "RUNNABLE")
    task, seen = await watch(hub, clock, ["a"])
    consumer.start()
    queue.send(body, envelope("a", "RUNNING", 2))
    await settle()
    assert consumer.counts[outcome] == 1 and consumer.counts["applied"] == 1
    assert queue.deleted == ["r0", "r1"] and queue.in_flight == 0
    assert len([r for r in caplog.records if "dropping an event message" in r.getMessage()]) == 1
    assert seen == ["RUNNABLE", "RUNNING"]  # the consumer kept going
    task.cancel()
    hub.close(errors.server_shutting_down())


def test_an_sns_notification_is_unwrapped():
    wrapped = json.dumps({"Type": "Notification", "Message": envelope("a", "RUNNING", 3)})
    event = PARSER.parse("r", wrapped)
    assert event.run.native_status == "RUNNING" and event.time.second == 3 and not event.rejected


async def test_polling_is_reconciliation_while_events_flow_and_returns_at_once_when_the_queue_fails(caplog):
    clock, batch, hub, queue, consumer = make()
    ids = [f"r{i}" for i in range(1000)]
    for run_id in ids:
        batch.jobs[run_id] = job(run_id, "RUNNING")
    subscriptions = [await hub.subscribe([run_id]) for run_id in ids]
    calls = batch.calls
    await clock.advance(SETTINGS.poll_interval_seconds)
    assert batch.calls - calls == 10  # no queue yet: polling every 5 s

    consumer.start()
    await settle()
    assert consumer.healthy
    calls = batch.calls
    await clock.advance(RECONCILE - 1)
    assert batch.calls - calls <= 10  # at most the round already due
    calls = batch.calls
    for _ in range(3):
        await clock.advance(RECONCILE)
    assert batch.calls - calls == 3 * math.ceil(len(ids) / 100)  # ⌈M/100⌉ per reconcile interval

    queue.fail_with = errors.Unavailable(Reason.AWS_UNAVAILABLE, "sqs is down")
    queue.send()  # ends the long poll in flight; the next receive fails
    await settle()
    receives = queue.receives
    assert not consumer.healthy and "sqs is down" in consumer.failure
    assert "event queue failing" in caplog.text and "sqs is down" in caplog.text
    await clock.advance(0)
    calls = batch.calls
    await clock.advance(SETTINGS.poll_interval_seconds)
    assert batch.calls - calls >= 10  # back to every 5 s at once
    calls = batch.calls
    await clock.advance(SETTINGS.poll_interval_seconds * 4)
    assert batch.calls - calls == 40

    await clock.advance(30)  # 55 s failing: backoff 1, 2, 4, 8, 16, 32 s (halved at most by jitter)
    assert 4 <= queue.receives - receives <= 8  # retries with backoff, not in a tight loop
    queue.fail_with = None
    await clock.advance(60)
    assert consumer.healthy  # recovered by itself
    calls = batch.calls
    await clock.advance(RECONCILE)
    assert batch.calls - calls <= 20  # reconciliation again
    for subscription in subscriptions:
        hub.unsubscribe(subscription)
    hub.close(errors.server_shutting_down())


async def test_a_receive_failure_before_any_success_keeps_polling_and_ends_nothing():
    clock, batch, hub, queue, consumer = make()
    batch.jobs["a"] = job("a", "RUNNING")
    queue.fail_with = errors.PlatformError(Reason.AWS_ACCESS_DENIED, "no sqs:ReceiveMessage")
    task, seen = await watch(hub, clock, ["a"])
    consumer.start()
    await clock.advance(20)
    assert not consumer.healthy and not task.done()
    batch.jobs["a"] = job("a", "SUCCEEDED")
    await clock.advance(SETTINGS.poll_interval_seconds)
    assert seen == ["RUNNING", "SUCCEEDED"]
    hub.close(errors.server_shutting_down())


async def test_several_receivers_share_one_queue_and_every_message_is_applied_once():
    clock, batch, hub, queue, consumer = make(receivers=4)
    ids = [f"r{i}" for i in range(100)]
    for run_id in ids:
        batch.jobs[run_id] = job(run_id, "RUNNABLE")
    subscriptions = [await hub.subscribe([run_id]) for run_id in ids]
    consumer.start()
    await settle()
    assert queue.most_waiting == 4  # four long polls in flight
    queue.send(*[envelope(run_id, "RUNNING", 5) for run_id in ids])
    queue.send(*[envelope(run_id, "RUNNING", 5) for run_id in ids])  # every one twice
    await settle(200)
    assert consumer.counts["applied"] == 100 and consumer.counts["duplicate"] == 100
    assert queue.in_flight == 0 and len(queue.deleted) == 200
    assert all(hub._entries[run_id].run.native_status == "RUNNING" for run_id in ids)
    for subscription in subscriptions:
        hub.unsubscribe(subscription)
    hub.close(errors.server_shutting_down())


async def test_an_event_during_the_first_read_of_a_new_watch_is_kept_and_not_undone():
    """subscribe → DescribeJobs (RUNNABLE) in flight → the RUNNING event arrives → the answer
    arrives: the watcher and gets see RUNNING, never RUNNABLE after it."""
    clock, batch, hub, queue, consumer = make()
    batch.jobs["a"] = job("a", "RUNNABLE")
    batch.gate = asyncio.Event()
    subscribing = asyncio.ensure_future(hub.subscribe(["a"]))
    await settle()
    assert hub.observe(to_run(job("a", "RUNNING"), CTX), Source.EVENT, None) is Outcome.APPLIED
    batch.gate.set()
    subscription = await subscribing
    seen = []

    async def drain():
        async for event in subscription.events(clock, SETTINGS.heartbeat_seconds):
            seen.append(event.run.native_status)

    task = asyncio.ensure_future(drain())
    await settle()
    assert seen == ["RUNNING"]
    assert (await hub.get("a")).native_status == "RUNNING"
    task.cancel()
    hub.close(errors.server_shutting_down())


async def test_a_replica_that_does_not_hold_the_history_lease_receives_nothing_until_it_does():
    clock, batch = ManualClock(), FakeBatch()
    core = build_watch("prod", batch.describe, SETTINGS, clock)
    queue = FakeQueue(clock)
    state = {"writer": False, "relay": True}
    consumer = attach_events(
        core,
        queue,
        SETTINGS,
        reconcile_interval_seconds=RECONCILE,
        consuming=lambda: state["writer"],
        relay_ok=lambda: state["relay"],
    )
    consumer.start()
    queue.send(envelope("a", "RUNNING", 10))
    for _ in range(5):
        await clock.advance(0.5)
        await settle()
    assert queue.receives == 0 and queue.in_flight == 1  # left for the writer
    assert consumer.healthy  # the writer's changes arrive through the table: reconcile only
    state["relay"] = False  # no writer, or the tail fails: poll
    await clock.advance(0.5)
    await settle()
    assert not consumer.healthy and "lease" in consumer.failure
    state.update(writer=True, relay=True)  # this replica took the lease: it receives
    await clock.advance(0.5)
    await settle()
    assert queue.receives >= 1 and queue.in_flight == 0 and consumer.healthy
    core.hub.close(errors.server_shutting_down())
