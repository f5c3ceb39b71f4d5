"""The submit rate limit (callers wait, nobody is refused, AWS throttling slows it) and the
caller's deadline bounding AWS work (no AWS call starts after it)."""

from __future__ import annotations

import asyncio
import time
import uuid

import grpc
import pytest
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync_batch.service.budget import AdaptiveBudget

from tests.faults.conftest import jobs_for, platforms_via
from tests.faults.proxy import Action, Fault
from tests.manual_clock import ManualClock, settle
from tests.support import aws_attempts, serve


async def test_callers_over_the_submit_rate_wait_and_are_not_refused(emulator, proxy):
    async with serve(platforms_via(emulator, proxy.endpoint_url, submit_jobs_per_second=10)) as served:
        started = time.monotonic()
        request_ids = [str(uuid.uuid4()) for _ in range(30)]
        answers = await asyncio.gather(
            *(
                served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello", request_id=r), timeout=30)
                for r in request_ids
            )
        )
        elapsed = time.monotonic() - started
    assert all(jobs_for(emulator, r) == [a.run.run_id] for r, a in zip(request_ids, answers, strict=False))
    submits = sorted(e.at for e in proxy.of("SubmitJob"))
    assert len(submits) == 30
    # A burst of 10, then 10 per second: the last of the 20 after it reaches AWS about 2 s after
    # the calls began (measured from then, not from the first submit, which a loaded machine may
    # delay while the tokens of the burst and the next ones are already there).
    assert submits[-1] - started >= 1.7 and elapsed >= 1.7


async def test_aws_throttling_slows_the_submit_rate_and_success_wins_it_back():
    clock = ManualClock()
    budget = AdaptiveBudget(20, 20, clock)
    budget.throttled()
    budget.throttled()  # throttled together: one cut
    assert budget.rate == 10
    await clock.advance(1)
    budget.throttled()
    assert budget.rate == 5
    for _ in range(10):
        await clock.advance(1)
        budget.throttled()
    assert budget.rate == 2  # never below a tenth: a storm slows submits, it does not stop them
    for _ in range(100):
        budget.succeeded()
    assert budget.rate == 20  # never above the configured rate
    spent = []
    slow = AdaptiveBudget(2, 1, clock)
    slow.throttled()  # 1 per second

    async def take():
        await slow.acquire()
        spent.append(clock.monotonic())

    start = clock.monotonic()
    tasks = [asyncio.ensure_future(take()) for _ in range(3)]
    await settle()
    await clock.advance(3)
    await asyncio.gather(*tasks)
    assert [t - start for t in spent] == [0, 1, 2]


async def test_no_aws_call_starts_after_the_callers_deadline(emulator, proxy):
    # The definition look-up answers after the caller's deadline: the submit that would follow
    # it must not be sent.
    proxy.rule = lambda e: Action(Fault.DELAY, seconds=1.0) if e.operation == "DescribeJobDefinitions" else None
    async with serve(platforms_via(emulator, proxy.endpoint_url)) as served:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await served.stub.ExecutePipeline(
                pb.ExecutePipelineRequest(pipeline="hello", request_id="late"), timeout=0.5
            )
        assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        await asyncio.sleep(1.5)  # the delayed answer has arrived and the handler has moved on
    assert proxy.of("ListJobs") == [] and proxy.of("SubmitJob") == []
    assert jobs_for(emulator, "late") == []


async def test_an_aws_call_in_flight_waits_no_longer_than_the_callers_deadline(emulator, proxy):
    """AWS answers 20 s late; the client's read timeout is 5 s with 5 attempts. Bounded by the
    caller's 1.5 s deadline, every attempt gives up by the deadline and none is sent after it,
    instead of 5 attempts waiting 5 s each in their thread (a retry may still fit in the last
    milliseconds before the deadline, with a read timeout of what is left)."""
    proxy.rule = lambda e: Action(Fault.DELAY, seconds=20.0) if e.operation == "DescribeJobDefinitions" else None
    platforms = platforms_via(emulator, proxy.endpoint_url)
    ended = []  # when each attempt heard its answer or gave up, in the executor thread
    platforms.get("demo").clients.batch.meta.events.register(
        "response-received.batch.DescribeJobDefinitions", lambda **_: ended.append(time.monotonic())
    )
    async with serve(platforms) as served:
        started = time.monotonic()
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await served.stub.ExecutePipeline(
                pb.ExecutePipelineRequest(pipeline="hello", request_id="slow"), timeout=1.5
            )
        assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        await asyncio.sleep(6)  # past the client's own read timeout: a retry would have been sent by now
    assert ended and all(t - started < 1.5 + 1.0 for t in ended), [t - started for t in ended]
    sent = [e.at - started for e in proxy.of("DescribeJobDefinitions")]
    assert sent and all(t < 1.5 + 0.5 for t in sent), sent
    assert proxy.of("SubmitJob") == [] and jobs_for(emulator, "slow") == []


async def test_a_batched_describe_is_not_cut_short_by_the_deadline_of_the_caller_that_sent_it(emulator, proxy):
    """A caller with 0.5 s reads a run the server has not cached, and sends the DescribeJobs that
    every reader of that run then waits for; AWS answers after 1.5 s. The hasty caller fails at
    its deadline, but the shared call is not cut short with it: a second caller, with 10 s, gets
    the run, and no DescribeJobs attempt gave up."""
    run_id = emulator.client("batch").submit_job(
        jobName="made-elsewhere", jobQueue=emulator.job_queue, jobDefinition="hello"
    )["jobId"]  # not in the server's cache
    proxy.rule = lambda e: Action(Fault.DELAY, seconds=1.5) if e.operation == "DescribeJobs" else None
    platforms = platforms_via(emulator, proxy.endpoint_url)
    gave_up = []  # DescribeJobs attempts that ended without an answer (a read timeout)
    platforms.get("demo").clients.batch.meta.events.register(
        "response-received.batch.DescribeJobs",
        lambda exception=None, **_: gave_up.append(exception) if exception is not None else None,
    )
    async with serve(platforms) as served:
        first = asyncio.ensure_future(served.stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id=run_id), timeout=0.5))
        await asyncio.sleep(0.2)  # the hasty caller's DescribeJobs is on its way
        patient = await served.stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id=run_id), timeout=10)
        hasty = (await asyncio.gather(first, return_exceptions=True))[0]
    assert isinstance(hasty, grpc.aio.AioRpcError) and hasty.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert patient.run.run_id == run_id
    # DescribeJobs goes over aws/wire.py where it can, past botocore's events: its attempts are in the metrics.
    attempts = aws_attempts(platforms.get("demo").clients, "DescribeJobs")
    assert attempts.get("ok", 0) >= 1, attempts
    gave_up += [outcome for outcome in attempts if outcome in ("timeout", "network")]
    assert gave_up == []
