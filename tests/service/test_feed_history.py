"""The feed's durable history (SPEC §12) in a DynamoDB table at the emulator: two replicas on
one table (a cursor from one resumes on the other with nothing missed, and only one writes), a
restart that resumes from a cursor, retention, and runs AWS forgot answered from the table."""

import asyncio
import contextlib
import time
import uuid

import boto3
import grpc
import pytest
from moto.batch.models import batch_backends
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync_batch.bootstrap import build_platform
from polysync_batch.config import EventsConfig, PlatformConfig
from polysync_batch.domain.models import PlatformInfo
from polysync_batch.emulator import Lifecycle, start_emulator
from polysync_batch.emulator.seed import seed_history_table
from polysync_batch.service.registry import PlatformRegistry

from tests.faults.test_feed_events import HELD_BACK, until
from tests.service.test_feed import collect, final_states, seen, submit_outside
from tests.support import FAST_WATCH, reason_of, serve

LIFECYCLE = Lifecycle(submitted=0.1, pending=0.1, runnable=0.1, starting=0.1, running=0.4)
TERMINAL = {"SUCCEEDED", "FAILED"}


@pytest.fixture(scope="module")
def emulator():
    with start_emulator(LIFECYCLE) as running:
        yield running


@pytest.fixture
def table(emulator):
    """A table of its own per test, made as the README makes it."""
    dynamodb = emulator.client("dynamodb")
    name = seed_history_table(dynamodb)  # the emulator's own, for its definition
    description = dynamodb.describe_table(TableName=name)["Table"]
    fresh = f"feed-history-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=fresh,
        AttributeDefinitions=description["AttributeDefinitions"],
        KeySchema=description["KeySchema"],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=fresh, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )
    return fresh


def replica(emulator, table: str, events: bool = False) -> PlatformRegistry:
    """A replica on the table; with `events`, on the emulator's one event queue, which every
    replica shares, with the watch core's own polling held back (only events move watches)."""
    session = boto3.Session(
        aws_access_key_id=emulator.access_key_id,
        aws_secret_access_key=emulator.secret_access_key,
        region_name=emulator.region,
    )
    info = PlatformInfo("demo", emulator.region, emulator.job_queue, None, 600.0)
    queue = EventsConfig(sqs_queue_url=emulator.events_queue_url, reconcile_interval_seconds=60) if events else None
    aws = PlatformConfig(region=emulator.region, max_attempts=3, history_table=table, events=queue)
    watch = HELD_BACK if events else FAST_WATCH
    platform = build_platform(info, session, None, endpoint_url=emulator.endpoint_url, watch=watch, aws=aws)
    return PlatformRegistry({"demo": platform}, "demo")


def history_of(served):
    return served.platforms.get("demo").feed._history


def terminal_in(earlier, run_ids):
    def check(messages):
        last = {rid: states[-1][1] for rid, states in seen(earlier + messages).items()}
        return all(last.get(rid) in TERMINAL for rid in run_ids)

    return check


async def test_a_cursor_from_one_replica_resumes_on_the_other_with_nothing_missed(emulator, table):
    async with serve(replica(emulator, table)) as one, serve(replica(emulator, table)) as two:
        # A watcher on each replica, open throughout: when does each change reach each?
        arrivals = [{}, {}]

        async def watch(served, into):
            async for message in served.stub.WatchRunChanges(pb.WatchRunChangesRequest()):
                for change in message.changes:
                    into.setdefault((change.run.run_id, change.version), time.monotonic())

        watchers = [asyncio.ensure_future(watch(s, into)) for s, into in zip((one, two), arrivals, strict=True)]
        stream = one.stub.WatchRunChanges(pb.WatchRunChangesRequest())
        first_part = await collect(stream, lambda ms: True)
        first_runs = submit_outside(emulator, 4, "replica-a")
        first_part += await collect(stream, lambda ms: sum(len(m.changes) for m in ms) >= 3)
        stream.cancel()
        cursor = first_part[-1].cursor
        later = submit_outside(emulator, 4, "replica-b")
        everything = first_runs + later
        resumed = two.stub.WatchRunChanges(pb.WatchRunChangesRequest(cursor=cursor))
        second_part = await collect(resumed, terminal_in(first_part, everything), timeout=20)
        resumed.cancel()
        await asyncio.sleep(0.5)
        for watcher in watchers:
            watcher.cancel()
        leaders = [history_of(s).leader for s in (one, two)]
    assert sorted(leaders) == [False, True]
    # Both watchers saw every change of these runs, within about a second of each other.
    assert set(arrivals[0]) == set(arrivals[1]) and {r for r, _ in arrivals[0]} >= set(everything)
    gaps = sorted(abs(arrivals[0][key] - arrivals[1][key]) for key in arrivals[0])
    assert gaps[-1] < 1.0, gaps[-5:]
    union = seen(first_part + second_part)
    truth = final_states(emulator, everything)
    for run_id in everything:
        assert union[run_id][-1][1] == truth[run_id]
        versions = [v for v, _ in seen(second_part).get(run_id, [])]
        assert versions == sorted(versions) and len(set(versions)) == len(versions)
    # Each change is in the table once: positions are dense and no (run, version) repeats.
    items = emulator.client("dynamodb").scan(TableName=table)["Items"]
    changes = [(i["sk"]["S"], i["version"]["N"]) for i in items if "#c#" in i["pk"]["S"]]
    positions = sorted(int(sk) for sk, _ in changes)
    assert positions == list(range(1, len(positions) + 1))


async def test_replicas_sharing_one_event_queue_each_see_every_change_within_about_a_second(emulator, table):
    # Two replicas on one configuration: one table, one SQS queue. Reconcile rounds every 60 s
    # and polling held back at 30 s, so within the test only events move watches and the feed.
    async with serve(replica(emulator, table, True)) as one, serve(replica(emulator, table, True)) as two:
        await until(lambda: history_of(one).leader or history_of(two).leader)
        writer, other = (one, two) if history_of(one).leader else (two, one)
        consumers = [s.platforms.get("demo").events for s in (writer, other)]
        await until(lambda: all(c.healthy for c in consumers))
        arrivals: list[dict] = [{}, {}]  # (run id, status) → when it reached each replica's feed
        feeds = [[], []]

        async def follow(served, into, messages):
            async for message in served.stub.WatchRunChanges(pb.WatchRunChangesRequest()):
                messages.append(message)
                for change in message.changes:
                    into.setdefault((change.run.run_id, change.run.native_status), time.monotonic())

        tasks = [
            asyncio.ensure_future(follow(s, into, ms))
            for s, into, ms in zip((writer, other), arrivals, feeds, strict=True)
        ]
        await until(lambda: all(feeds))
        receives_before = consumers[1].receives
        run_ids = submit_outside(emulator, 6, "shared-queue")
        # A WatchPipelineRun on the replica that does not write sees the run finish too.
        watched = []

        async def watch_one():
            async for message in other.stub.WatchPipelineRun(pb.WatchPipelineRunRequest(run_id=run_ids[0])):
                watched.append(message.run.native_status)

        tasks.append(asyncio.ensure_future(watch_one()))
        truth = None

        def finished():
            return all(seen(ms).get(r) and seen(ms)[r][-1][1] in TERMINAL for ms in feeds for r in run_ids)

        await until(finished, 15)
        await until(lambda: watched and watched[-1] in TERMINAL, 5)
        await asyncio.sleep(0.5)
        for task in tasks:
            task.cancel()
        truth = final_states(emulator, run_ids)
        receives_after = consumers[1].receives
    for messages in feeds:
        assert {r: seen(messages)[r][-1][1] for r in run_ids} == truth
    mine = {key for key in arrivals[0] if key[0] in run_ids}
    assert mine == {key for key in arrivals[1] if key[0] in run_ids}
    gaps = sorted(arrivals[1][key] - arrivals[0][key] for key in mine)
    assert gaps[-1] < 1.0, gaps[-5:]
    assert receives_after == receives_before  # only the writer takes messages off the queue
    assert watched[-1] == truth[run_ids[0]]


async def test_when_the_writer_stops_the_other_replica_takes_the_shared_queue_over(emulator, table):
    async with contextlib.AsyncExitStack() as stack_a, contextlib.AsyncExitStack() as stack_b:
        a = await stack_a.enter_async_context(serve(replica(emulator, table, True)))
        b = await stack_b.enter_async_context(serve(replica(emulator, table, True)))
        await until(lambda: history_of(a).leader or history_of(b).leader)
        (writer, stop_writer), other = ((a, stack_a), b) if history_of(a).leader else ((b, stack_b), a)
        messages = []
        task = asyncio.ensure_future(collect_into(other, messages))
        await until(lambda: messages)
        receives = other.platforms.get("demo").events.receives
        assert history_of(writer).leader and not history_of(other).leader
        await stop_writer.aclose()
        # The writer gave its lease up on shutdown: the other takes it and receives.
        await until(lambda: history_of(other).leader, 10)
        run_ids = submit_outside(emulator, 3, "after-failover")

        def finished():
            last = {rid: states[-1][1] for rid, states in seen(messages).items()}
            return all(last.get(r) in TERMINAL for r in run_ids)

        await until(finished, 15)
        task.cancel()
        assert other.platforms.get("demo").events.receives > receives
    assert {r: seen(messages)[r][-1][1] for r in run_ids} == final_states(emulator, run_ids)


async def collect_into(served, messages):
    async for message in served.stub.WatchRunChanges(pb.WatchRunChangesRequest()):
        messages.append(message)


async def test_a_restart_resumes_from_the_cursor_and_expired_changes_are_cursor_expired(emulator, table):
    async with serve(replica(emulator, table)) as before:
        stream = before.stub.WatchRunChanges(pb.WatchRunChangesRequest())
        cursor = (await collect(stream, lambda ms: True))[-1].cursor
        stream.cancel()
        run_ids = submit_outside(emulator, 3, "across-restart")
        await asyncio.sleep(0.3)  # some of their changes are recorded by this process
    # While no server runs, the runs finish; the next process finds them and resumes the cursor.
    await asyncio.sleep(1.0)
    async with serve(replica(emulator, table)) as after:
        resumed = after.stub.WatchRunChanges(pb.WatchRunChangesRequest(cursor=cursor))
        messages = await collect(resumed, terminal_in([], run_ids), timeout=20)
        resumed.cancel()
        # Retention: the oldest changes expire (their expires_at passes); their cursor then is expired.
        dynamodb = emulator.client("dynamodb")
        for item in dynamodb.scan(TableName=table)["Items"]:
            if "#c#" in item["pk"]["S"] and item["sk"]["S"] == f"{1:016d}":
                dynamodb.update_item(
                    TableName=table,
                    Key={"pk": item["pk"], "sk": item["sk"]},
                    UpdateExpression="SET expires_at = :past",
                    ExpressionAttributeValues={":past": {"N": "1"}},
                )
        history_of(after)._recent.clear()  # as if this replica had started since
        with pytest.raises(grpc.aio.AioRpcError) as expired:
            await after.stub.WatchRunChanges(pb.WatchRunChangesRequest(cursor=cursor)).read()
    assert {rid: states[-1][1] for rid, states in seen(messages).items() if rid in run_ids} == final_states(
        emulator, run_ids
    )
    assert expired.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason_of(expired.value) == "CURSOR_EXPIRED"


async def test_runs_aws_forgot_are_answered_from_the_table(emulator, table):
    async with serve(replica(emulator, table)) as served:
        stream = served.stub.WatchRunChanges(pb.WatchRunChangesRequest())
        await stream.read()
        [run_id] = submit_outside(emulator, 1, "forgotten")
        await collect(stream, terminal_in([], [run_id]))
        stream.cancel()
    backend = batch_backends[emulator.account_id][emulator.region]
    del backend._jobs[run_id]  # AWS forgets finished jobs after a while
    async with serve(replica(emulator, table)) as served:
        got = await served.stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id=run_id))
        batch = await served.stub.BatchGetPipelineRuns(pb.BatchGetPipelineRunsRequest(run_ids=[run_id, "nope"]))
    assert got.run.run_id == run_id and got.run.native_status == "SUCCEEDED"
    assert [r.run_id for r in batch.runs] == [run_id] and list(batch.missing_run_ids) == ["nope"]
