"""The feed's discovery round is the watch core's reconcile for the runs it reads (SPEC §12,
docs/events.md): with events flowing, watched runs that a round read are not read again by the
poller, so following the feed adds no DescribeJobs for them. Counted at the emulator."""

import asyncio

import pytest
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync_batch.emulator import Lifecycle, start_emulator

from tests.faults.test_feed_events import event_platforms
from tests.service.test_feed import collect, submit_outside
from tests.support import FAST_WATCH, serve

RECONCILE = 1.0  # seconds: events.reconcile_interval_seconds, and the feed's rounds with it
WINDOW = 8.0


@pytest.fixture(scope="module")
def emulator():
    with start_emulator(Lifecycle(submitted=0.1, pending=0.1, runnable=0.1, starting=0.1, running=3600)) as running:
        yield running


async def test_following_the_feed_adds_no_reads_of_runs_already_watched(emulator, describe_calls):
    run_ids = submit_outside(emulator, 5, "reconciled")
    async with serve(event_platforms(emulator, RECONCILE, FAST_WATCH)) as served:
        watch = served.stub.WatchPipelineRuns(pb.WatchPipelineRunsRequest(run_ids=run_ids))
        running: set[str] = set()
        while running != set(run_ids):  # every run RUNNING (and staying so for an hour)
            message = await asyncio.wait_for(watch.read(), 30)
            if message.HasField("run") and message.run.native_status == "RUNNING":
                running.add(message.run.run_id)
        await asyncio.sleep(RECONCILE)
        started = len(describe_calls)
        await asyncio.sleep(WINDOW)
        watched_only = len(describe_calls) - started  # the poller's reconcile: one call a second
        feed = served.stub.WatchRunChanges(pb.WatchRunChangesRequest(snapshot=True))
        await collect(feed, lambda messages: messages[-1].snapshot_complete)
        await asyncio.sleep(RECONCILE)
        started = len(describe_calls)
        await asyncio.sleep(WINDOW)
        with_feed = len(describe_calls) - started  # the feed's rounds (before: those and the poller's, twice as many)
        feed.cancel()
        watch.cancel()
    assert watched_only >= WINDOW / RECONCILE / 2, watched_only  # the reconcile ran
    assert with_feed <= watched_only * 1.5, (watched_only, with_feed)
