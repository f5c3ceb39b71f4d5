"""Behaviour moto cannot show, checked with botocore's Stubber behind a real gRPC server: exactly
what is sent to AWS, and how AWS's answers and errors come back."""

import grpc
import pytest
from botocore import xform_name
from botocore.stub import ANY, Stubber
from polysync.platform.v1 import connection_pb2, pipeline_run_pb2
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync_batch.service.registry import PlatformRegistry

from tests.support import error_details, fake_aws_runtime, on_wire_call, reason_of, serve

ARN = "arn:aws:batch:eu-west-1:111122223333:job-definition/hello:{}"
HELLO = {
    "jobDefinitionName": "hello",
    "jobDefinitionArn": ARN.format(2),
    "revision": 2,
    "status": "ACTIVE",
    "type": "container",
    "containerProperties": {"image": "busybox", "command": ["echo", "hi"]},
}


def job(job_id="j-1", status="RUNNABLE", **extra):
    return {
        "jobId": job_id,
        "jobName": "Polysync-x",
        "jobQueue": "arn:q1",
        "status": status,
        "jobDefinition": ARN.format(2),
        "createdAt": 1764072000000,
        "startedAt": 1764072001000,
        **extra,
    }


def to_the_stubbed_client(clients):
    """DescribeJobs and ListJobs go over aws/wire.py where they can: to the (stubbed) boto3 client
    instead, so the Stubber sees and answers them. Answers the undo."""
    return on_wire_call(
        clients.batch_wire, lambda operation, params: getattr(clients.batch, xform_name(operation))(**params)
    )


class BatchStubber:
    """Stubs both Batch clients of a platform: SubmitJob has a client of its own (never retried
    by botocore), every other operation the shared one."""

    def __init__(self, clients) -> None:
        self._shared, self._submit = Stubber(clients.batch), Stubber(clients.batch_submit)
        self._clients = clients
        self._undo = lambda: None

    def _for(self, operation: str) -> Stubber:
        return self._submit if operation == "submit_job" else self._shared

    def add_response(self, operation, *args):
        self._for(operation).add_response(operation, *args)

    def add_client_error(self, operation, *args, **kwargs):
        self._for(operation).add_client_error(operation, *args, **kwargs)

    def __enter__(self):
        self._shared.__enter__(), self._submit.__enter__()
        self._undo = to_the_stubbed_client(self._clients)
        return self

    def __exit__(self, *exc):
        self._undo()
        self._shared.__exit__(*exc), self._submit.__exit__(*exc)

    def assert_no_pending_responses(self):
        self._shared.assert_no_pending_responses(), self._submit.assert_no_pending_responses()


@pytest.fixture
async def stubbed():
    runtime = fake_aws_runtime()
    stubber = BatchStubber(runtime.clients)
    with stubber:
        async with serve(PlatformRegistry({"prod": runtime}, "prod")) as served:
            yield served, stubber
    stubber.assert_no_pending_responses()


def expect_submit(stubber, expected_body):
    stubber.add_response(
        "describe_job_definitions", {"jobDefinitions": [HELLO]}, {"status": "ACTIVE", "jobDefinitionName": "hello"}
    )
    stubber.add_response("submit_job", {"jobName": "Polysync-x", "jobId": "j-1"}, expected_body)
    stubber.add_response("describe_jobs", {"jobs": [job()]}, {"jobs": ["j-1"]})


async def test_fair_share_fields_are_not_sent_when_unset(stubbed):
    served, stubber = stubbed
    expect_submit(stubber, {"jobName": ANY, "jobQueue": "q1", "jobDefinition": "hello"})
    response = await served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello"))
    assert response.run.run_id == "j-1" and not response.deduplicated


async def test_fair_share_fields_are_sent_when_set_even_zero(stubbed):
    served, stubber = stubbed
    expect_submit(
        stubber,
        {
            "jobName": ANY,
            "jobQueue": "q1",
            "jobDefinition": "hello",
            "shareIdentifier": "teamA",
            "schedulingPriorityOverride": 0,
        },
    )
    await served.stub.ExecutePipeline(
        pb.ExecutePipelineRequest(pipeline="hello", share_identifier="teamA", scheduling_priority_override=0)
    )


async def test_overrides_are_translated_to_submit_job(stubbed):
    served, stubber = stubbed
    expect_submit(
        stubber,
        {
            "jobName": ANY,
            "jobQueue": "other",
            "jobDefinition": "hello",
            "parameters": {"a": "1"},
            "arrayProperties": {"size": 3},
            "timeout": {"attemptDurationSeconds": 120},
            "retryStrategy": {"attempts": 2},
            "tags": {"team": "x"},
            "propagateTags": True,
            "dependsOn": [{"jobId": "j-0"}],
            "containerOverrides": {
                "command": ["echo", "x"],
                "environment": [{"name": "A", "value": "1"}],
                "resourceRequirements": [{"type": "VCPU", "value": "0.5"}, {"type": "MEMORY", "value": "512"}],
            },
        },
    )
    await served.stub.ExecutePipeline(
        pb.ExecutePipelineRequest(
            pipeline="hello",
            job_queue="other",
            parameters={"a": "1"},
            array_size=3,
            timeout_seconds=120,
            retry_attempts=2,
            tags={"team": "x"},
            propagate_tags=True,
            depends_on=["j-0"],
            command=["echo", "x"],
            environment={"A": "1"},
            vcpus=0.5,
            memory_mib=512,
        )
    )


async def test_exit_code_is_present_only_when_known(stubbed):
    served, stubber = stubbed
    stubber.add_response(
        "describe_jobs",
        {"jobs": [job(status="FAILED", statusReason="Essential container in task exited", container={"exitCode": 3})]},
        {"jobs": ["j-1"]},
    )
    stubber.add_response("describe_jobs", {"jobs": [job("j-2", status="RUNNING")]}, {"jobs": ["j-2"]})
    failed = (await served.stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id="j-1"))).run
    assert failed.HasField("exit_code") and failed.exit_code == 3
    assert failed.status == pipeline_run_pb2.RUN_STATUS_FAILED
    assert failed.message == "Failed: Essential container in task exited (exit code 3)"
    running = (await served.stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id="j-2"))).run
    assert not running.HasField("exit_code")


async def test_terminated_reason_is_cancelled(stubbed):
    served, stubber = stubbed
    stubber.add_response(
        "describe_jobs", {"jobs": [job(status="FAILED", statusReason="Terminated")]}, {"jobs": ["j-1"]}
    )
    run = (await served.stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id="j-1"))).run
    assert run.status == pipeline_run_pb2.RUN_STATUS_CANCELLED and run.terminal


async def test_list_pipelines_follows_every_page_and_dedupes_across_them(stubbed):
    served, stubber = stubbed
    other = {**HELLO, "jobDefinitionName": "other", "revision": 1}
    stubber.add_response(
        "describe_job_definitions",
        {"jobDefinitions": [{**HELLO, "revision": 1}, other], "nextToken": "t1"},
        {"status": "ACTIVE"},
    )
    stubber.add_response(
        "describe_job_definitions",
        {"jobDefinitions": [{**HELLO, "revision": 5}], "nextToken": "t2"},
        {"status": "ACTIVE", "nextToken": "t1"},
    )
    stubber.add_response(
        "describe_job_definitions",
        {"jobDefinitions": [{**HELLO, "revision": 3}]},
        {"status": "ACTIVE", "nextToken": "t2"},
    )
    response = await served.stub.ListPipelines(pb.ListPipelinesRequest())
    assert [(p.name, p.revision) for p in response.pipelines] == [("hello", 5), ("other", 1)]
    assert response.next_page_token == ""


async def test_batch_get_splits_into_chunks_of_100(stubbed):
    served, stubber = stubbed
    ids = [f"j-{i}" for i in range(250)]
    for chunk in (ids[:100], ids[100:200], ids[200:]):
        stubber.add_response("describe_jobs", {"jobs": [job(i) for i in chunk if i != "j-7"]}, {"jobs": chunk})
    response = await served.stub.BatchGetPipelineRuns(pb.BatchGetPipelineRunsRequest(run_ids=ids + ["j-3"]))
    assert [r.run_id for r in response.runs] == [i for i in ids if i != "j-7"]
    assert list(response.missing_run_ids) == ["j-7"]


@pytest.mark.parametrize(
    "code,status,http,grpc_code,reason",
    [
        ("AccessDeniedException", "", 403, grpc.StatusCode.PERMISSION_DENIED, "AWS_ACCESS_DENIED"),
        ("InvalidIdentityToken", "", 400, grpc.StatusCode.FAILED_PRECONDITION, "AWS_IDENTITY_TOKEN_INVALID"),
        ("ExpiredTokenException", "", 403, grpc.StatusCode.FAILED_PRECONDITION, "AWS_CREDENTIALS_INVALID"),
        ("TooManyRequestsException", "", 429, grpc.StatusCode.RESOURCE_EXHAUSTED, "AWS_THROTTLED"),
        ("ServerException", "", 500, grpc.StatusCode.UNAVAILABLE, "AWS_UNAVAILABLE"),
        ("ClientException", "JobQueue q1 not found", 400, grpc.StatusCode.NOT_FOUND, "JOB_QUEUE_NOT_FOUND"),
    ],
)
async def test_submit_errors_are_mapped(stubbed, code, status, http, grpc_code, reason):
    served, stubber = stubbed
    stubber.add_response("describe_job_definitions", {"jobDefinitions": [HELLO]})
    stubber.add_client_error("submit_job", code, status or "denied", http)
    if http >= 500:  # AWS may have made the job: the service looks it up by name before answering
        stubber.add_response("list_jobs", {"jobSummaryList": []})
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello"))
    assert caught.value.code() == grpc_code
    assert reason_of(caught.value) == reason
    if reason == "AWS_ACCESS_DENIED":
        assert "iam:PassRole" in error_details(caught.value)["Help"].links[0].description
    if reason == "AWS_THROTTLED":
        assert error_details(caught.value)["RetryInfo"].retry_delay.seconds >= 1


async def test_unreachable_aws_is_unavailable():
    runtime = fake_aws_runtime(endpoint_url="http://127.0.0.1:9")  # discard port: nothing listens
    async with serve(PlatformRegistry({"prod": runtime}, "prod")) as served:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await served.stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id="j-1"))
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert reason_of(caught.value) == "AWS_UNAVAILABLE"


@pytest.fixture
async def stubbed_connection():
    runtime = fake_aws_runtime()
    clients = runtime.clients
    stubbers = {name: Stubber(getattr(clients, name)) for name in ("batch", "sts", "iam")}
    for stubber in stubbers.values():
        stubber.activate()
    undo = to_the_stubbed_client(clients)
    try:
        async with serve(PlatformRegistry({"prod": runtime}, "prod")) as served:
            yield served, stubbers
    finally:
        undo()
        for stubber in stubbers.values():
            stubber.deactivate()
    for stubber in stubbers.values():
        stubber.assert_no_pending_responses()


CALLER = {"UserId": "AROA:s", "Account": "111122223333", "Arn": "arn:aws:sts::111122223333:assumed-role/polysync/s"}
QUEUE = {
    "jobQueueName": "q1",
    "jobQueueArn": "arn:aws:batch:eu-west-1:111122223333:job-queue/q1",
    "state": "ENABLED",
    "status": "VALID",
    "priority": 1,
    "computeEnvironmentOrder": [],
}


def add_section_13_reads(batch: Stubber) -> None:
    """TestConnection's optional checks after ListJobs: DescribeComputeEnvironments, GetJobQueueSnapshot."""
    batch.add_response("describe_compute_environments", {"computeEnvironments": []}, {"maxResults": 1})
    batch.add_response("get_job_queue_snapshot", {"frontOfQueue": {"jobs": [], "lastUpdatedAt": 0}}, {"jobQueue": "q1"})


async def test_test_connection_reports_denied_permissions_without_failing(stubbed_connection):
    served, stubbers = stubbed_connection
    stubbers["sts"].add_response("get_caller_identity", CALLER)
    stubbers["batch"].add_response("describe_job_queues", {"jobQueues": [QUEUE]}, {"jobQueues": ["q1"]})
    stubbers["batch"].add_client_error("describe_job_definitions", "AccessDeniedException", "no", 403)
    stubbers["batch"].add_response("describe_jobs", {"jobs": []})
    stubbers["batch"].add_response("list_jobs", {"jobSummaryList": []})
    add_section_13_reads(stubbers["batch"])
    stubbers["iam"].add_response(
        "simulate_principal_policy",
        {
            "EvaluationResults": [
                {"EvalActionName": "batch:SubmitJob", "EvalDecision": "allowed"},
                {"EvalActionName": "batch:TerminateJob", "EvalDecision": "implicitDeny"},
                {"EvalActionName": "iam:PassRole", "EvalDecision": "allowed"},
            ]
        },
        {
            "PolicySourceArn": "arn:aws:iam::111122223333:role/polysync",
            "ActionNames": ANY,
            "ResourceArns": [QUEUE["jobQueueArn"]],
        },
    )
    response = await served.stub.TestConnection(pb.TestConnectionRequest())
    results = {c.permission: c.result for c in response.checks}
    assert not response.ok and response.caller_arn == CALLER["Arn"]
    assert results["batch:DescribeJobDefinitions"] == connection_pb2.CHECK_RESULT_DENIED
    assert results["batch:TerminateJob"] == connection_pb2.CHECK_RESULT_DENIED
    assert results["batch:SubmitJob"] == connection_pb2.CHECK_RESULT_ALLOWED
    assert any("DescribeJobDefinitions" in p for p in response.problems)


async def test_test_connection_with_bad_credentials_is_ok_false_not_an_error(stubbed_connection):
    served, stubbers = stubbed_connection
    stubbers["sts"].add_client_error("get_caller_identity", "InvalidClientTokenId", "bad token", 403)
    response = await served.stub.TestConnection(pb.TestConnectionRequest())
    assert not response.ok and response.caller_arn == ""
    assert "credentials" in response.problems[0]


async def test_test_connection_without_iam_simulation_reports_unverified(stubbed_connection):
    served, stubbers = stubbed_connection
    stubbers["sts"].add_response("get_caller_identity", CALLER)
    stubbers["batch"].add_response("describe_job_queues", {"jobQueues": [QUEUE]})
    stubbers["batch"].add_response("describe_job_definitions", {"jobDefinitions": []})
    stubbers["batch"].add_response("describe_jobs", {"jobs": []})
    stubbers["batch"].add_response("list_jobs", {"jobSummaryList": []})
    add_section_13_reads(stubbers["batch"])
    stubbers["iam"].add_client_error("simulate_principal_policy", "AccessDenied", "no", 403)
    response = await served.stub.TestConnection(pb.TestConnectionRequest())
    results = {c.permission: c.result for c in response.checks}
    assert response.ok, list(response.problems)  # unverifiable is not a failure
    assert results["batch:SubmitJob"] == connection_pb2.CHECK_RESULT_UNVERIFIED
