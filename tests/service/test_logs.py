"""StreamPipelineRunLogs against the emulator, whose containers write their echo output to
CloudWatch Logs."""

import grpc
import pytest
from polysync.platform.v1 import platform_service_pb2 as pb

from tests.support import reason_of


async def lines(stub, **request) -> tuple[list[str], set[str]]:
    messages, streams = [], set()
    async for page in stub.StreamPipelineRunLogs(pb.StreamPipelineRunLogsRequest(**request)):
        streams.add(page.log_stream_name)
        messages += [event.message for event in page.events]
        assert all(event.time.seconds > 0 for event in page.events)
    return messages, streams


async def test_follow_streams_the_output_and_ends_after_the_run(served):
    run = (
        await served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="greet", parameters={"name": "Ada"}))
    ).run
    messages, streams = await lines(served.stub, run_id=run.run_id, follow=True, start_from_head=True)
    assert "Hello Ada" in messages
    final = (await served.stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id=run.run_id))).run
    assert final.terminal and streams == {final.log_stream_name}
    again, _ = await lines(served.stub, run_id=run.run_id, start_from_head=True)  # without follow: what is there
    assert again == messages
    first_attempt, _ = await lines(served.stub, run_id=run.run_id, start_from_head=True, attempt=0)
    assert first_attempt == messages


async def test_a_run_without_a_log_stream_yet_is_not_an_error(served):
    run = (
        await served.stub.ExecutePipeline(
            pb.ExecutePipelineRequest(pipeline="hello", parameters={"duration_seconds": "30"})
        )
    ).run
    messages, streams = await lines(served.stub, run_id=run.run_id)  # SUBMITTED: no stream yet
    assert messages == [] and streams == set()
    await served.stub.CancelPipelineRun(pb.CancelPipelineRunRequest(run_id=run.run_id))


async def test_bad_log_requests(served):
    run = (await served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello"))).run
    await lines(served.stub, run_id=run.run_id, follow=True)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await lines(served.stub, run_id=run.run_id, attempt=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await lines(served.stub, run_id="0b5e9d1c-0000-4000-8000-000000000000")
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND and reason_of(caught.value) == "RUN_NOT_FOUND"
