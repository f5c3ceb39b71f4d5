"""Dependencies that hang count as down: an SQS endpoint that accepts
ReceiveMessage and never answers makes the event queue failing after its wait time plus 10 s,
and polling resumes at once, so a watch still ends soon after its job (issue 17: an 8 s job's
watch ended only at the 60 s reconcile poll)."""

from __future__ import annotations

import asyncio
import time

from polysync.platform.v1 import pipeline_run_pb2 as runs_pb
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync_batch.config import EventsConfig

from tests.faults.conftest import WATCH, platforms_via
from tests.faults.proxy import Action, Fault
from tests.support import serve

WAIT_SECONDS = 1
RECONCILE_SECONDS = 60.0


async def test_a_receive_that_never_answers_fails_the_queue_and_polling_ends_the_watch(emulator, proxy):
    hung = asyncio.Event()
    proxy.rule = lambda exchange: (
        Action(Fault.BLACK_HOLE) if exchange.operation == "ReceiveMessage" and hung.is_set() else None
    )
    watch = WATCH.model_copy(update={"poll_interval_seconds": 0.5, "max_poll_interval_seconds": 0.5})
    events = EventsConfig(
        sqs_queue_url=emulator.events_queue_url,
        wait_time_seconds=WAIT_SECONDS,
        reconcile_interval_seconds=RECONCILE_SECONDS,
    )
    platforms = platforms_via(emulator, proxy.endpoint_url, watch=watch, events=events)
    consumer = platforms.get("demo").events
    async with serve(platforms) as served:
        for _ in range(100):
            if consumer.healthy:
                break
            await asyncio.sleep(0.1)
        assert consumer.healthy  # events flow: watched runs are only reconciled every 60 s
        hung.set()  # from now on every ReceiveMessage is accepted and never answered
        await asyncio.sleep(2 * WAIT_SECONDS)  # the long poll in flight ends; the next one hangs
        started = time.monotonic()
        run = (await served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello"))).run
        seen = [
            e.run.status
            async for e in served.stub.WatchPipelineRun(pb.WatchPipelineRunRequest(run_id=run.run_id), timeout=40)
        ]
        took = time.monotonic() - started
        assert not consumer.healthy and "did not answer" in consumer.failure
    assert seen[-1] == runs_pb.RUN_STATUS_SUCCEEDED
    # The hung receive counts as failing after 1 + 10 s; polling (every 0.5 s) ends the watch.
    assert took < WAIT_SECONDS + 10 + 5, f"the watch took {took:.1f} s"
    assert proxy.of("ReceiveMessage")
