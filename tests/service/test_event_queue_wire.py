"""The event queue reads and deletes through aws/sqs_wire.py, not botocore's per-call pipeline
(~5× less CPU per call, bench/sqs_receive.py): a watch ends by events from the emulator's queue
while the platform's boto3 SQS client sends nothing, every attempt is still counted in the AWS
call metrics, and the queue is empty afterwards."""

import pytest
from polysync.platform.v1 import pipeline_run_pb2 as runs_pb
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync_batch.bootstrap import demo_platforms
from polysync_batch.emulator import Lifecycle, start_emulator

from tests.support import held_back_watch, queue_depth, serve, until

LIFECYCLE = Lifecycle(submitted=0.2, pending=0.2, runnable=0.2, starting=0.2, running=0.5)


@pytest.fixture(scope="module")
def emulator():
    with start_emulator(LIFECYCLE) as running:
        yield running


async def test_events_flow_with_no_botocore_sqs_call_and_every_attempt_is_counted(emulator):
    platforms = demo_platforms(emulator, None, held_back_watch())
    platform = platforms.get("demo")
    sent_by_botocore: list[str] = []
    platform.clients.sqs.meta.events.register(
        "before-send.sqs", lambda event_name, **kwargs: sent_by_botocore.append(event_name.rsplit(".", 1)[-1])
    )
    async with serve(platforms) as served:
        consumer = platform.events
        await until(lambda: consumer.healthy)
        run = (await served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello"))).run
        seen = [
            e.run.status
            async for e in served.stub.WatchPipelineRun(pb.WatchPipelineRunRequest(run_id=run.run_id), timeout=30)
            if not e.heartbeat
        ]
        assert seen[-1] == runs_pb.RUN_STATUS_SUCCEEDED
        assert consumer.counts["applied"] >= 3  # the watch ended by events (polling is held back)
        await until(lambda: queue_depth(emulator) == 0)  # each message deleted at the queue
    assert sent_by_botocore == []
    samples = platform.clients.metrics.calls.collect()[0].samples
    counted = {(s.labels["operation"], s.labels["outcome"]): s.value for s in samples if s.name.endswith("_total")}
    assert counted.get(("ReceiveMessage", "ok"), 0) >= 2
    assert counted.get(("DeleteMessageBatch", "ok"), 0) >= 1
