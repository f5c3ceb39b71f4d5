"""The watch core through gRPC on the emulator: every DescribeJobs (submit and cancel included)
spends the one budget; reads whose callers left cost no AWS call; a flood of unknown ids from
one caller barely delays another's get (fair AWS budgets); each run's history of
status changes is recorded from every source."""

import asyncio
import contextlib
import time
import uuid

import grpc
import pytest
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync.platform.v1 import platform_service_pb2_grpc
from polysync_batch.bootstrap import demo_platforms
from polysync_batch.emulator import Lifecycle, start_emulator

from tests.support import FAST_WATCH, serve, watch_config

# Jobs wait in RUNNABLE long enough to be cancelled there.
SLOW = Lifecycle(submitted=0.1, pending=0.1, runnable=30, starting=0.1, running=0.3)


@pytest.fixture(scope="module")
def emulator():
    with start_emulator(SLOW) as running:
        yield running


def budget(per_second: float, burst: int = 1):
    return watch_config(**{**FAST_WATCH.__dict__, "describe_jobs_per_second": per_second, "describe_jobs_burst": burst})


def submit_directly(emulator) -> str:
    """A job this server has never seen (nothing cached)."""
    batch = emulator.client("batch")
    return batch.submit_job(jobName="bystander", jobQueue=emulator.job_queue, jobDefinition="hello")["jobId"]


async def test_submit_and_cancel_read_through_the_one_budget(emulator, describe_calls):
    async with serve(demo_platforms(emulator, None, budget(2), events=False)) as served:
        start = time.monotonic()
        run = (await served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello"))).run
        await served.stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id=submit_directly(emulator)))
        await served.stub.CancelPipelineRun(pb.CancelPipelineRunRequest(run_id=run.run_id))
    times = [at for at, _ in describe_calls]
    assert len(times) >= 4  # submit's read, the get, cancel's two reads
    # 2 per second, whoever asks: the budget (one token to start with) lets the i-th call go no
    # sooner than i/2 s after the first RPC. Arrival times, not gaps: a call the loaded machine
    # delayed on its way to the emulator must not make the next one look early.
    early = [(i, round(at - start, 2)) for i, at in enumerate(times) if at - start < i * 0.5 - 0.05]
    assert not early, (early, [round(at - start, 2) for at in times])


async def test_reads_whose_callers_left_cost_no_aws_calls_and_delay_no_one(emulator, describe_calls):
    async with serve(demo_platforms(emulator, None, budget(2), events=False)) as served:
        await served.stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id=submit_directly(emulator)))  # the burst
        bystander = submit_directly(emulator)
        before = len(describe_calls)

        async def impatient() -> grpc.StatusCode:
            ids = [str(uuid.uuid4()) for _ in range(100)]
            try:
                await served.stub.BatchGetPipelineRuns(pb.BatchGetPipelineRunsRequest(run_ids=ids), timeout=0.3)
            except grpc.aio.AioRpcError as failed:
                return failed.code()
            return grpc.StatusCode.OK

        codes = await asyncio.gather(*(impatient() for _ in range(20)))
        started = time.monotonic()
        got = await served.stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id=bystander), timeout=30)
        waited = time.monotonic() - started
        await asyncio.sleep(2)
        spent = len(describe_calls) - before
    # The budget had no call for them in time (at most one, should a token come back meanwhile).
    assert codes.count(grpc.StatusCode.DEADLINE_EXCEEDED) >= len(codes) - 1, codes
    assert got.run.run_id == bystander
    assert waited < 1.5, f"the bystander's get took {waited:.1f} s"
    assert spent <= 3, f"{spent} DescribeJobs for 20 calls that had gone away (and one get)"


async def test_a_flood_of_unknown_watches_delays_another_callers_get_by_about_a_second(emulator, describe_calls):
    async with serve(demo_platforms(emulator, None, budget(2), events=False)) as served:
        await served.stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id=submit_directly(emulator)))  # the burst
        bystander = submit_directly(emulator)

        async def flood():
            ids = [str(uuid.uuid4()) for _ in range(100)]
            with pytest.raises(grpc.aio.AioRpcError) as failed:
                async for _ in served.stub.WatchPipelineRuns(pb.WatchPipelineRunsRequest(run_ids=ids), timeout=60):
                    pass
            return failed.value.code()

        flooding = [asyncio.ensure_future(flood()) for _ in range(30)]  # 30 calls' worth at 2 per second
        await asyncio.sleep(0.3)
        started = time.monotonic()
        got = await served.stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id=bystander), timeout=30)
        waited = time.monotonic() - started
        for task in flooding:
            task.cancel()
        await asyncio.gather(*flooding, return_exceptions=True)
    assert got.run.run_id == bystander
    assert waited < 1.5, f"the bystander's get took {waited:.1f} s behind the flood"


async def test_each_status_change_is_kept_in_the_runs_history(emulator):
    async with serve(demo_platforms(emulator, None, FAST_WATCH, events=False)) as served:
        # Long enough to be cancelled while it runs, however late a loaded machine's polls come.
        request = pb.ExecutePipelineRequest(pipeline="hello", parameters={"duration_seconds": "60"})
        run = (await served.stub.ExecutePipeline(request)).run
        watched: list[str] = []
        async for event in served.stub.WatchPipelineRun(pb.WatchPipelineRunRequest(run_id=run.run_id), timeout=30):
            if not watched or watched[-1] != event.run.native_status:
                watched.append(event.run.native_status)
            if event.run.native_status in ("RUNNABLE", "STARTING", "RUNNING"):
                break
        await served.stub.CancelPipelineRun(pb.CancelPipelineRunRequest(run_id=run.run_id, reason="superseded"))
        got = await served.stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id=run.run_id))
        assert got.run.status_reason == "Cancelled by Polysync: superseded"
        recorded = await served.platforms.get("demo").runs.get(run.run_id)  # the Run behind the answer
    steps = [(change.native_status, change.status_reason) for change in recorded.history]
    assert steps[0][0] == "SUBMITTED", steps
    # Every state the watch saw is in the history, in the order seen (a poll may miss a short one).
    statuses = iter(status for status, _ in steps)
    assert all(status in statuses for status in watched), (watched, steps)
    assert steps[-1] == ("FAILED", "Cancelled by Polysync: superseded")
    times = [change.time for change in recorded.history]
    assert times == sorted(times)


async def test_one_callers_flood_shares_the_budget_with_another_caller(emulator):
    """With caller authentication each identified caller has one share, however many calls it
    makes: the scheduler's 30 watch calls of unknown ids are one share, the reader's get another."""
    from polysync_batch.api.server import build_server
    from polysync_batch.config import ServerConfig

    from tests.security_support import READER_TOKEN, SCHEDULER_TOKEN, auth_config, bearer

    settings = ServerConfig(address="127.0.0.1:0", health_check_interval_seconds=0)
    running = await build_server(demo_platforms(emulator, None, budget(2), events=False), settings, auth=auth_config())
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{running.port}")
    stub = platform_service_pb2_grpc.PlatformServiceStub(channel)
    try:
        await stub.GetPipelineRun(
            pb.GetPipelineRunRequest(run_id=submit_directly(emulator)), metadata=bearer(READER_TOKEN)
        )  # the burst
        bystander = submit_directly(emulator)

        async def flood():
            ids = [str(uuid.uuid4()) for _ in range(100)]
            request = pb.WatchPipelineRunsRequest(run_ids=ids)
            with contextlib.suppress(grpc.aio.AioRpcError):
                async for _ in stub.WatchPipelineRuns(request, timeout=60, metadata=bearer(SCHEDULER_TOKEN)):
                    pass

        flooding = [asyncio.ensure_future(flood()) for _ in range(30)]
        await asyncio.sleep(0.3)
        started = time.monotonic()
        got = await stub.GetPipelineRun(
            pb.GetPipelineRunRequest(run_id=bystander), timeout=30, metadata=bearer(READER_TOKEN)
        )
        waited = time.monotonic() - started
        for task in flooding:
            task.cancel()
        await asyncio.gather(*flooding, return_exceptions=True)
    finally:
        await channel.close()
        await running.stop(None)
    assert got.run.run_id == bystander
    assert waited < 1.5, f"the reader's get took {waited:.1f} s behind the scheduler's flood"
