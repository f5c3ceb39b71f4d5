"""Issue 17's gap (SPEC §8.5 `job_queues`): a Watch of another platform's run is refused when the
stream opens even if DescribeJobs shows the run only after the queue check's first read."""

import grpc
import pytest
from botocore.awsrequest import AWSResponse
from polysync.platform.v1 import platform_service_pb2 as pb

from tests.faults.conftest import platforms_via
from tests.support import FAST_WATCH, on_wire_call, reason_of, serve


async def test_a_watch_of_another_platforms_run_that_describe_jobs_shows_only_late_is_refused_at_open(emulator):
    """Issue 17's gap: the queue check read the run before DescribeJobs showed it (None passes),
    then the subscription's own read found it, and the stream delivered another platform's run."""
    confined = platforms_via(emulator, emulator.endpoint_url, watch=FAST_WATCH, job_queues=[emulator.job_queue])
    batch = emulator.client("batch")
    foreign = batch.submit_job(jobName="prods", jobQueue=emulator.seed_small_queue(), jobDefinition="hello")["jobId"]
    client = confined.get("demo").clients.batch
    hidden = []

    def not_yet(**_):  # DescribeJobs is eventually consistent: the first answer does not show the job yet
        if not hidden:
            hidden.append(1)
            return AWSResponse("https://batch", 200, {}, None), {
                "jobs": [],
                "ResponseMetadata": {"HTTPStatusCode": 200},
            }
        return None

    client.meta.events.register("before-call.batch.DescribeJobs", not_yet)
    # DescribeJobs goes over aws/wire.py where it can: the same answer there.
    undo = on_wire_call(
        confined.get("demo").clients.batch_wire,
        lambda operation, params: not_yet()[1] if operation == "DescribeJobs" and not hidden else None,
    )
    try:
        async with serve(confined) as served:
            stream = served.stub.WatchPipelineRun(pb.WatchPipelineRunRequest(run_id=foreign))
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                first = await stream.read()
                pytest.fail(f"the stream opened on another platform's run: {first.run.job_queue}")
            assert refused.value.code() == grpc.StatusCode.NOT_FOUND
            assert reason_of(refused.value) == "RUN_NOT_FOUND"
            assert hidden  # the late DescribeJobs really happened
    finally:
        client.meta.events.unregister("before-call.batch.DescribeJobs", not_yet)
        undo()
        batch.terminate_job(jobId=foreign, reason="test over")
