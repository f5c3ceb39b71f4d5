"""WatchRunChanges (SPEC §12) against the emulator, polling only (no events): snapshot, cursors,
resume with nothing missed, batching, tags, heartbeats, runs submitted outside the service,
and bad cursors. What the streams saw is compared with what the emulator holds."""

import asyncio
import hashlib

import grpc
import pytest
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync.platform.v1 import platform_service_pb2_grpc as pb_grpc
from polysync_batch.api.server import build_server
from polysync_batch.bootstrap import demo_platforms
from polysync_batch.config import AccessConfig, CallerAuthConfig, ServerConfig
from polysync_batch.emulator import Lifecycle, start_emulator

from tests.support import FAST_WATCH, error_details, reason_of, serve

LIFECYCLE = Lifecycle(submitted=0.1, pending=0.1, runnable=0.1, starting=0.1, running=0.4)
TERMINAL = {"SUCCEEDED", "FAILED"}


@pytest.fixture(scope="module")
def emulator():
    with start_emulator(LIFECYCLE) as running:
        yield running


@pytest.fixture
async def served(emulator):
    async with serve(demo_platforms(emulator, None, FAST_WATCH, events=False)) as served:
        yield served


def submit_outside(emulator, count, prefix="outside", tags=None):
    """Jobs submitted straight to the emulator with boto3: the service never sees the submits."""
    batch = emulator.client("batch")
    return [
        batch.submit_job(jobName=f"{prefix}-{i}", jobQueue=emulator.job_queue, jobDefinition="hello", tags=tags or {})[
            "jobId"
        ]
        for i in range(count)
    ]


def final_states(emulator, run_ids):
    batch = emulator.client("batch")
    found = {}
    for start in range(0, len(run_ids), 100):
        for job in batch.describe_jobs(jobs=run_ids[start : start + 100])["jobs"]:
            found[job["jobId"]] = job["status"]
    return found


async def collect(stream, until, timeout=30.0):
    """Messages of `stream` until `until(messages)` holds."""
    messages = []

    async def read():
        while True:
            message = await stream.read()
            assert message is not grpc.aio.EOF, "the stream ended"
            messages.append(message)
            if until(messages):
                return

    await asyncio.wait_for(read(), timeout)
    return messages


def seen(messages):
    """(run_id → [(version, native_status), …]) in the order received."""
    runs = {}
    for message in messages:
        for change in message.changes:
            runs.setdefault(change.run.run_id, []).append((change.version, change.run.native_status))
    return runs


def all_terminal(run_ids):
    def check(messages):
        last = {rid: states[-1][1] for rid, states in seen(messages).items()}
        return all(last.get(rid) in TERMINAL for rid in run_ids)

    return check


async def test_first_message_at_once_then_the_changes_of_a_run_the_service_submitted(served):
    stream = served.stub.WatchRunChanges(pb.WatchRunChangesRequest())
    first = await asyncio.wait_for(stream.read(), 5)
    assert first.heartbeat and first.cursor and not first.changes
    run = (await served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello"))).run
    messages = await collect(stream, all_terminal([run.run_id]))
    stream.cancel()
    states = seen(messages)[run.run_id]
    versions = [v for v, _ in states]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    assert states[-1][1] == "SUCCEEDED"
    assert all(m.cursor for m in messages)


async def test_snapshot_then_resume_after_disconnect_misses_nothing(served, emulator):
    before = submit_outside(emulator, 3, "snap")
    await asyncio.sleep(0.05)
    # A snapshot holds the non-terminal runs the feed knows; then a message with snapshot_complete.
    stream = served.stub.WatchRunChanges(pb.WatchRunChangesRequest(snapshot=True))
    snapshot = await collect(stream, lambda ms: ms[-1].snapshot_complete)
    # Read some changes, keep the last cursor, disconnect.
    first_part = await collect(stream, lambda ms: sum(len(m.changes) for m in ms) >= 2)
    stream.cancel()
    cursor = first_part[-1].cursor
    # Meanwhile more runs, submitted outside the service, change.
    later = submit_outside(emulator, 5, "later")
    await asyncio.sleep(0.5)
    everything = before + later
    resumed = served.stub.WatchRunChanges(pb.WatchRunChangesRequest(cursor=cursor))
    second_part = await collect(resumed, _terminal_in(first_part, everything))
    resumed.cancel()
    union = seen(snapshot + first_part + second_part)
    truth = final_states(emulator, everything)
    for run_id in everything:
        assert run_id in union, f"{run_id} never appeared in the feed"
        assert union[run_id][-1][1] == truth[run_id], (run_id, union[run_id], truth[run_id])
        versions = [v for v, _ in seen(second_part).get(run_id, [])]
        assert versions == sorted(versions)


def _terminal_in(earlier, run_ids):
    def check(messages):
        last = {rid: states[-1][1] for rid, states in seen(earlier + messages).items()}
        return all(last.get(rid) in TERMINAL for rid in run_ids)

    return check


async def test_changes_that_arrive_together_share_messages(emulator):
    # Discovery every 0.5 s: each round's DescribeJobs answer (up to 100 runs) is one batch.
    watch = FAST_WATCH.model_copy(update={"poll_interval_seconds": 0.5})
    async with serve(demo_platforms(emulator, None, watch, events=False)) as served:
        stream = served.stub.WatchRunChanges(pb.WatchRunChangesRequest())
        await stream.read()
        run_ids = submit_outside(emulator, 60, "wave")
        messages = await collect(stream, all_terminal(run_ids), timeout=30)
        stream.cancel()
    changes = sum(len(m.changes) for m in messages)
    assert set(run_ids) <= set(seen(messages))
    assert changes >= len(run_ids)
    assert len(messages) * 10 <= changes, (len(messages), changes)
    assert max(len(m.changes) for m in messages) <= 500


async def test_tag_filter_keeps_runs_whose_tags_include_all_given(served, emulator):
    stream = served.stub.WatchRunChanges(pb.WatchRunChangesRequest(tags={"team": "a", "tier": "1"}))
    await stream.read()
    mine = submit_outside(emulator, 2, "team-a", tags={"team": "a", "tier": "1", "extra": "x"})
    others = submit_outside(emulator, 2, "team-b", tags={"team": "b", "tier": "1"})
    others += submit_outside(emulator, 1, "team-a-partial", tags={"team": "a"})
    messages = await collect(stream, all_terminal(mine))
    # The others' changes happened meanwhile (the same lifecycle): none reached this stream.
    await asyncio.sleep(0.3)
    stream.cancel()
    assert set(seen(messages)) == set(mine)
    assert set(final_states(emulator, others).values()) <= TERMINAL


async def test_a_quiet_feed_gets_heartbeats_with_its_latest_cursor(emulator):
    watch = FAST_WATCH.model_copy(update={"heartbeat_seconds": 0.2})
    async with serve(demo_platforms(emulator, None, watch, events=False)) as served:
        stream = served.stub.WatchRunChanges(pb.WatchRunChangesRequest(tags={"nobody": "uses-this"}))
        messages = await collect(stream, lambda ms: len(ms) >= 4, timeout=5)
        stream.cancel()
    assert all(m.heartbeat and m.cursor and not m.changes for m in messages)


async def test_bad_cursors_are_refused_with_what_to_do(served, emulator):
    stream = served.stub.WatchRunChanges(pb.WatchRunChangesRequest())
    cursor = (await stream.read()).cursor
    stream.cancel()

    async def first_error(**request):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await served.stub.WatchRunChanges(pb.WatchRunChangesRequest(**request)).read()
        return caught.value

    body, _, mac = cursor.partition(".")
    flipped = mac[:-2] + ("A" if mac[-2] != "A" else "B") + mac[-1]
    for bad in ("not a cursor", "e30.", body + "." + flipped, "x" * 600):
        error = await first_error(cursor=bad)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, (bad, error.details())
        violations = error_details(error)["BadRequest"].field_violations
        assert [v.field for v in violations] == ["cursor"]
    # A filter no run could match is refused, not followed forever.
    error = await first_error(tags={f"k{i}": "v" for i in range(51)})
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in error_details(error)["BadRequest"].field_violations] == ["tags"]
    # Issued for other filters.
    error = await first_error(cursor=cursor, tags={"team": "a"})
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    # Well-formed, from another server process: expired, relist.
    async with serve(demo_platforms(emulator, None, FAST_WATCH, events=False)) as other:
        foreign = other.stub.WatchRunChanges(pb.WatchRunChangesRequest())
        foreign_cursor = (await foreign.read()).cursor
        foreign.cancel()
    error = await first_error(cursor=foreign_cursor)
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason_of(error) == "CURSOR_EXPIRED"


async def test_shutdown_ends_feeds_unavailable_and_feeds_count_as_streams(emulator):
    async with serve(demo_platforms(emulator, None, FAST_WATCH, events=False), max_streams_per_caller=1) as served:
        stream = served.stub.WatchRunChanges(pb.WatchRunChangesRequest())
        await stream.read()
        with pytest.raises(grpc.aio.AioRpcError) as over:
            await served.stub.WatchRunChanges(pb.WatchRunChangesRequest()).read()
        assert over.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert reason_of(over.value) == "TOO_MANY_STREAMS"
        stopping = asyncio.ensure_future(served.running.stop(5))
        with pytest.raises(grpc.aio.AioRpcError) as ended:
            await asyncio.wait_for(stream.read(), 2)
        await stopping
    assert ended.value.code() == grpc.StatusCode.UNAVAILABLE
    assert reason_of(ended.value) == "SERVER_SHUTTING_DOWN"


async def test_read_access_is_enough_for_the_feed_and_no_access_is_refused(emulator):
    tokens = {"reader": "reader-token-1", "stranger": "stranger-token-1"}
    auth = CallerAuthConfig(
        tokens=[{"caller": c, "sha256": hashlib.sha256(t.encode()).hexdigest()} for c, t in tokens.items()]
    )
    platforms = demo_platforms(emulator, None, FAST_WATCH, events=False)
    settings = ServerConfig(address="127.0.0.1:0", health_check_interval_seconds=0)
    running = await build_server(
        platforms, settings, auth=auth, access={"demo": AccessConfig(read=["reader"], submit=["scheduler"])}
    )
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = pb_grpc.PlatformServiceStub(channel)

            def as_caller(name):
                return stub.WatchRunChanges(
                    pb.WatchRunChangesRequest(), metadata=(("authorization", f"Bearer {tokens[name]}"),)
                )

            reading = as_caller("reader")
            assert (await reading.read()).heartbeat
            reading.cancel()
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await as_caller("stranger").read()
            assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
            assert reason_of(refused.value) == "CALLER_NOT_ALLOWED"
    finally:
        await running.stop(None)


async def test_array_children_are_runs_of_their_own_in_the_feed(served, emulator):
    stream = served.stub.WatchRunChanges(pb.WatchRunChangesRequest())
    await stream.read()
    parent = emulator.client("batch").submit_job(
        jobName="array-outside", jobQueue=emulator.job_queue, jobDefinition="fan-out", arrayProperties={"size": 3}
    )["jobId"]
    children = [f"{parent}:{i}" for i in range(3)]
    messages = await collect(stream, all_terminal([parent, *children]), timeout=20)
    stream.cancel()
    runs = seen(messages)
    assert set(children) <= set(runs)
    assert final_states(emulator, children) == {c: runs[c][-1][1] for c in children}


async def test_a_snapshot_holds_every_run_the_first_discovery_round_found(emulator):
    # Runs already there when the first feed stream opens, submitted outside the service.
    batch = emulator.client("batch")
    run_ids = [
        batch.submit_job(
            jobName=f"before-the-feed-{i}",
            jobQueue=emulator.job_queue,
            jobDefinition="hello",
            parameters={"duration_seconds": "60"},
        )["jobId"]
        for i in range(5)
    ]
    async with serve(demo_platforms(emulator, None, FAST_WATCH, events=False)) as served:
        stream = served.stub.WatchRunChanges(pb.WatchRunChangesRequest(snapshot=True))
        snapshot = await collect(stream, lambda ms: ms[-1].snapshot_complete)
        stream.cancel()
    in_snapshot = {change.run.run_id for message in snapshot for change in message.changes}
    assert set(run_ids) <= in_snapshot, f"{len(set(run_ids) - in_snapshot)} of 5 runs missing from the snapshot"
    for run_id in run_ids:
        batch.terminate_job(jobId=run_id, reason="test over")
