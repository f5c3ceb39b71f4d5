"""Event-driven watches from outside: the emulator publishes AWS Batch events into its own SQS
queue; the server's polling is held back (30 s), so only events can explain what watchers see.
DescribeJobs is counted at the endpoint (the emulator's Batch backend)."""

import asyncio
import json
import time

import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync_batch.bootstrap import demo_platforms
from polysync_batch.emulator import Lifecycle, start_emulator

from tests.support import held_back_watch, queue_depth, serve, until, watch_config

LIFECYCLE = Lifecycle(submitted=0.3, pending=0.6, runnable=0.6, starting=0.6, running=1.0)
HELD_BACK = held_back_watch()


@pytest.fixture(scope="module")
def emulator():
    with start_emulator(LIFECYCLE) as running:
        yield running


async def read_until_end(stream, into: list, deadline: float):
    async def loop():
        async for event in stream:
            into.append((time.time(), event))

    await asyncio.wait_for(loop(), deadline)


async def test_watchers_see_each_change_within_a_second_while_describe_jobs_drops_to_reconciliation(
    emulator, describe_calls
):
    async with serve(demo_platforms(emulator, None, HELD_BACK)) as served:
        consumer = served.platforms.get("demo").events
        await until(lambda: consumer.healthy)
        run = (await served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello"))).run
        streams = [served.stub.WatchPipelineRun(pb.WatchPipelineRunRequest(run_id=run.run_id)) for _ in range(3)]
        seen = [[] for _ in streams]
        await asyncio.gather(*(read_until_end(s, into, 10) for s, into in zip(streams, seen, strict=False)))
        # When each state began at the endpoint (the emulator's lifecycle from createdAt).
        job = emulator.client("batch").describe_jobs(jobs=[run.run_id])["jobs"][0]
        created = job["createdAt"] / 1000
        began = {"PENDING": 0.3, "RUNNABLE": 0.9, "STARTING": 1.5, "RUNNING": 2.1, "SUCCEEDED": 3.1}
        delays = []
        for events in seen:
            statuses = [e.run.native_status for _, e in events if not e.heartbeat]
            assert statuses[-4:] == ["RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"], statuses
            assert len(statuses) == len(set(statuses))  # one message per change, none repeated
            delays += [arrived - (created + began[event.run.native_status]) for arrived, event in events[1:]]
        delays.sort()
        # About a second (the SPEC), on a shared 2-core machine running the emulator too.
        assert delays[len(delays) // 2] < 1.0 and delays[-1] < 2.0, delays
        # Submit (SubmitJob's DescribeJobs) and the watches' first state: no polling at all.
        assert len(describe_calls) <= 3, describe_calls
        assert consumer.counts["applied"] >= 4
        await until(lambda: queue_depth(emulator) == 0)


def envelope(emulator, detail: dict, at: float, **overrides) -> str:
    body = {
        "version": "0",
        "id": f"test-{at}",
        "detail-type": "Batch Job State Change",
        "source": "aws.batch",
        "account": emulator.account_id,
        "region": emulator.region,
        "resources": [detail.get("jobArn", "")],
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at)),
        "detail": detail,
    }
    body.update(overrides)
    return json.dumps(body)


async def test_duplicates_stale_and_malformed_messages_change_nothing_and_are_deleted(emulator, describe_calls):
    async with serve(demo_platforms(emulator, None, HELD_BACK)) as served:
        consumer = served.platforms.get("demo").events
        await until(lambda: consumer.healthy)
        run = (
            await served.stub.ExecutePipeline(
                pb.ExecutePipelineRequest(pipeline="hello", parameters={"duration_seconds": "60"})
            )
        ).run
        stream = served.stub.WatchPipelineRun(pb.WatchPipelineRunRequest(run_id=run.run_id))
        seen = []

        async def read():
            async for event in stream:
                seen.append(event)

        reader = asyncio.ensure_future(read())
        await until(lambda: any(e.run.native_status == "RUNNING" for e in seen))
        before = len(seen)
        counts = dict(consumer.counts)
        detail = emulator.client("batch").describe_jobs(jobs=[run.run_id])["jobs"][0]
        assert detail["status"] == "RUNNING"
        sqs = emulator.client("sqs")
        now = time.time()
        bodies = [
            envelope(emulator, detail, now),  # a duplicate of the state known
            envelope(emulator, detail, now),  # and again
            envelope(emulator, {**detail, "status": "STARTING"}, now - 10),  # stale
            envelope(emulator, {**detail, "status": "RUNNABLE"}, now),  # same second, earlier status
            "this is not JSON",
            envelope(emulator, detail, now, **{"detail-type": "Batch Service Job Queue Blocked"}),
            envelope(emulator, detail, now, account="999999999999"),
            envelope(emulator, detail, now, region="eu-west-3"),
            envelope(emulator, {"jobId": run.run_id}, now),  # no status
        ]
        for body in bodies:
            sqs.send_message(QueueUrl=emulator.events_queue_url, MessageBody=body)
        await until(lambda: sum(consumer.counts.values()) - sum(counts.values()) >= len(bodies))
        delta = {k: consumer.counts[k] - counts.get(k, 0) for k in consumer.counts}
        assert delta["duplicate"] == 2 and delta["stale"] == 2, delta
        assert delta["malformed"] == 2 and delta["foreign"] == 3, delta
        await asyncio.sleep(0.3)
        assert [e for e in seen[before:] if not e.heartbeat] == []  # watchers got nothing
        got = await served.stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id=run.run_id))
        assert got.run.native_status == "RUNNING"
        await served.stub.CancelPipelineRun(pb.CancelPipelineRunRequest(run_id=run.run_id))
        await asyncio.wait_for(reader, 5)
        assert seen[-1].run.native_status == "FAILED" and seen[-1].run.terminal
        await until(lambda: queue_depth(emulator) == 0)


async def test_when_the_queue_fails_polling_takes_over_health_stays_serving_and_it_recovers(emulator, caplog):
    watch = watch_config(**{**HELD_BACK.__dict__, "poll_interval_seconds": 0.2, "max_poll_interval_seconds": 0.2})
    async with serve(demo_platforms(emulator, None, watch)) as served:
        consumer = served.platforms.get("demo").events
        await until(lambda: consumer.healthy)
        sqs = emulator.client("sqs")
        sqs.delete_queue(QueueUrl=emulator.events_queue_url)
        try:
            await until(lambda: not consumer.healthy, 25)  # the long poll in flight ends first
            assert "event queue failing" in caplog.text
            run = (await served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello"))).run
            stream = served.stub.WatchPipelineRun(pb.WatchPipelineRunRequest(run_id=run.run_id))
            statuses = [e.run.native_status async for e in stream if not e.heartbeat]
            assert statuses[-1] == "SUCCEEDED" and len(statuses) >= 3  # polling every 0.2 s saw them
            health = health_pb2_grpc.HealthStub(served.channel)
            answer = await health.Check(health_pb2.HealthCheckRequest(service="platform:demo"))
            assert answer.status == health_pb2.HealthCheckResponse.SERVING
        finally:
            from polysync_batch.emulator.events import seed_event_queue

            seed_event_queue(sqs, emulator.client("events"))
        await until(lambda: consumer.healthy, 10)  # recovered by itself (backoff ≤ 2 s here)


async def test_events_create_makes_the_queue_at_start_up_and_the_consumer_uses_it(emulator):
    import boto3
    from polysync_batch.bootstrap import build_platform
    from polysync_batch.config import EventsConfig, PlatformConfig
    from polysync_batch.domain.models import PlatformInfo
    from polysync_batch.service.registry import PlatformRegistry

    url = f"{emulator.endpoint_url}/{emulator.account_id}/created-at-start-up"
    session = boto3.Session(
        aws_access_key_id=emulator.access_key_id,
        aws_secret_access_key=emulator.secret_access_key,
        region_name=emulator.region,
    )
    info = PlatformInfo(
        name="made",
        region=emulator.region,
        default_job_queue=emulator.job_queue,
        console_domain=None,
        runnable_warning_seconds=600,
    )
    aws = PlatformConfig(
        region=emulator.region, max_attempts=2, events=EventsConfig(sqs_queue_url=url, create=True, wait_time_seconds=1)
    )
    platform = build_platform(info, session, None, endpoint_url=emulator.endpoint_url, watch=HELD_BACK, aws=aws)
    async with serve(PlatformRegistry({"made": platform}, "made")):
        await until(lambda: platform.events.healthy)
        queues = emulator.client("sqs").list_queues(QueueNamePrefix="created-at-start-up").get("QueueUrls", [])
        assert len(queues) == 1
        rules = emulator.client("events").list_rules(NamePrefix="polysync-batch-created-at-start-up")["Rules"]
        assert len(rules) == 1
