"""TestConnection through gRPC against the emulator: the §13 reads it checks (and what a denial
of each costs), and a job queue outside the platform's `job_queues` (SPEC §8.5)."""

import grpc
import pytest
from botocore.awsrequest import AWSResponse
from polysync.platform.v1 import connection_pb2
from polysync.platform.v1 import platform_service_pb2 as pb

from tests.faults.conftest import platforms_via
from tests.support import FAST_WATCH, error_details, on_wire_call, reason_of, serve

ALLOWED, DENIED = connection_pb2.CHECK_RESULT_ALLOWED, connection_pb2.CHECK_RESULT_DENIED
OPTIONAL = ("batch:DescribeComputeEnvironments", "batch:GetJobQueueSnapshot")


def counted_denial(calls: list):
    def deny(**_):
        calls.append(1)
        body = {"Error": {"Code": "AccessDeniedException", "Message": "not authorized to perform this action"}}
        return AWSResponse("https://batch", 403, {}, None), dict(body, ResponseMetadata={"HTTPStatusCode": 403})

    return deny


async def test_the_section_13_reads_are_checked_on_the_queue(served):
    response = await served.stub.TestConnection(pb.TestConnectionRequest())
    assert response.ok, list(response.problems)
    checks = {c.permission: c for c in response.checks}
    for permission in OPTIONAL:
        assert checks[permission].result == ALLOWED, response.checks


@pytest.mark.parametrize(
    ("operation", "permission", "lost"),
    [
        ("DescribeComputeEnvironments", "batch:DescribeComputeEnvironments", "placement check"),
        ("GetJobQueueSnapshot", "batch:GetJobQueueSnapshot", "queue_position"),
    ],
)
async def test_a_denied_section_13_read_is_reported_with_what_is_lost_and_every_other_check_still_runs(
    served, operation, permission, lost
):
    client = served.platforms.get("demo").clients.batch
    calls: list = []
    deny = counted_denial(calls)
    client.meta.events.register(f"before-call.batch.{operation}", deny)
    try:
        response = await served.stub.TestConnection(pb.TestConnectionRequest())
    finally:
        client.meta.events.unregister(f"before-call.batch.{operation}", deny)
    assert calls, f"{operation} was never called"  # the denial reached AWS's side, not a guess
    checks = {c.permission: c for c in response.checks}
    assert checks[permission].result == DENIED, response.checks
    assert lost in checks[permission].detail and "everything else works" in checks[permission].detail
    # A failed check is ok=false (SPEC §2), and its one problem line says the service works without it.
    assert not response.ok
    assert [p for p in response.problems if permission in p] == list(response.problems), response.problems
    assert lost in response.problems[0] and "everything else works" in response.problems[0]
    other = next(p for p in OPTIONAL if p != permission)
    assert checks[other].result == ALLOWED
    for required in ("batch:DescribeJobQueues", "batch:DescribeJobDefinitions", "batch:DescribeJobs", "batch:ListJobs"):
        assert checks[required].result == ALLOWED


async def test_a_queue_outside_the_platforms_job_queues_is_refused_before_any_aws_call(emulator):
    confined = platforms_via(emulator, emulator.endpoint_url, watch=FAST_WATCH, job_queues=[emulator.job_queue])
    client = confined.get("demo").clients.batch
    calls: list = []

    def count(**_):
        calls.append(1)

    client.meta.events.register("before-call.batch", count)
    undo = on_wire_call(confined.get("demo").clients.batch_wire, lambda operation, params: count())  # aws/wire.py
    try:
        async with serve(confined) as served:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await served.stub.TestConnection(pb.TestConnectionRequest(job_queue=emulator.seed_small_queue()))
            assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
            assert reason_of(refused.value) == "JOB_QUEUE_NOT_ALLOWED"
            assert "nothing was checked" in refused.value.details()
            info = error_details(refused.value)["ErrorInfo"]
            assert info.metadata["job_queue"] == emulator.small_job_queue
            assert calls == []  # not even DescribeJobQueues of the other platform's queue
            # Its own queues (by name or ARN) are tested as before.
            for queue in ("", emulator.job_queue):
                response = await served.stub.TestConnection(pb.TestConnectionRequest(job_queue=queue))
                assert response.ok and response.job_queue.exists, list(response.problems)
    finally:
        client.meta.events.unregister("before-call.batch", count)
        undo()
