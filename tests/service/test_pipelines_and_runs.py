"""The service end to end: a real grpc.aio server on 127.0.0.1:0 over the embedded emulator."""

import asyncio
import uuid

import grpc
import pytest
from polysync.platform.v1 import connection_pb2
from polysync.platform.v1 import pipeline_run_pb2 as runs_pb
from polysync.platform.v1 import platform_service_pb2 as pb

from tests.support import error_details, reason_of

RUNNING, SUCCEEDED, FAILED, CANCELLED = (
    runs_pb.RUN_STATUS_RUNNING,
    runs_pb.RUN_STATUS_SUCCEEDED,
    runs_pb.RUN_STATUS_FAILED,
    runs_pb.RUN_STATUS_CANCELLED,
)
LIFECYCLE = ["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"]


async def rpc_error(call) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


async def watch(stub, run_id):
    return [m async for m in stub.WatchPipelineRun(pb.WatchPipelineRunRequest(run_id=run_id))]


async def count_jobs(emulator_batch, queue="polysync-demo"):
    response = await asyncio.to_thread(
        emulator_batch.list_jobs, jobQueue=queue, filters=[{"name": "JOB_NAME", "values": ["Polysync-*"]}]
    )
    return len(response["jobSummaryList"])


def served_batch(served):
    # The demo platform's own boto3 client, to look at the emulator directly.
    return served.platforms.get("demo").clients.batch


# --- pipelines ---------------------------------------------------------------------------------


async def test_list_pipelines_shows_each_definition_once_at_its_latest_revision(served):
    response = await served.stub.ListPipelines(pb.ListPipelinesRequest())
    by_name = {p.name: p for p in response.pipelines}
    assert {"hello", "greet", "fan-out"} <= set(by_name)
    assert len(response.pipelines) == len(by_name)
    assert by_name["hello"].revision == 2
    assert list(by_name["greet"].required_parameters) == ["name"]
    assert by_name["greet"].parameters["greeting"] == "Hello"
    assert by_name["greet"].type == "container" and by_name["greet"].image


async def test_list_pipelines_pages_and_filters(served):
    names, token = [], ""
    while True:
        page = await served.stub.ListPipelines(pb.ListPipelinesRequest(page_size=1, page_token=token))
        assert len(page.pipelines) <= 1
        names += [p.name for p in page.pipelines]
        token = page.next_page_token
        if not token:
            break
    everything = await served.stub.ListPipelines(pb.ListPipelinesRequest())
    assert names == [p.name for p in everything.pipelines]
    greet = await served.stub.ListPipelines(pb.ListPipelinesRequest(name_prefix="gre"))
    assert [p.name for p in greet.pipelines] == ["greet"]
    bad = await rpc_error(served.stub.ListPipelines(pb.ListPipelinesRequest(page_token="garbage")))
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_get_pipeline_by_name_revision_and_arn(served):
    latest = (await served.stub.GetPipeline(pb.GetPipelineRequest(pipeline="hello"))).pipeline
    assert latest.revision == 2
    first = (await served.stub.GetPipeline(pb.GetPipelineRequest(pipeline="hello:1"))).pipeline
    assert first.revision == 1
    by_arn = (await served.stub.GetPipeline(pb.GetPipelineRequest(pipeline=first.arn))).pipeline
    assert by_arn.revision == 1 and by_arn.name == "hello"


async def test_unknown_pipeline_is_job_definition_not_found(served):
    error = await rpc_error(served.stub.GetPipeline(pb.GetPipelineRequest(pipeline="no-such-definition")))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert reason_of(error) == "JOB_DEFINITION_NOT_FOUND"
    assert "describe-job-definitions" in error_details(error)["Help"].links[0].description
    error = await rpc_error(served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello:99")))
    assert reason_of(error) == "JOB_DEFINITION_NOT_FOUND"


# --- submitting --------------------------------------------------------------------------------


async def test_execute_and_watch_to_success(served):
    response = await served.stub.ExecutePipeline(
        pb.ExecutePipelineRequest(pipeline="greet", parameters={"name": "Ada"})
    )
    run = response.run
    assert run.job_name.startswith("Polysync-") and run.status == RUNNING and not response.deduplicated
    assert (
        run.console_url
        == f"https://us-east-1.console.aws.amazon.com/batch/home?region=us-east-1#jobs/detail/{run.run_id}"
    )
    events = await watch(served.stub, run.run_id)
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    natives = [e.run.native_status for e in events]
    assert natives == sorted(natives, key=LIFECYCLE.index), natives  # in lifecycle order, no repeats
    assert len(set(natives)) == len(natives)
    assert len(natives) >= 3, natives  # real transitions were observed
    last = events[-1].run
    assert last.status == SUCCEEDED and last.terminal and last.exit_code == 0
    assert last.parameters["name"] == "Ada"
    assert all(not e.run.terminal for e in events[:-1])


async def test_failing_job_reports_exit_code_and_reason(served):
    run = (
        await served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello", parameters={"exit_code": "3"}))
    ).run
    last = (await watch(served.stub, run.run_id))[-1].run
    assert last.status == FAILED and last.exit_code == 3
    assert "Essential container in task exited" in last.status_reason
    assert last.message == f"Failed: {last.status_reason} (exit code 3)"
    assert last.warnings and "logs" in last.warnings[0]


async def test_missing_ref_parameters_submit_nothing(served):
    before = await count_jobs(served_batch(served))
    error = await rpc_error(served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="greet")))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason_of(error) == "MISSING_PARAMETERS"
    assert [v.field for v in error_details(error)["BadRequest"].field_violations] == ["parameters[name]"]
    assert "name" in error.details()
    assert await count_jobs(served_batch(served)) == before


async def test_bad_fields_are_invalid_argument_and_submit_nothing(served):
    before = await count_jobs(served_batch(served))
    error = await rpc_error(
        served.stub.ExecutePipeline(
            pb.ExecutePipelineRequest(
                pipeline="hello", array_size=1, retry_attempts=11, scheduling_priority_override=10000
            )
        )
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and reason_of(error) == "INVALID_ARGUMENT"
    fields = {v.field for v in error_details(error)["BadRequest"].field_violations}
    assert fields == {"array_size", "retry_attempts", "scheduling_priority_override"}
    assert await count_jobs(served_batch(served)) == before


async def test_missing_queue_is_job_queue_not_found(served):
    error = await rpc_error(
        served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello", job_queue="no-such-queue"))
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert reason_of(error) == "JOB_QUEUE_NOT_FOUND"
    assert error_details(error)["ErrorInfo"].metadata["job_queue"] == "no-such-queue"


async def test_request_id_makes_execute_idempotent_across_a_restart(served, emulator):
    from polysync_batch.bootstrap import demo_platforms

    from tests.support import serve

    request = pb.ExecutePipelineRequest(pipeline="hello", request_id=str(uuid.uuid4()))
    first = await served.stub.ExecutePipeline(request)
    second = await served.stub.ExecutePipeline(request)
    assert not first.deduplicated and second.deduplicated
    assert second.run.run_id == first.run.run_id
    # A new server process knows nothing in memory: the job name derived from request_id finds it.
    async with serve(demo_platforms(emulator, None)) as restarted:
        third = await restarted.stub.ExecutePipeline(request)
    assert third.deduplicated and third.run.run_id == first.run.run_id
    other = await served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello", request_id=str(uuid.uuid4())))
    assert other.run.run_id != first.run.run_id


async def test_concurrent_retries_of_one_request_id_submit_one_job(served):
    request = pb.ExecutePipelineRequest(pipeline="hello", request_id=str(uuid.uuid4()))
    responses = await asyncio.gather(*(served.stub.ExecutePipeline(request) for _ in range(5)))
    assert len({r.run.run_id for r in responses}) == 1
    assert sum(not r.deduplicated for r in responses) == 1


# --- runs --------------------------------------------------------------------------------------


async def test_cancel_a_queued_or_running_run_ends_cancelled(served):
    run = (
        await served.stub.ExecutePipeline(
            pb.ExecutePipelineRequest(pipeline="hello", parameters={"duration_seconds": "30"})
        )
    ).run
    cancelled = await served.stub.CancelPipelineRun(pb.CancelPipelineRunRequest(run_id=run.run_id))
    assert not cancelled.already_terminal
    last = (await watch(served.stub, run.run_id))[-1].run
    assert last.status == CANCELLED and last.status_reason == "Cancelled by Polysync"
    again = await served.stub.CancelPipelineRun(pb.CancelPipelineRunRequest(run_id=run.run_id))
    assert again.already_terminal and again.run.status == CANCELLED


async def test_cancel_reason_text_is_appended(served):
    run = (
        await served.stub.ExecutePipeline(
            pb.ExecutePipelineRequest(pipeline="hello", parameters={"duration_seconds": "30"})
        )
    ).run
    await asyncio.sleep(0.4)  # let it reach RUNNING
    await served.stub.CancelPipelineRun(pb.CancelPipelineRunRequest(run_id=run.run_id, reason="superseded"))
    last = (await watch(served.stub, run.run_id))[-1].run
    assert last.status == CANCELLED and last.status_reason == "Cancelled by Polysync: superseded"


async def test_unknown_run_is_run_not_found(served):
    unknown = str(uuid.uuid4())
    for call in (
        served.stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id=unknown)),
        served.stub.CancelPipelineRun(pb.CancelPipelineRunRequest(run_id=unknown)),
    ):
        error = await rpc_error(call)
        assert error.code() == grpc.StatusCode.NOT_FOUND and reason_of(error) == "RUN_NOT_FOUND"
    stream = served.stub.WatchPipelineRun(pb.WatchPipelineRunRequest(run_id=unknown))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for _ in stream:
            pass
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND and reason_of(caught.value) == "RUN_NOT_FOUND"


async def test_unknown_platform_is_platform_not_found(served):
    error = await rpc_error(served.stub.ListPipelines(pb.ListPipelinesRequest(platform="nope")))
    assert error.code() == grpc.StatusCode.NOT_FOUND and reason_of(error) == "PLATFORM_NOT_FOUND"
    assert "demo" in error.details()


async def test_batch_get_lists_unknown_ids_as_missing(served):
    run = (await served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello"))).run
    unknown = str(uuid.uuid4())
    response = await served.stub.BatchGetPipelineRuns(pb.BatchGetPipelineRunsRequest(run_ids=[run.run_id, unknown]))
    assert [r.run_id for r in response.runs] == [run.run_id]
    assert list(response.missing_run_ids) == [unknown]
    error = await rpc_error(served.stub.BatchGetPipelineRuns(pb.BatchGetPipelineRunsRequest(run_ids=["x"] * 1001)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_list_pipeline_runs_filters_by_status_and_name(served):
    run = (await served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello"))).run
    await watch(served.stub, run.run_id)
    succeeded = await served.stub.ListPipelineRuns(pb.ListPipelineRunsRequest(statuses=[SUCCEEDED], page_size=1000))
    assert run.run_id in {r.run_id for r in succeeded.runs}
    assert all(r.status == SUCCEEDED for r in succeeded.runs)
    running = await served.stub.ListPipelineRuns(pb.ListPipelineRunsRequest(statuses=[RUNNING], page_size=1000))
    assert run.run_id not in {r.run_id for r in running.runs}
    named = await served.stub.ListPipelineRuns(pb.ListPipelineRunsRequest(name_prefix=run.job_name))
    assert [r.run_id for r in named.runs] == [run.run_id]


async def test_watch_many_ends_when_all_are_terminal(served):
    ids = [
        (await served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello"))).run.run_id for _ in range(2)
    ]
    events = [m async for m in served.stub.WatchPipelineRuns(pb.WatchPipelineRunsRequest(run_ids=ids))]
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    final = {e.run.run_id: e.run for e in events if e.run.terminal}
    assert set(final) == set(ids) and all(r.status == SUCCEEDED for r in final.values())


# --- connection --------------------------------------------------------------------------------


async def test_test_connection_reports_identity_queue_and_checks(served):
    response = await served.stub.TestConnection(pb.TestConnectionRequest())
    assert response.ok, list(response.problems)
    assert response.caller_arn.startswith("arn:aws:") and response.region == "us-east-1"
    assert response.job_queue.exists and response.job_queue.state == "ENABLED"
    results = {c.permission: c.result for c in response.checks}
    assert results["batch:DescribeJobQueues"] == connection_pb2.CHECK_RESULT_ALLOWED
    assert results["batch:DescribeJobs"] == connection_pb2.CHECK_RESULT_ALLOWED
    for simulated in ("batch:SubmitJob", "batch:TerminateJob", "iam:PassRole"):
        assert results[simulated] == connection_pb2.CHECK_RESULT_ALLOWED, response.checks


async def test_test_connection_reports_a_missing_queue_without_failing(served):
    response = await served.stub.TestConnection(pb.TestConnectionRequest(job_queue="no-such-queue"))
    assert not response.ok
    assert not response.job_queue.exists
    assert any("no-such-queue" in p for p in response.problems)
