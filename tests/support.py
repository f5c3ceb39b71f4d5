"""Helpers shared by the tests: a real grpc.aio server on 127.0.0.1:0 and rich-status reading."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status
from polysync.platform.v1 import platform_service_pb2_grpc
from polysync_batch.api.server import RunningServer, build_server
from polysync_batch.bootstrap import build_platform
from polysync_batch.config import MetricsConfig, PlatformConfig, ServerConfig, WatchConfig
from polysync_batch.domain.models import PlatformInfo
from polysync_batch.observability.tracing import Tracing
from polysync_batch.service.registry import PlatformRegistry, PlatformServices


@dataclass
class Served:
    running: RunningServer
    channel: grpc.aio.Channel
    stub: platform_service_pb2_grpc.PlatformServiceStub
    target: str
    platforms: PlatformRegistry


def watch_config(**settings: object) -> WatchConfig:
    """Watch settings for tests, past the bounds an operator's file is held to (e.g. a
    DescribeJobs budget of 1000 per second)."""
    return WatchConfig.model_construct(**settings)


def held_back_watch(**overrides: object) -> WatchConfig:
    """The watch core's own polling held back (every 30 s), so only events (and the feed's rounds)
    move runs within a test; everything else as fast as a test wants it."""
    settings: dict[str, object] = {
        "poll_interval_seconds": 30,
        "max_poll_interval_seconds": 30,
        "heartbeat_seconds": 30,
        "not_found_after_polls": 3,
        "describe_jobs_per_second": 1000,
        "describe_jobs_burst": 1000,
        "batch_gap_seconds": 0.02,
        "max_backoff_seconds": 2,
        "max_cached_runs": 10_000,
        "interval_growth": 1.5,
        "runnable_warning_seconds": 600,
    }
    return watch_config(**(settings | overrides))


@contextlib.asynccontextmanager
async def serve(
    platforms: PlatformRegistry,
    health_check_interval: float = 0.0,
    metrics: MetricsConfig | None = None,
    tracing: Tracing | None = None,
    **settings: object,
) -> AsyncIterator[Served]:
    settings = ServerConfig(address="127.0.0.1:0", health_check_interval_seconds=health_check_interval, **settings)
    running = await build_server(platforms, settings, metrics, tracing)
    target = f"127.0.0.1:{running.port}"
    channel = grpc.aio.insecure_channel(target)
    try:
        yield Served(running, channel, platform_service_pb2_grpc.PlatformServiceStub(channel), target, platforms)
    finally:
        await channel.close()
        await running.stop(None)


# Watches in tests poll every 50 ms.
FAST_WATCH = watch_config(
    poll_interval_seconds=0.05,
    max_poll_interval_seconds=0.2,
    heartbeat_seconds=30,
    describe_jobs_per_second=1000,
    describe_jobs_burst=1000,
)


def fake_aws_runtime(
    name: str = "prod",
    region: str = "eu-west-1",
    queue: str = "q1",
    endpoint_url: str | None = None,
    session: boto3.Session | None = None,
    max_attempts: int = 1,
) -> PlatformServices:
    """A platform with real boto3 clients and (unless a session is given) fake credentials, for
    botocore's Stubber or a fake endpoint; runs boto3 in the loop's default executor."""
    session = session or boto3.Session(aws_access_key_id="AKIDTEST", aws_secret_access_key="secret", region_name=region)
    info = PlatformInfo(
        name=name, region=region, default_job_queue=queue, console_domain=None, runnable_warning_seconds=600.0
    )
    aws = PlatformConfig(region=region, max_attempts=max_attempts, connect_timeout_seconds=1, read_timeout_seconds=2)
    return build_platform(info, session, None, endpoint_url=endpoint_url, watch=FAST_WATCH, aws=aws)


def error_details(error: grpc.aio.AioRpcError) -> dict:
    """The google.rpc details of a failed call, by type name (ErrorInfo, BadRequest, Help, RetryInfo)."""
    status = rpc_status.from_call(error)
    assert status is not None, f"no rich status on {error.code()}: {error.details()}"
    return unpack_details(status)


def unpack_details(status: status_pb2.Status) -> dict:
    found = {}
    for detail in status.details:
        for kind in (
            error_details_pb2.ErrorInfo,
            error_details_pb2.BadRequest,
            error_details_pb2.Help,
            error_details_pb2.RetryInfo,
        ):
            if detail.Is(kind.DESCRIPTOR):
                message = kind()
                detail.Unpack(message)
                found[kind.__name__] = message
    return found


def reason_of(error: grpc.aio.AioRpcError) -> str:
    return error_details(error)["ErrorInfo"].reason


EXECUTABLE = str(Path(sys.executable).with_name("polysync-batch"))


def start_serve(*args, env=None, stderr_only=False):
    """`polysync-batch serve ARGS` as a user starts it; read its port with wait_for_port. Its
    output is stdout and stderr together, or (stderr_only) just stderr, where the log goes."""
    return subprocess.Popen(
        [EXECUTABLE, "serve", *args],
        stdout=subprocess.DEVNULL if stderr_only else subprocess.PIPE,
        stderr=subprocess.PIPE if stderr_only else subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )


@contextlib.contextmanager
def serving_demo() -> Iterator[str]:
    """`polysync-batch serve` on the embedded emulator with no config, as a user first starts
    it; yields its target and stops it (SIGTERM) afterwards."""
    process = start_serve("--address", "127.0.0.1:0", env={"POLYSYNC_BATCH_CONFIG": ""})
    try:
        yield f"127.0.0.1:{wait_for_port(process)}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()  # a server left running would slow every later test
            process.wait(5)
            raise


def wait_for_port(process, timeout=60.0):
    """The port the server reports; from then on its output is collected in `process.lines`
    (read continuously, so a full pipe never blocks the server)."""
    deadline = time.monotonic() + timeout
    process.lines = []
    output = process.stdout or process.stderr
    while time.monotonic() < deadline:
        line = output.readline()
        if not line:
            break
        process.lines.append(line)
        if match := re.search(r"serving on 127\.0\.0\.1:(\d+)", line):
            process.reader = threading.Thread(target=lambda: process.lines.extend(output), daemon=True)
            process.reader.start()
            return int(match.group(1))
    process.kill()
    raise AssertionError("server did not start:\n" + "".join(process.lines))


class CallCounter:
    """Counts the calls of one operation a boto3 client makes (what AWS is asked, for tests'
    cost assertions), and those its `wire` (aws/wire.py, the same calls without botocore's
    events) makes."""

    def __init__(self, client, operation: str, wire=None) -> None:
        self.calls = 0
        service = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register(f"before-call.{service}.{operation}", self._count)
        on_wire_call(wire, lambda sent, params: self._count() if sent == operation else None)

    def _count(self, **_: object) -> None:
        self.calls += 1


def aws_attempts(clients, operation: str) -> dict[str, float]:
    """The attempts of `operation` the platform's AWS call metrics counted, by outcome (ok, the
    AWS error code, network, timeout): boto3's and aws/wire.py's alike."""
    samples = clients.metrics.calls.collect()[0].samples
    return {
        s.labels["outcome"]: s.value
        for s in samples
        if s.name.endswith("_total") and s.labels["operation"] == operation
    }


def on_wire_call(wire, hook) -> Callable[[], None]:
    """`hook(operation, params)` before each call `wire` (aws/wire.py) sends, as botocore's
    `before-call` event is for a boto3 client: a hook's answer other than None is the call's
    answer (nothing is sent). Answers the undo. A `wire` of None (no wire) hooks nothing."""
    if wire is None:
        return lambda: None
    sent = wire.call

    def call(operation, params):
        answer = hook(operation, params)
        return sent(operation, params) if answer is None else answer

    wire.call = call

    def undo() -> None:
        if wire.__dict__.get("call") is call:
            wire.call = sent

    return undo


async def until(predicate, seconds: float = 10.0) -> None:
    """Waits until `predicate()` is true, checking every 20 ms; fails after `seconds`."""
    end = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < end, "condition not reached in time"
        await asyncio.sleep(0.02)


def queue_depth(emulator) -> int:
    """The messages on the emulator's event queue, visible or not (in flight)."""
    attributes = emulator.client("sqs").get_queue_attributes(
        QueueUrl=emulator.events_queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])
