"""The feed while AWS cannot be reached (tests/faults/proxy.py between the service and the
emulator): messages carry stale_since during the outage, the stream stays open, and the runs
that finished meanwhile arrive once AWS answers again."""

import asyncio

from polysync.platform.v1 import platform_service_pb2 as pb

from tests.faults.conftest import WATCH, platforms_via
from tests.support import serve

OUTAGE_SECONDS = 3.0


async def test_an_outage_is_visible_as_stale_since_and_the_feed_catches_up_after_it(emulator, proxy):
    watch = WATCH.model_copy(update={"heartbeat_seconds": 0.5})
    async with serve(platforms_via(emulator, proxy.endpoint_url, watch=watch, max_attempts=1)) as served:
        messages = []

        async def read():
            async for message in served.stub.WatchRunChanges(pb.WatchRunChangesRequest()):
                messages.append(message)

        reader = asyncio.ensure_future(read())
        batch = emulator.client("batch")
        run_ids = [
            batch.submit_job(jobName=f"outage-feed-{i}", jobQueue=emulator.job_queue, jobDefinition="hello")["jobId"]
            for i in range(3)
        ]
        await asyncio.sleep(0.5)
        proxy.unreachable = True
        await asyncio.sleep(OUTAGE_SECONDS)  # the jobs finish at AWS meanwhile
        during = list(messages)
        proxy.unreachable = False
        for _ in range(100):
            last = {c.run.run_id: c.run.native_status for m in messages for c in m.changes}
            if all(last.get(r) == "SUCCEEDED" for r in run_ids) and not messages[-1].HasField("stale_since"):
                break
            await asyncio.sleep(0.1)
        assert not reader.done()  # the stream never ended by itself
        reader.cancel()
    assert any(m.heartbeat and m.HasField("stale_since") for m in during), "the outage was not visible"
    assert all(last.get(r) == "SUCCEEDED" for r in run_ids), last
    assert not messages[-1].HasField("stale_since")
