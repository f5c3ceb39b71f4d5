"""Fault tests: the real service (in-process or as `polysync-batch serve`) on the embedded
emulator, with tests/faults/proxy.py between them. Every test asserts on what AWS holds
afterwards (jobs per name), not only on what the service answered."""

from __future__ import annotations

import boto3
import pytest
from polysync_batch.bootstrap import build_platform
from polysync_batch.config import PlatformConfig
from polysync_batch.domain.models import PlatformInfo
from polysync_batch.domain.submit import job_name
from polysync_batch.emulator import Lifecycle, start_emulator
from polysync_batch.service.registry import PlatformRegistry

from tests.faults.proxy import FaultProxy
from tests.support import watch_config

LIFECYCLE = Lifecycle(submitted=0.1, pending=0.1, runnable=0.1, starting=0.1, running=0.5)
WATCH = watch_config(
    poll_interval_seconds=0.1,
    max_poll_interval_seconds=0.3,
    heartbeat_seconds=30,
    describe_jobs_per_second=1000,
    describe_jobs_burst=1000,
    max_backoff_seconds=1.0,
)


@pytest.fixture(scope="module")
def emulator():
    with start_emulator(LIFECYCLE) as running:
        yield running


@pytest.fixture
def proxy(emulator):
    with FaultProxy(emulator.endpoint_url) as running:
        yield running


def platforms_via(emulator, endpoint_url: str, *, watch=WATCH, max_attempts: int = 5, **aws) -> PlatformRegistry:
    """The demo platform, reaching AWS through `endpoint_url` (the proxy)."""
    session = boto3.Session(
        aws_access_key_id=emulator.access_key_id,
        aws_secret_access_key=emulator.secret_access_key,
        region_name=emulator.region,
    )
    info = PlatformInfo(
        name="demo",
        region=emulator.region,
        default_job_queue=emulator.job_queue,
        console_domain=None,
        runnable_warning_seconds=600,
    )
    platform = build_platform(
        info,
        session,
        None,
        endpoint_url=endpoint_url,
        watch=watch,
        aws=PlatformConfig(
            region=emulator.region, max_attempts=max_attempts, connect_timeout_seconds=2, read_timeout_seconds=5, **aws
        ),
    )
    return PlatformRegistry({"demo": platform}, "demo")


def jobs_named(emulator, name: str) -> list[str]:
    """The ids of every job AWS holds under this name, whatever its status."""
    batch = emulator.client("batch")
    found = batch.list_jobs(jobQueue=emulator.job_queue, filters=[{"name": "JOB_NAME", "values": [name]}])
    return [s["jobId"] for s in found["jobSummaryList"] if s["jobName"] == name]


def jobs_for(emulator, request_id: str) -> list[str]:
    return jobs_named(emulator, job_name("demo", request_id))
