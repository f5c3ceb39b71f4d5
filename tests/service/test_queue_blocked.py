"""A blocked job queue through gRPC (SPEC §13, issue 19 item 4): the emulator's `failure=blocked`
job sends AWS's "Batch Job Queue Blocked" event into the events queue; the RUNNABLE runs of that
queue that are read or watched carry the warning, until the blocker leaves RUNNABLE. Polling is
held back (30 s) and heartbeats are 30 s apart, so only the event explains what is seen."""

import asyncio
import time

import pytest
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync_batch.bootstrap import demo_platforms
from polysync_batch.emulator import Lifecycle, start_emulator

from tests.support import held_back_watch, serve

HELD_BACK = held_back_watch(submit_grace_seconds=10)


@pytest.fixture(scope="module")
def emulator():
    with start_emulator(Lifecycle(submitted=0.1, pending=0.1, runnable=0.2, starting=0.2, running=0.5)) as running:
        yield running


async def until(predicate, seconds=10.0):
    end = time.monotonic() + seconds
    while not await predicate():
        assert time.monotonic() < end, "condition not reached in time"
        await asyncio.sleep(0.05)


def blocked_warnings(run) -> list[str]:
    return [w for w in run.warnings if "is blocked" in w]


async def test_the_runs_of_a_blocked_queue_carry_its_warning_until_the_blocker_leaves_runnable(emulator):
    async with serve(demo_platforms(emulator, None, HELD_BACK)) as served:
        consumer = served.platforms.get("demo").events
        await until(lambda: asyncio.sleep(0, consumer.healthy))
        stub = served.stub

        async def get(run_id):
            return (await stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id=run_id))).run

        # A run waiting in the queue (RUNNABLE for a minute), watched from the start.
        behind = (
            await stub.ExecutePipeline(
                pb.ExecutePipelineRequest(
                    pipeline="hello", parameters={"failure": "unplaceable", "state_time_limit_seconds": "60"}
                )
            )
        ).run.run_id
        seen = []
        watch = stub.WatchPipelineRun(pb.WatchPipelineRunRequest(run_id=behind))

        async def follow():
            async for message in watch:
                seen.append(message.run)

        follower = asyncio.ensure_future(follow())
        await until(lambda: asyncio.sleep(0, any(r.native_status == "RUNNABLE" for r in seen)))
        assert not any(blocked_warnings(r) for r in seen)

        blocker = (
            await stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello", parameters={"failure": "blocked"}))
        ).run.run_id
        try:

            async def blocked_on_reads():
                own, waiting = await get(blocker), await get(behind)
                return bool(blocked_warnings(own) and blocked_warnings(waiting))

            await until(blocked_on_reads)
            own, waiting = await get(blocker), await get(behind)
            [mine] = blocked_warnings(own)
            assert "is blocked by this run" in mine and "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY" in mine
            assert "https://docs.aws.amazon.com/batch/latest/userguide/job_stuck_in_runnable_capacity.html" in mine
            [theirs] = blocked_warnings(waiting)
            assert f"run {blocker} at its front" in theirs and "polysync-demo" in theirs
            both = await stub.BatchGetPipelineRuns(pb.BatchGetPipelineRunsRequest(run_ids=[blocker, behind]))
            assert all(blocked_warnings(r) for r in both.runs)
            # The watcher of the run behind got it at once, though its run did not change.
            await until(lambda: asyncio.sleep(0, any(blocked_warnings(r) for r in seen)))
            assert consumer.counts["malformed"] == consumer.counts["foreign"] == 0
        finally:
            await stub.CancelPipelineRun(pb.CancelPipelineRunRequest(run_id=blocker))

        # The blocker left RUNNABLE: the block is over, on reads and for the watcher.
        async def cleared():
            return not blocked_warnings(await get(behind))

        await until(cleared)
        assert not blocked_warnings(await get(blocker))  # FAILED (cancelled): not RUNNABLE, no warning
        await until(lambda: asyncio.sleep(0, not blocked_warnings(seen[-1])))
        assert (await get(behind)).native_status == "RUNNABLE"
        await stub.CancelPipelineRun(pb.CancelPipelineRunRequest(run_id=behind))
        await asyncio.wait_for(follower, 10)
        assert seen[-1].native_status == "FAILED" and not blocked_warnings(seen[-1])
