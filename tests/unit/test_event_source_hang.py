"""A receive that never answers (an SQS endpoint that accepts and hangs) counts as a failing
queue after its wait time plus 10 s, with an injected clock: polling returns at once."""

import asyncio

from polysync_batch.bootstrap import attach_events, build_watch
from polysync_batch.domain import errors

from tests.manual_clock import ManualClock, settle
from tests.unit.test_events import RECONCILE, SETTINGS, FakeBatch, FakeQueue, job


class HangingQueue(FakeQueue):
    hang = False

    async def receive(self, long_poll=True):
        if self.hang:
            self.receives += 1
            await asyncio.Event().wait()  # accepted, never answered
        return await super().receive(long_poll)


async def test_a_hung_receive_fails_the_queue_after_its_wait_plus_10_s_and_polling_returns():
    clock, batch = ManualClock(), FakeBatch()
    core = build_watch("prod", batch.describe, SETTINGS, clock)
    queue = HangingQueue(clock)
    consumer = attach_events(core, queue, SETTINGS, reconcile_interval_seconds=RECONCILE, wait_time_seconds=20)
    batch.jobs["a"] = job("a", "RUNNING")
    subscription = await core.hub.subscribe(["a"])
    consumer.start()
    await settle()
    assert consumer.healthy
    queue.hang = True
    queue.send()  # ends the long poll in flight; the next one hangs
    await clock.advance(29)
    assert consumer.healthy  # within its 20 s wait plus 10 s
    calls = batch.calls
    await clock.advance(2)
    assert not consumer.healthy and "did not answer within 30 s" in consumer.failure
    await clock.advance(SETTINGS.poll_interval_seconds)
    assert batch.calls > calls  # polling again at once, not at the 60 s reconcile
    core.hub.unsubscribe(subscription)
    core.hub.close(errors.server_shutting_down())
