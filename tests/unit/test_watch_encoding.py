"""Watch messages are encoded once per state and per stream field (api/convert.py
watch_event_bytes): the bytes must be those of the message built field by field."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync_batch.api import convert
from polysync_batch.aws.translate import RunContext, to_run
from polysync_batch.domain.models import StatusChange
from polysync_batch.service.ports import WatchEvent

from tests.encoding_reference import watch_event_fields

RUN = replace(
    to_run(
        {
            "jobId": "j-1",
            "status": "RUNNABLE",
            "jobDefinition": "arn:aws:batch:us-east-1:1:job-definition/d:1",
            "createdAt": 1_700_000_000_000,
            "parameters": {"name": "x"},
        },
        RunContext("prod", "us-east-1", None, 600),
    ),
    history=(StatusChange("RUNNABLE", "", datetime(2026, 1, 1, tzinfo=UTC)),),
)
STALE = datetime(2026, 1, 2, 3, 4, 5, 600_000, tzinfo=UTC)


@pytest.mark.parametrize("response", [pb.WatchPipelineRunResponse, pb.WatchPipelineRunsResponse])
@pytest.mark.parametrize(
    "event",
    [
        WatchEvent(RUN, None, False, 1),
        WatchEvent(RUN, STALE, False, 300),
        WatchEvent(RUN, None, True, 2**40),
        WatchEvent(None, None, True, 7),
        WatchEvent(RUN, None, False, 0),
    ],
)
def test_encoded_watch_messages_are_the_messages_bytes(response, event):
    encoded = convert.watch_event_bytes(event)
    assert encoded == response(**watch_event_fields(event)).SerializeToString()
    assert convert.watch_event_bytes(event) == encoded  # from the shared encoding of the run


async def test_a_heartbeat_comes_after_each_quiet_heartbeat_seconds_with_one_timer_moved_on():
    """The heartbeat timer is armed once and moved on (subscription.py): a message at 20 s moves
    the next heartbeat to 50 s, not 30 s."""
    import asyncio

    from polysync_batch.watch.subscription import Subscription

    from tests.manual_clock import ManualClock, settle

    clock = ManualClock()
    subscription = Subscription([RUN.run_id])
    events = subscription.events(clock, 30)
    subscription.deliver(RUN)
    assert (await anext(events)).run is RUN
    following = asyncio.ensure_future(anext(events))
    await clock.advance(20)
    running = replace(RUN, native_status="RUNNING")
    subscription.deliver(running)
    await settle()
    assert following.done() and not following.result().heartbeat
    beat = asyncio.ensure_future(anext(events))
    await clock.advance(29)
    assert not beat.done()
    await clock.advance(1)
    assert beat.done() and beat.result().heartbeat and beat.result().run is running
    assert beat.result().sequence == 3
    await events.aclose()
