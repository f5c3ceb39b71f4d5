"""The submit rate limit (callers wait, nobody is refused, AWS throttling slows it) and the
caller's deadline bounding AWS work (no AWS call starts after it)."""

from __future__ import annotations

import asyncio
import time
import uuid

import grpc
import pytest
from polysync.platform.v1 import platform_service_pb2 as pb

from polysync_batch.watch.budget import AdaptiveBudget
from polysync_batch.watch.clock import ManualClock, settle
from tests.faults.conftest import jobs_for, platforms_via
from tests.faults.proxy import Action, Fault
from tests.support import serve


async def test_callers_over_the_submit_rate_wait_and_are_not_refused(emulator, proxy):
    async with serve(platforms_via(emulator, proxy.endpoint_url, submit_jobs_per_second=10)) as served:
        started = time.monotonic()
        request_ids = [str(uuid.uuid4()) for _ in range(30)]
        answers = await asyncio.gather(*(served.stub.ExecutePipeline(
            pb.ExecutePipelineRequest(pipeline="hello", request_id=r), timeout=30) for r in request_ids))
        elapsed = time.monotonic() - started
    assert all(jobs_for(emulator, r) == [a.run.run_id] for r, a in zip(request_ids, answers))
    submits = sorted(e.at for e in proxy.of("SubmitJob"))
    assert len(submits) == 30
    # A burst of 10, then 10 per second: the last 20 spread over about 2 s.
    assert submits[-1] - submits[0] >= 1.7 and elapsed >= 1.7


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
            await served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello", request_id="late"),
                                              timeout=0.5)
        assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        await asyncio.sleep(1.5)  # the delayed answer has arrived and the handler has moved on
    assert proxy.of("ListJobs") == [] and proxy.of("SubmitJob") == []
    assert jobs_for(emulator, "late") == []
