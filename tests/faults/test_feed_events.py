"""The feed with events on (SPEC §11, §12): runs nobody submitted through the service arrive by
their events alone; duplicated and reordered events change nothing; lost events are found by
the feed's reconcile rounds. What the feed saw is compared with the jobs at the emulator."""

import asyncio
import json
import time

import boto3
import pytest
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync_batch.bootstrap import build_platform
from polysync_batch.config import EventsConfig, PlatformConfig, WatchConfig
from polysync_batch.domain.models import PlatformInfo
from polysync_batch.emulator import Lifecycle, start_emulator
from polysync_batch.service.registry import PlatformRegistry

from tests.support import held_back_watch, serve, until

LIFECYCLE = Lifecycle(submitted=0.2, pending=0.3, runnable=0.3, starting=0.3, running=0.6)
# The watch core's own polling held back: only events (and the feed's rounds) move the feed.
HELD_BACK = held_back_watch(submit_grace_seconds=30)
TERMINAL = {"SUCCEEDED", "FAILED"}


@pytest.fixture(scope="module")
def emulator():
    with start_emulator(LIFECYCLE) as running:
        yield running


def event_platforms(emulator, reconcile_seconds: float, watch: WatchConfig = HELD_BACK) -> PlatformRegistry:
    session = boto3.Session(
        aws_access_key_id=emulator.access_key_id,
        aws_secret_access_key=emulator.secret_access_key,
        region_name=emulator.region,
    )
    info = PlatformInfo("demo", emulator.region, emulator.job_queue, None, 600.0)
    events = EventsConfig(sqs_queue_url=emulator.events_queue_url, reconcile_interval_seconds=reconcile_seconds)
    aws = PlatformConfig(region=emulator.region, max_attempts=3, events=events)
    platform = build_platform(info, session, None, endpoint_url=emulator.endpoint_url, watch=watch, aws=aws)
    return PlatformRegistry({"demo": platform}, "demo")


def submit_outside(emulator, count, prefix, **extra):
    batch = emulator.client("batch")
    return [
        batch.submit_job(jobName=f"{prefix}-{i}", jobQueue=emulator.job_queue, jobDefinition="hello", **extra)["jobId"]
        for i in range(count)
    ]


def reader(stream, into):
    async def read():
        async for message in stream:
            into.append(message)

    return asyncio.ensure_future(read())


def last_states(messages):
    last = {}
    for message in messages:
        for change in message.changes:
            last[change.run.run_id] = change.run.native_status
    return last


def versions_increase(messages):
    versions = {}
    for message in messages:
        for change in message.changes:
            assert change.version > versions.get(change.run.run_id, 0), change.run.run_id
            versions[change.run.run_id] = change.version


async def test_runs_submitted_outside_arrive_by_events_alone_and_duplicates_change_nothing(emulator):
    # Reconcile rounds every 60 s: after the first round (at start-up) only events move the feed.
    async with serve(event_platforms(emulator, 60)) as served:
        consumer = served.platforms.get("demo").events
        await until(lambda: consumer.healthy)
        messages = []
        task = reader(served.stub.WatchRunChanges(pb.WatchRunChangesRequest()), messages)
        await until(lambda: messages)
        run_ids = submit_outside(emulator, 5, "by-events")
        await until(lambda: all(last_states(messages).get(r) in TERMINAL for r in run_ids))
        # Duplicated and reordered events of a finished run: nothing reaches the feed.
        job = emulator.client("batch").describe_jobs(jobs=[run_ids[0]])["jobs"][0]
        seen_before = sum(len(m.changes) for m in messages)
        counts = dict(consumer.counts)
        sqs = emulator.client("sqs")
        for detail, at in ((job, time.time()), (job, time.time()), ({**job, "status": "RUNNING"}, time.time() - 5)):
            sqs.send_message(QueueUrl=emulator.events_queue_url, MessageBody=envelope(emulator, detail, at))
        await until(lambda: sum(consumer.counts.values()) - sum(counts.values()) >= 3)
        await asyncio.sleep(0.3)
        task.cancel()
    truth = {j["jobId"]: j["status"] for j in emulator.client("batch").describe_jobs(jobs=run_ids)["jobs"]}
    assert {r: last_states(messages)[r] for r in run_ids} == truth
    assert sum(len(m.changes) for m in messages) == seen_before
    versions_increase(messages)


async def test_lost_events_are_found_by_the_feeds_reconcile_rounds(emulator):
    async with serve(event_platforms(emulator, 1.0)) as served:
        consumer = served.platforms.get("demo").events
        await until(lambda: consumer.healthy)
        messages = []
        task = reader(served.stub.WatchRunChanges(pb.WatchRunChangesRequest()), messages)
        await until(lambda: messages)
        # Every event from now on is lost: nothing reads the queue any more.
        consumer.close()
        run_ids = submit_outside(emulator, 4, "lost-events")
        await until(lambda: all(last_states(messages).get(r) in TERMINAL for r in run_ids), 10)
        task.cancel()
    truth = {j["jobId"]: j["status"] for j in emulator.client("batch").describe_jobs(jobs=run_ids)["jobs"]}
    assert {r: last_states(messages)[r] for r in run_ids} == truth
    versions_increase(messages)


def envelope(emulator, detail: dict, at: float) -> str:
    return json.dumps(
        {
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
    )
