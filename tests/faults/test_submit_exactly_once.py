"""ExecutePipeline makes exactly one job per request_id whatever fails between the service and
AWS: lost answers, 5xx after AWS accepted, throttling storms, answers slower than the caller's
deadline, a look-up that fails too, and AWS unreachable."""

from __future__ import annotations

import uuid

import grpc
import pytest
from polysync.platform.v1 import platform_service_pb2 as pb

from tests.faults.conftest import jobs_for, jobs_named, platforms_via
from tests.faults.proxy import Action, Fault
from tests.support import error_details, reason_of, serve


def once_per_job_name(action: Action):
    """The fault on the first SubmitJob of each job name; later ones pass."""
    seen: set[str] = set()

    def rule(exchange):
        if exchange.operation == "SubmitJob" and exchange.job_name not in seen:
            seen.add(exchange.job_name)
            return action
        return None

    return rule


def execute(request_id: str = "", **fields) -> pb.ExecutePipelineRequest:
    return pb.ExecutePipelineRequest(pipeline="hello", request_id=request_id, **fields)


@pytest.mark.parametrize(
    "action",
    [Action(Fault.LOSE_ANSWER), Action(Fault.ERROR_AFTER, status=500)],
    ids=["answer-lost", "5xx-after-accept"],
)
async def test_an_answer_lost_after_aws_accepted_makes_one_job(emulator, proxy, action):
    proxy.rule = once_per_job_name(action)
    async with serve(platforms_via(emulator, proxy.endpoint_url)) as served:
        request_ids = [str(uuid.uuid4()) for _ in range(12)]
        answers = [await served.stub.ExecutePipeline(execute(request_id), timeout=20) for request_id in request_ids]
    for request_id, answer in zip(request_ids, answers, strict=False):
        assert jobs_for(emulator, request_id) == [answer.run.run_id]  # one job, and the caller has its id
        assert not answer.deduplicated  # it was this call's own submit
    assert sum(e.fault is action.fault for e in proxy.of("SubmitJob")) == 12  # every submit met the fault


async def test_an_answer_lost_without_request_id_still_makes_one_job(emulator, proxy):
    proxy.rule = once_per_job_name(Action(Fault.LOSE_ANSWER))
    async with serve(platforms_via(emulator, proxy.endpoint_url)) as served:
        answers = [await served.stub.ExecutePipeline(execute(), timeout=20) for _ in range(5)]
    for answer in answers:
        assert jobs_named(emulator, answer.run.job_name) == [answer.run.run_id]


async def test_a_throttling_storm_is_retried_into_one_job(emulator, proxy):
    throttled: dict[str, int] = {}

    def rule(exchange):  # the first three SubmitJobs of each name are refused with 429
        if exchange.operation == "SubmitJob" and throttled.setdefault(exchange.job_name, 0) < 3:
            throttled[exchange.job_name] += 1
            return Action(Fault.ERROR, status=429)
        return None

    proxy.rule = rule
    async with serve(platforms_via(emulator, proxy.endpoint_url)) as served:
        request_ids = [str(uuid.uuid4()) for _ in range(6)]
        answers = [await served.stub.ExecutePipeline(execute(request_id), timeout=30) for request_id in request_ids]
    for request_id, answer in zip(request_ids, answers, strict=False):
        assert jobs_for(emulator, request_id) == [answer.run.run_id]
    assert len(proxy.of("SubmitJob")) == 6 * 4


async def test_throttling_past_every_attempt_is_resource_exhausted_and_makes_no_job(emulator, proxy):
    proxy.rule = lambda e: Action(Fault.ERROR, status=429) if e.operation == "SubmitJob" else None
    request_id = str(uuid.uuid4())
    async with serve(platforms_via(emulator, proxy.endpoint_url, max_attempts=3)) as served:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await served.stub.ExecutePipeline(execute(request_id), timeout=30)
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and reason_of(caught.value) == "AWS_THROTTLED"
    assert error_details(caught.value)["RetryInfo"].retry_delay.seconds >= 1
    assert jobs_for(emulator, request_id) == [] and len(proxy.of("SubmitJob")) == 3


async def test_when_the_look_up_fails_too_the_callers_retry_finds_the_job(emulator, proxy):
    request_id = str(uuid.uuid4())

    def rule(exchange):  # the answer is lost, and then AWS cannot be asked what happened
        if exchange.operation == "SubmitJob":
            return Action(Fault.LOSE_ANSWER)
        if exchange.operation == "ListJobs" and proxy.of("SubmitJob"):
            return Action(Fault.RESET)
        return None

    proxy.rule = rule
    async with serve(platforms_via(emulator, proxy.endpoint_url, max_attempts=2)) as served:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await served.stub.ExecutePipeline(execute(request_id), timeout=30)
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE and reason_of(caught.value) == "AWS_UNAVAILABLE"
        assert len(jobs_for(emulator, request_id)) == 1  # AWS made the job; the caller does not know yet
        proxy.rule = lambda exchange: None
        retry = await served.stub.ExecutePipeline(execute(request_id), timeout=30)
    assert retry.deduplicated and jobs_for(emulator, request_id) == [retry.run.run_id]  # no lost acknowledgement
    assert len(proxy.of("SubmitJob")) == 1  # nothing was sent twice


async def test_an_answer_slower_than_the_deadline_is_deduplicated_on_retry(emulator, proxy):
    request_id = str(uuid.uuid4())
    proxy.rule = lambda e: Action(Fault.DELAY, seconds=1.5) if e.operation == "SubmitJob" else None
    async with serve(platforms_via(emulator, proxy.endpoint_url)) as served:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await served.stub.ExecutePipeline(execute(request_id), timeout=0.5)
        assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        retry = await served.stub.ExecutePipeline(execute(request_id), timeout=20)
    assert retry.deduplicated and jobs_for(emulator, request_id) == [retry.run.run_id]
    assert len(proxy.of("SubmitJob")) == 1


async def test_aws_unreachable_is_unavailable_with_retry_info_and_makes_no_job(emulator, proxy):
    request_id = str(uuid.uuid4())
    async with serve(platforms_via(emulator, proxy.endpoint_url, max_attempts=2)) as served:
        await served.stub.GetPipeline(pb.GetPipelineRequest(pipeline="hello"))  # connections are open
        proxy.unreachable = True
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await served.stub.ExecutePipeline(execute(request_id), timeout=30)
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        assert error_details(caught.value)["ErrorInfo"].reason == "AWS_UNAVAILABLE"
        assert "Traceback" not in caught.value.details()
        proxy.unreachable = False
        retry = await served.stub.ExecutePipeline(execute(request_id), timeout=30)
    assert jobs_for(emulator, request_id) == [retry.run.run_id]
