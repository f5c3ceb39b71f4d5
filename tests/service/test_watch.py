"""Watch streams through a real server: shutdown, reconnect, per-caller limits, heartbeats."""

import asyncio
import time

import grpc
import pytest
from polysync.platform.v1 import pipeline_run_pb2 as runs_pb
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync_batch.bootstrap import demo_platforms

from tests.support import FAST_WATCH, CallCounter, reason_of, serve


async def long_run(stub) -> str:
    response = await stub.ExecutePipeline(
        pb.ExecutePipelineRequest(pipeline="hello", parameters={"duration_seconds": "30"})
    )
    return response.run.run_id


async def test_shutdown_ends_watch_streams_unavailable_at_once_and_reconnect_gets_the_state(emulator):
    async with serve(demo_platforms(emulator, None, FAST_WATCH)) as first:
        run_id = await long_run(first.stub)
        stream = first.stub.WatchPipelineRun(pb.WatchPipelineRunRequest(run_id=run_id))
        first_event = await stream.read()
        assert first_event.sequence == 1
        started = time.monotonic()
        stopping = asyncio.ensure_future(first.running.stop(grace=10))
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            while True:
                event = await stream.read()
                assert event is not grpc.aio.EOF, "stream ended OK before its run did"
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        assert reason_of(caught.value) == "SERVER_SHUTTING_DOWN"
        assert time.monotonic() - started < 2  # not held for the 10 s grace period
        await stopping
    async with serve(demo_platforms(emulator, None, FAST_WATCH)) as second:
        stream = second.stub.WatchPipelineRun(pb.WatchPipelineRunRequest(run_id=run_id))
        resumed = await stream.read()
        assert resumed.sequence == 1 and resumed.run.run_id == run_id and resumed.run.native_status
        stream.cancel()


async def test_per_caller_stream_cap_is_resource_exhausted(emulator):
    async with serve(demo_platforms(emulator, None, FAST_WATCH), max_streams_per_caller=2) as served:
        run_id = await long_run(served.stub)
        streams = [served.stub.WatchPipelineRun(pb.WatchPipelineRunRequest(run_id=run_id)) for _ in range(2)]
        for stream in streams:
            await stream.read()
        third = served.stub.WatchPipelineRun(pb.WatchPipelineRunRequest(run_id=run_id))
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await third.read()
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert reason_of(caught.value) == "TOO_MANY_STREAMS"
        streams[0].cancel()
        await asyncio.sleep(0.1)  # the slot is given back when a stream ends
        fourth = served.stub.WatchPipelineRun(pb.WatchPipelineRunRequest(run_id=run_id))
        assert (await fourth.read()).sequence == 1
        for stream in (streams[1], fourth):
            stream.cancel()


async def test_heartbeats_keep_a_quiet_stream_alive(emulator):
    watch = FAST_WATCH.model_copy(update=dict(heartbeat_seconds=0.2))
    async with serve(demo_platforms(emulator, None, watch)) as served:
        run_id = await long_run(served.stub)
        await asyncio.sleep(1.0)  # RUNNING for 30 s: nothing changes for a while
        stream = served.stub.WatchPipelineRun(pb.WatchPipelineRunRequest(run_id=run_id))
        events = [await stream.read() for _ in range(3)]
        stream.cancel()
    assert [e.sequence for e in events] == [1, 2, 3]
    assert not events[0].heartbeat and events[1].heartbeat and events[2].heartbeat
    assert events[1].run.run_id == run_id and not events[1].HasField("stale_since")


async def test_many_streams_on_one_run_cost_one_poll(emulator):
    async with serve(demo_platforms(emulator, None, FAST_WATCH)) as served:
        run = (await served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello"))).run
        clients = served.platforms.get("demo").clients
        poller = CallCounter(clients.batch, "DescribeJobs", wire=clients.batch_wire)

        async def follow():
            return [e async for e in served.stub.WatchPipelineRun(pb.WatchPipelineRunRequest(run_id=run.run_id))]

        before = poller.calls
        results = await asyncio.gather(*(follow() for _ in range(200)))
        assert all(r[-1].run.status == runs_pb.RUN_STATUS_SUCCEEDED for r in results)
        polls = poller.calls - before
        # ~1.5 s of job at 50 ms intervals is about 30 polls for everyone, never 200 × 30.
        assert polls < 100, polls
