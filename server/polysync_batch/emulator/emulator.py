"""Starting and stopping one embedded AWS Batch emulator."""

import itertools
import os
import threading
from types import TracebackType
from typing import Any

import boto3
from botocore.client import BaseClient
from botocore.config import Config

from .backend import install_backend
from .events import EventPublisher, install_event_envelope, seed_event_queue
from .iam import install_iam
from .job_clock import JobClock, SystemJobClock
from .lifecycle import Lifecycle
from .responses import install_responses
from .seed import (
    JOB_QUEUE,
    SMALL_JOB_QUEUE,
    Credentials,
    create_credentials,
    seed_demo_platform,
    seed_history_table,
    seed_small_queue,
)
from .server import MotoServer

REGION = "us-east-1"
# moto keeps every account's data in process-global state; giving each emulator its own
# account is what keeps two emulators in one process from seeing each other's jobs.
_ACCOUNT_IDS = itertools.count(100_000_000_001)
_ACCOUNT_IDS_LOCK = threading.Lock()


class Emulator:
    """A running emulator: moto on 127.0.0.1 serving Batch, STS, IAM and CloudWatch Logs, and
    SQS/EventBridge with a queue that receives its jobs' state change events."""

    region = REGION
    job_queue = JOB_QUEUE
    small_job_queue = SMALL_JOB_QUEUE  # exists once seed_small_queue() ran

    def __init__(self, server: MotoServer, account_id: str, credentials: Credentials) -> None:
        self._server = server
        self.events_queue_url: str | None = None  # set when it publishes job events
        self.history_table: str | None = None  # the demo platform's feed history (DynamoDB)
        self.publisher: EventPublisher | None = None
        self.endpoint_url = server.endpoint_url
        self.account_id = account_id
        self.access_key_id = credentials.access_key_id
        self.secret_access_key = credentials.secret_access_key

    def client(self, service_name: str, **config: Any) -> BaseClient:
        """A boto3 client for this emulator, signed with its credentials."""
        return _client(service_name, self.endpoint_url, self.access_key_id, self.secret_access_key, **config)

    def seed_small_queue(self) -> str:
        """Adds the demo's second queue (a Fargate compute environment of at most 4 vCPUs), where a
        job asking for more can never be placed; returns its name. Idempotent."""
        seed_small_queue(self.client)
        return self.small_job_queue

    def stop(self) -> None:
        """Release the port and the server thread. moto's in-memory data for the account stays."""
        if self.publisher is not None:
            self.publisher.stop()
        self._server.stop()

    def __enter__(self) -> "Emulator":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def start_emulator(
    lifecycle: Lifecycle = Lifecycle(),  # noqa: B008 — a frozen value, never mutated
    *,
    port: int = 0,
    clock: JobClock | None = None,
    events: bool = True,
) -> Emulator:
    """Start an emulator seeded with the demo platform; port 0 picks a free port. With
    `events`, its jobs' state changes go to `emulator.events_queue_url` as AWS Batch events.

    Each emulator has its own account, so its lifecycle settings and jobs are its own.
    """
    if "MOTO_ACCOUNT_ID" in os.environ:
        raise RuntimeError("MOTO_ACCOUNT_ID is set: moto would put every emulator in that one account; unset it")
    install_responses()
    install_event_envelope()
    with _ACCOUNT_IDS_LOCK:
        account_id = str(next(_ACCOUNT_IDS))
    clock = clock or SystemJobClock()
    backend = install_backend(account_id, REGION, lifecycle, clock)
    install_iam(account_id)
    server = MotoServer(port)
    try:
        bootstrap_iam = _client("iam", server.endpoint_url, "bootstrap", "bootstrap")
        emulator = Emulator(server, account_id, create_credentials(bootstrap_iam, account_id))
        seed_demo_platform(emulator.client)
        emulator.history_table = seed_history_table(emulator.client("dynamodb"))
        if events:
            emulator.events_queue_url = seed_event_queue(emulator.client("sqs"), emulator.client("events"))
            emulator.publisher = backend.publisher = EventPublisher(emulator.client("events"), clock)
            emulator.publisher.start()
    except BaseException:
        server.stop()
        raise
    return emulator


def _client(service_name: str, endpoint_url: str, access_key_id: str, secret: str, **config: Any) -> BaseClient:
    return boto3.client(
        service_name,
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret,
        # The endpoint is loopback: never route it through an HTTP(S)_PROXY from the environment.
        config=Config(proxies={}, **config),
    )
