"""validate_only and JOB_CANNOT_BE_PLACED through gRPC (SPEC §13), with the emulator's job count
checked unchanged afterwards."""

import asyncio
import uuid

import grpc
import pytest
from botocore.awsrequest import AWSResponse
from polysync.platform.v1 import platform_service_pb2 as pb

from tests.support import error_details, reason_of


def count_jobs(batch, queue):
    response = batch.list_jobs(jobQueue=queue, filters=[{"name": "JOB_NAME", "values": ["Polysync-*"]}])
    return len(response["jobSummaryList"])


@pytest.fixture(scope="module")
def small_queue(emulator):
    return emulator.seed_small_queue()


async def jobs_on(emulator, queue):
    return await asyncio.to_thread(count_jobs, emulator.client("batch"), queue)


async def rpc_error(call) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


async def test_validate_only_checks_submits_nothing_and_claims_no_request_id(served, emulator):
    before = await jobs_on(emulator, "polysync-demo")
    request_id = str(uuid.uuid4())
    request = pb.ExecutePipelineRequest(pipeline="hello", request_id=request_id, validate_only=True)
    response = await served.stub.ExecutePipeline(request)
    assert not response.HasField("run") and not response.deduplicated
    assert await jobs_on(emulator, "polysync-demo") == before
    # The request_id was not claimed: the real submit is the first, not a duplicate.
    real = await served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello", request_id=request_id))
    assert real.run.run_id and not real.deduplicated
    assert await jobs_on(emulator, "polysync-demo") == before + 1


async def test_validate_only_reports_what_a_submit_would(served, emulator):
    before = await jobs_on(emulator, "polysync-demo")
    missing = await rpc_error(
        served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="greet", validate_only=True))
    )
    assert missing.code() == grpc.StatusCode.INVALID_ARGUMENT and reason_of(missing) == "MISSING_PARAMETERS"
    no_queue = await rpc_error(
        served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello", job_queue="nope", validate_only=True))
    )
    assert no_queue.code() == grpc.StatusCode.NOT_FOUND and reason_of(no_queue) == "JOB_QUEUE_NOT_FOUND"
    no_definition = await rpc_error(
        served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="nope", validate_only=True))
    )
    assert reason_of(no_definition) == "JOB_DEFINITION_NOT_FOUND"
    unfair = await rpc_error(
        served.stub.ExecutePipeline(
            pb.ExecutePipelineRequest(pipeline="hello", share_identifier="a", validate_only=True)
        )
    )
    assert unfair.code() == grpc.StatusCode.INVALID_ARGUMENT and "fair-share" in unfair.details()
    assert await jobs_on(emulator, "polysync-demo") == before


@pytest.mark.parametrize("validate_only", [True, False])
async def test_a_job_no_compute_environment_could_place_is_refused(served, emulator, small_queue, validate_only):
    before = await jobs_on(emulator, small_queue)
    request = pb.ExecutePipelineRequest(
        pipeline="hello", job_queue=small_queue, vcpus=8, memory_mib=2048, validate_only=validate_only
    )
    refused = await rpc_error(served.stub.ExecutePipeline(request))
    assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION
    details = error_details(refused)
    info = details["ErrorInfo"]
    assert info.reason == "JOB_CANNOT_BE_PLACED"
    assert info.metadata["requested_vcpus"] == "8" and info.metadata["requested_memory_mib"] == "2048"
    assert info.metadata["largest_vcpus"] == "4" and info.metadata["largest_gpus"] == "0"
    assert "polysync-demo-fargate" in refused.details()
    assert "Help" in details
    gpus = await rpc_error(
        served.stub.ExecutePipeline(
            pb.ExecutePipelineRequest(pipeline="hello", job_queue=small_queue, gpus=1, validate_only=validate_only)
        )
    )
    assert reason_of(gpus) == "JOB_CANNOT_BE_PLACED" and "GPU" in gpus.details()
    assert await jobs_on(emulator, small_queue) == before


async def test_a_job_that_fits_the_small_queue_validates(served, emulator, small_queue):
    response = await served.stub.ExecutePipeline(
        pb.ExecutePipelineRequest(pipeline="hello", job_queue=small_queue, vcpus=2, validate_only=True)
    )
    assert not response.HasField("run") and list(response.warnings) == []


async def test_compute_environments_it_may_not_read_are_a_warning_not_a_refusal(served, emulator, small_queue):
    client = served.platforms.get("demo").clients.batch

    def deny(**_):
        body = {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}
        return AWSResponse("https://batch", 403, {}, None), dict(body, ResponseMetadata={"HTTPStatusCode": 403})

    client.meta.events.register("before-call.batch.DescribeComputeEnvironments", deny)
    try:
        before = await jobs_on(emulator, small_queue)
        response = await served.stub.ExecutePipeline(
            pb.ExecutePipelineRequest(pipeline="hello", job_queue=small_queue, vcpus=8, validate_only=True)
        )
        assert any("batch:DescribeComputeEnvironments" in w for w in response.warnings)
        submitted = await served.stub.ExecutePipeline(
            pb.ExecutePipelineRequest(pipeline="hello", job_queue=small_queue, vcpus=2)
        )
        assert submitted.run.run_id and any("DescribeComputeEnvironments" in w for w in submitted.warnings)
        assert await jobs_on(emulator, small_queue) == before + 1
    finally:
        client.meta.events.unregister("before-call.batch.DescribeComputeEnvironments", deny)
