"""Hostile and careless callers (SPEC §8.5): a real server on 127.0.0.1:0 with caller tokens,
two platforms on one emulator account (`prod` on the demo queue, `team` on a second queue), and
AWS reached through tests/faults/proxy.py, which counts every call. Each test asserts on what
the world holds afterwards: jobs at the emulator per name, AWS calls made, log bytes."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import boto3
import grpc
import pytest
from polysync.platform.v1 import platform_service_pb2_grpc
from polysync_batch.api.server import build_server
from polysync_batch.bootstrap import build_platform
from polysync_batch.config import AccessConfig, CallerAuthConfig, CallerTokenConfig, PlatformConfig, ServerConfig
from polysync_batch.domain.models import PlatformInfo
from polysync_batch.emulator import Lifecycle, start_emulator
from polysync_batch.service.registry import PlatformRegistry

from tests.faults.proxy import FaultProxy
from tests.support import watch_config

LIFECYCLE = Lifecycle(submitted=0.05, pending=0.05, runnable=0.05, starting=0.05, running=2.0)
WATCH = watch_config(
    poll_interval_seconds=0.05,
    max_poll_interval_seconds=0.2,
    heartbeat_seconds=30,
    describe_jobs_per_second=1000,
    describe_jobs_burst=1000,
    max_backoff_seconds=1.0,
)
TEAM_QUEUE = "polysync-team"
TOKENS = {"alice": "alice-token-6c0e2b7d", "bob": "bob-token-91f3aa40"}


def as_caller(caller: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {TOKENS[caller]}"),)


@pytest.fixture(scope="module")
def emulator():
    with start_emulator(LIFECYCLE, events=False) as running:
        batch = running.client("batch")
        prod = batch.describe_job_queues(jobQueues=[running.job_queue])["jobQueues"][0]
        batch.create_job_queue(
            jobQueueName=TEAM_QUEUE,
            state="ENABLED",
            priority=1,
            computeEnvironmentOrder=prod["computeEnvironmentOrder"],
        )
        yield running


@pytest.fixture
def proxy(emulator):
    with FaultProxy(emulator.endpoint_url) as running:
        yield running


def platform_config(region: str, queue: str, **settings: object) -> PlatformConfig:
    """A platform confined to its own queue (SPEC §8.5 `job_queues`)."""
    if "job_queues" in PlatformConfig.model_fields:
        settings.setdefault("job_queues", [queue])
    return PlatformConfig(
        region=region,
        default_job_queue=queue,
        max_attempts=3,
        connect_timeout_seconds=2,
        read_timeout_seconds=5,
        **settings,
    )


def two_platforms(emulator, endpoint_url: str, **settings: object) -> PlatformRegistry:
    """`prod` (the demo queue) and `team` (a second queue) on one AWS account, through `endpoint_url`."""
    session = boto3.Session(
        aws_access_key_id=emulator.access_key_id,
        aws_secret_access_key=emulator.secret_access_key,
        region_name=emulator.region,
    )
    platforms = {}
    for name, queue in (("prod", emulator.job_queue), ("team", TEAM_QUEUE)):
        info = PlatformInfo(
            name=name,
            region=emulator.region,
            default_job_queue=queue,
            console_domain=None,
            runnable_warning_seconds=600,
        )
        aws = platform_config(emulator.region, queue, **settings)
        platforms[name] = build_platform(info, session, None, endpoint_url=endpoint_url, watch=WATCH, aws=aws)
    return PlatformRegistry(platforms, "prod")


@dataclass
class Served:
    stub: platform_service_pb2_grpc.PlatformServiceStub
    channel: grpc.aio.Channel
    platforms: PlatformRegistry


# alice may submit on both platforms; bob only on `team`.
ACCESS = {
    "prod": AccessConfig(read=["alice"], submit=["alice"]),
    "team": AccessConfig(read=["alice", "bob"], submit=["alice", "bob"]),
}


@contextlib.asynccontextmanager
async def serve_callers(platforms: PlatformRegistry, **settings: object) -> AsyncIterator[Served]:
    """The server with static caller tokens (alice, bob) and ACCESS, plaintext on 127.0.0.1:0."""
    auth = CallerAuthConfig(
        tokens=[CallerTokenConfig(caller=c, sha256=hashlib.sha256(t.encode()).hexdigest()) for c, t in TOKENS.items()]
    )
    server = ServerConfig(address="127.0.0.1:0", health_check_interval_seconds=0, **settings)
    running = await build_server(platforms, server, auth=auth, access=ACCESS)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{running.port}")
    try:
        yield Served(platform_service_pb2_grpc.PlatformServiceStub(channel), channel, platforms)
    finally:
        await channel.close()
        await running.stop(None)


def jobs_at(emulator, queue: str) -> dict[str, list[str]]:
    """Every job AWS holds on the queue, by name (any status)."""
    batch = emulator.client("batch")
    found: dict[str, list[str]] = {}
    for status in ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED"):
        for summary in batch.list_jobs(jobQueue=queue, jobStatus=status)["jobSummaryList"]:
            found.setdefault(summary["jobName"], []).append(summary["jobId"])
    return found
