"""Why a run failed, through gRPC (SPEC §13): the emulator plays each cause, and AWS's exact
wording replayed through a fake DescribeJobs answer gives the cause, the attempts and the advice."""

import asyncio
import json
import time
import uuid

import pytest
from botocore.awsrequest import AWSResponse
from polysync.platform.v1 import pipeline_run_pb2 as runs_pb
from polysync.platform.v1 import platform_service_pb2 as pb

from tests.support import on_wire_call

C = runs_pb.FailureCause


async def run_to_the_end(stub, **request):
    submitted = await stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello", **request))
    seen = [m.run async for m in stub.WatchPipelineRun(pb.WatchPipelineRunRequest(run_id=submitted.run.run_id))]
    return seen


@pytest.mark.parametrize(
    ("failure", "cause", "advice"),
    [
        ("oom", C.FAILURE_CAUSE_OUT_OF_MEMORY, "memory_mib"),
        ("image_pull", C.FAILURE_CAUSE_IMAGE_PULL, "registry"),
        ("timeout", C.FAILURE_CAUSE_TIMEOUT, "timeout_seconds"),
        ("platform", C.FAILURE_CAUSE_PLATFORM, "AWS-side"),
        ("spot", C.FAILURE_CAUSE_HOST_TERMINATED, "evaluateOnExit"),
    ],
)
async def test_the_emulator_plays_each_cause(served, failure, cause, advice):
    seen = await run_to_the_end(served.stub, parameters={"failure": failure})
    last = seen[-1]
    assert last.status == runs_pb.RUN_STATUS_FAILED and last.failure_cause == cause
    assert any(advice in w for w in last.warnings), list(last.warnings)
    assert [a.failure_cause for a in last.attempt_details] == [cause]
    assert all(m.failure_cause == C.FAILURE_CAUSE_UNSPECIFIED for m in seen[:-1])  # only once it failed


async def test_a_spot_reclaim_retried_is_two_attempts_each_with_its_own_log(served):
    seen = await run_to_the_end(served.stub, parameters={"failure": "spot"}, retry_attempts=2)
    last = seen[-1]
    assert last.status == runs_pb.RUN_STATUS_SUCCEEDED and last.failure_cause == C.FAILURE_CAUSE_UNSPECIFIED
    first, second = last.attempt_details
    assert (first.index, first.failure_cause, first.HasField("exit_code")) == (
        0,
        C.FAILURE_CAUSE_HOST_TERMINATED,
        False,
    )
    assert first.status_reason.startswith("Host EC2 (instance i-")
    assert (second.index, second.failure_cause, second.exit_code) == (1, C.FAILURE_CAUSE_UNSPECIFIED, 0)
    assert first.log_stream_name != second.log_stream_name
    assert first.stop_time.ToDatetime() <= second.start_time.ToDatetime()
    for attempt in (first, second):
        request = pb.StreamPipelineRunLogsRequest(run_id=last.run_id, start_from_head=True, attempt=attempt.index)
        pages = [page async for page in served.stub.StreamPipelineRunLogs(request)]
        assert pages and {p.log_stream_name for p in pages} == {attempt.log_stream_name}


async def test_unplaceable_then_cancelled_by_the_job_state_time_limit_action(served):
    seen = await run_to_the_end(served.stub, parameters={"failure": "unplaceable", "state_time_limit_seconds": "0.3"})
    stuck = [m for m in seen if m.native_status == "RUNNABLE" and m.status_reason]
    assert stuck and stuck[0].status_reason.startswith("MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT")
    assert any("MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT" in w for w in stuck[0].warnings)
    last = seen[-1]
    assert last.status_reason.startswith("Canceled by JobStateTimeLimit action")
    assert last.failure_cause == C.FAILURE_CAUSE_UNSCHEDULABLE and list(last.attempt_details) == []
    assert any("maximum vCPUs" in w for w in last.warnings)
    # The blocker reason AWS overwrote stays in the history
    got = (await served.stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id=last.run_id))).run
    kept = [(c.native_status, c.status_reason.split(" ")[0]) for c in got.history]
    assert ("RUNNABLE", "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT") in kept
    assert kept[-1] == ("FAILED", "Canceled")


async def test_a_blocked_queue_then_a_callers_cancel(served):
    submitted = await served.stub.ExecutePipeline(
        pb.ExecutePipelineRequest(pipeline="hello", parameters={"failure": "blocked"})
    )
    run_id = submitted.run.run_id
    async for message in served.stub.WatchPipelineRun(pb.WatchPipelineRunRequest(run_id=run_id)):
        if message.run.status_reason.startswith("CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY"):
            break
    cancelled = await served.stub.CancelPipelineRun(pb.CancelPipelineRunRequest(run_id=run_id))
    assert cancelled.run.status == runs_pb.RUN_STATUS_CANCELLED
    assert cancelled.run.failure_cause == C.FAILURE_CAUSE_CANCELLED


async def test_a_dependency_that_failed(served):
    failed = await run_to_the_end(served.stub, parameters={"exit_code": "3"})
    assert failed[-1].failure_cause == C.FAILURE_CAUSE_APPLICATION
    seen = await run_to_the_end(served.stub, depends_on=[failed[-1].run_id])
    assert seen[-1].status_reason == "Dependent Job failed"
    assert seen[-1].failure_cause == C.FAILURE_CAUSE_DEPENDENCY


# --- AWS's exact wording, replayed through a fake DescribeJobs answer ------------------------------

MS = 1_790_000_000_000
OOM = "OutOfMemoryError: Container killed due to memory usage"
SPOT = "Host EC2 (instance i-0282b396e52b4c95d) terminated."
PULL = (
    "CannotPullContainerError: ref pull has been retried 1 time(s): failed to pull and unpack image "
    '"123456789.dkr.ecr.us-east-1.amazonaws.com/myapp:latest": failed to resolve reference: unexpected status '
    "code 403 Forbidden"
)
LIMIT = "Canceled by JobStateTimeLimit action due to reason: CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY"
ESSENTIAL = "Essential container in task exited"


def attempt(reason, container_reason="", exit_code=None, stream="s", start=MS, stop=MS + 1000):
    container = {"logStreamName": stream}
    if container_reason:
        container["reason"] = container_reason
    if exit_code is not None:
        container["exitCode"] = exit_code
    return {"container": container, "startedAt": start, "stoppedAt": stop, "statusReason": reason}


CASES = {
    "oom-after-spot": (
        {
            "status": "FAILED",
            "statusReason": ESSENTIAL,
            "container": {"exitCode": 137, "reason": OOM, "logStreamName": "b"},
            "attempts": [attempt(SPOT, stream="a"), attempt(ESSENTIAL, OOM, 137, "b", MS + 2000, MS + 3000)],
        },
        C.FAILURE_CAUSE_OUT_OF_MEMORY,
        [C.FAILURE_CAUSE_HOST_TERMINATED, C.FAILURE_CAUSE_OUT_OF_MEMORY],
        "memory_mib",
    ),
    "image-pull": (
        {"status": "FAILED", "statusReason": PULL, "container": {"reason": PULL}, "attempts": [attempt(PULL, PULL)]},
        C.FAILURE_CAUSE_IMAGE_PULL,
        [C.FAILURE_CAUSE_IMAGE_PULL],
        "ecr:BatchGetImage",
    ),
    "time-limit": (
        {"status": "FAILED", "statusReason": LIMIT, "attempts": []},
        C.FAILURE_CAUSE_UNSCHEDULABLE,
        [],
        "compute environments' limits",
    ),
    "spot-no-retry": (
        {"status": "FAILED", "statusReason": SPOT, "container": {"logStreamName": "a"}, "attempts": [attempt(SPOT)]},
        C.FAILURE_CAUSE_HOST_TERMINATED,
        [C.FAILURE_CAUSE_HOST_TERMINATED],
        '"onStatusReason": "Host EC2*"',
    ),
    "unknown-wording": (
        {"status": "FAILED", "statusReason": "Something AWS never documented", "attempts": []},
        C.FAILURE_CAUSE_UNSPECIFIED,
        [],
        None,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_aws_wording_replayed_through_describe_jobs(served, case):
    answer, cause, attempt_causes, advice = CASES[case]
    job_id = str(uuid.uuid4())
    job = {
        "jobArn": f"arn:aws:batch:us-east-1:123456789012:job/{job_id}",
        "jobId": job_id,
        "jobName": "Polysync-replay",
        "jobQueue": "arn:aws:batch:us-east-1:123456789012:job-queue/polysync-demo",
        "jobDefinition": "arn:aws:batch:us-east-1:123456789012:job-definition/hello:2",
        "createdAt": MS - 5000,
        **answer,
    }
    client = served.platforms.get("demo").clients.batch

    def describe_jobs(params, **_):
        if json.loads(params["body"] or b"{}").get("jobs") != [job_id]:
            return None  # every other DescribeJobs goes to the emulator
        return AWSResponse("https://batch", 200, {}, None), {"jobs": [job], "ResponseMetadata": {"HTTPStatusCode": 200}}

    client.meta.events.register("before-call.batch.DescribeJobs", describe_jobs)

    # DescribeJobs goes over aws/wire.py where it can: the same answer there.
    def describe_jobs_over_the_wire(operation, params):
        replayed = describe_jobs({"body": json.dumps(params)}) if operation == "DescribeJobs" else None
        return None if replayed is None else replayed[1]

    undo = on_wire_call(served.platforms.get("demo").clients.batch_wire, describe_jobs_over_the_wire)
    try:
        run = (await served.stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id=job_id))).run
    finally:
        client.meta.events.unregister("before-call.batch.DescribeJobs", describe_jobs)
        undo()
    assert run.failure_cause == cause
    assert [a.failure_cause for a in run.attempt_details] == attempt_causes
    assert [a.index for a in run.attempt_details] == list(range(len(attempt_causes)))
    for got, sent in zip(run.attempt_details, answer["attempts"], strict=True):
        assert got.status_reason == sent["statusReason"]
        assert got.container_reason == sent["container"].get("reason", "")
        assert got.log_stream_name == sent["container"]["logStreamName"]
        assert got.start_time.ToMilliseconds() == sent["startedAt"]
    if advice is None:
        assert not [w for w in run.warnings if "https://docs.aws.amazon.com/" in w]
    else:
        assert any(advice in w and "https://docs.aws.amazon.com/" in w for w in run.warnings), list(run.warnings)
    assert run.history and run.history[-1].status_reason == answer["statusReason"]
    assert run.history[-1].native_status == answer["status"]


# --- queue position -------------------------------------------------------------------------------


async def runnable(stub, run_id):
    async for message in stub.WatchPipelineRun(pb.WatchPipelineRunRequest(run_id=run_id)):
        if message.run.native_status == "RUNNABLE":
            return


async def both_runnable_at_aws(emulator, run_ids, timeout=20.0):
    batch = emulator.client("batch")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = (await asyncio.to_thread(batch.describe_jobs, jobs=run_ids))["jobs"]
        if len(jobs) == len(run_ids) and all(job["status"] == "RUNNABLE" for job in jobs):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{run_ids} not all RUNNABLE within {timeout} s")


async def test_runnable_runs_read_get_their_queue_position_from_one_snapshot(served, emulator):
    queue = emulator.seed_small_queue()
    client = served.platforms.get("demo").clients.batch
    calls = []

    def count(**_):
        calls.append(1)

    ids = []
    for _ in range(2):
        request = pb.ExecutePipelineRequest(pipeline="hello", job_queue=queue, parameters={"failure": "blocked"})
        ids.append((await served.stub.ExecutePipeline(request)).run.run_id)
    # Both RUNNABLE at AWS before the service reads either: a snapshot taken while the second
    # was still on its way (through a watch of the first) would be shared for the interval.
    await both_runnable_at_aws(emulator, ids)
    client.meta.events.register("before-call.batch.GetJobQueueSnapshot", count)
    try:
        first = (await served.stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id=ids[0]))).run
        both = (await served.stub.BatchGetPipelineRuns(pb.BatchGetPipelineRunsRequest(run_ids=ids))).runs
        assert first.HasField("queue_position") and first.queue_position.position == 1
        assert first.queue_position.earliest_time_at_position.seconds > 0
        assert sorted(r.queue_position.position for r in both) == [1, 2]
        assert len(calls) == 1  # one snapshot of the queue, shared by every read within the interval
        watched = served.stub.WatchPipelineRun(pb.WatchPipelineRunRequest(run_id=ids[1]))
        first_message = await anext(aiter(watched))
        watched.cancel()
        assert first_message.run.queue_position.position == 2  # a watch of a RUNNABLE run has it too
        assert len(calls) == 1
        done = await served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello", job_queue=queue))
        succeeded = [
            m.run async for m in served.stub.WatchPipelineRun(pb.WatchPipelineRunRequest(run_id=done.run.run_id))
        ]
        assert not succeeded[-1].HasField("queue_position")
    finally:
        client.meta.events.unregister("before-call.batch.GetJobQueueSnapshot", count)
        for run_id in ids:
            await served.stub.CancelPipelineRun(pb.CancelPipelineRunRequest(run_id=run_id))


async def test_no_queue_position_when_the_snapshot_is_not_allowed_and_the_log_says_so_once(served, emulator, caplog):
    client = served.platforms.get("demo").clients.batch
    calls = []

    def deny(**_):
        calls.append(1)
        body = {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}
        return AWSResponse("https://batch", 403, {}, None), dict(body, ResponseMetadata={"HTTPStatusCode": 403})

    request = pb.ExecutePipelineRequest(pipeline="hello", parameters={"failure": "blocked"})
    run_id = (await served.stub.ExecutePipeline(request)).run.run_id
    client.meta.events.register("before-call.batch.GetJobQueueSnapshot", deny)
    try:
        await runnable(served.stub, run_id)
        for _ in range(3):
            run = (await served.stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id=run_id))).run
            assert run.native_status == "RUNNABLE" and not run.HasField("queue_position")
        assert len(calls) == 1
        said = [r for r in caplog.records if "queue positions off" in r.getMessage()]
        assert len(said) == 1
    finally:
        client.meta.events.unregister("before-call.batch.GetJobQueueSnapshot", deny)
        await served.stub.CancelPipelineRun(pb.CancelPipelineRunRequest(run_id=run_id))
