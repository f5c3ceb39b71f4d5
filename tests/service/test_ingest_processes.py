"""`events.ingest_processes`: the event queue received and parsed in processes of their own
(aws/event_ingest.py, aws/event_process.py), checked from outside. Polling is held back (30 s),
so only events can explain what a watcher sees; the emulator's queue is empty afterwards (every
message handled was deleted, by the processes, when the server said so); the SQS attempts the
processes made are in the server's metrics; a process SIGKILLed is replaced and events flow
again; no process outlives the server."""

import asyncio
import os
import signal
import time

import pytest
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync_batch.bootstrap import demo_platforms
from polysync_batch.emulator import Lifecycle, start_emulator

from tests.support import aws_attempts, held_back_watch, queue_depth, serve, until

LIFECYCLE = Lifecycle(submitted=0.3, pending=0.3, runnable=0.3, starting=0.3, running=0.5)


@pytest.fixture
def emulator():
    """One per test: a stopped server's processes leave their long polls at the queue, where
    they would take the next test's events."""
    with start_emulator(LIFECYCLE) as running:
        yield running


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped) is not alive either.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


async def watched_to_the_end(served, run_id: str) -> list[str]:
    statuses: list[str] = []
    async for event in served.stub.WatchPipelineRun(pb.WatchPipelineRunRequest(run_id=run_id), timeout=20):
        if not event.heartbeat:
            statuses.append(event.run.native_status)
    return statuses


async def test_two_ingest_processes_deliver_every_change_and_leave_the_queue_empty(emulator):
    platforms = demo_platforms(emulator, None, held_back_watch(), ingest_processes=2)
    platform = platforms.get("demo")
    async with serve(platforms) as served:
        consumer = platform.events
        await until(lambda: consumer.healthy)
        queue = consumer._queue
        pids = queue.pids
        assert len(pids) == 2 and all(alive(pid) for pid in pids) and os.getpid() not in pids
        runs = [(await served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello"))).run for _ in range(3)]
        seen = await asyncio.gather(*(watched_to_the_end(served, run.run_id) for run in runs))
        for statuses in seen:
            # Each change once, in order, through the 30 s poll's gap: events only.
            assert statuses[-4:] == ["RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"], statuses
        assert consumer.counts["applied"] >= 12
        await until(lambda: queue_depth(emulator) == 0)
        assert aws_attempts(platform.clients, "ReceiveMessage").get("ok", 0) >= 2
        assert aws_attempts(platform.clients, "DeleteMessageBatch").get("ok", 0) >= 1
        assert queue.starts == 2
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in pids):  # the server stopped: its processes go with it
        assert time.monotonic() < deadline, [pid for pid in pids if alive(pid)]
        await asyncio.sleep(0.05)


async def test_a_killed_ingest_process_is_replaced_and_events_flow_again(emulator):
    # Long polls of 2 s: the killed process's live on at SQS and take the events that come
    # meanwhile (they come back after the visibility timeout, as any lost answer's do).
    platforms = demo_platforms(emulator, None, held_back_watch(), ingest_processes=1, events_wait_seconds=2)
    async with serve(platforms) as served:
        consumer = platforms.get("demo").events
        await until(lambda: consumer.healthy)
        queue = consumer._queue
        [killed] = queue.pids
        os.kill(killed, signal.SIGKILL)
        await asyncio.sleep(2.5)  # its long polls at SQS have ended
        await until(lambda: queue.starts == 2 and len(queue.pids) == 1, seconds=20)
        assert queue.pids != [killed]
        await until(lambda: consumer.healthy, seconds=20)
        applied = consumer.counts["applied"]
        run = (await served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello"))).run
        statuses = await watched_to_the_end(served, run.run_id)
        assert statuses[-4:] == ["RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"], statuses
        assert consumer.counts["applied"] > applied
    assert not alive(killed)
