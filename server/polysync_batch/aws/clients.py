"""One set of boto3 clients per platform, created at start-up and shared by every request
(boto3 clients are thread-safe; sessions are not)."""

from __future__ import annotations

import functools
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError

from polysync_batch.aws.errors import THROTTLED
from polysync_batch.aws.wire import BatchWire, SqsWire
from polysync_batch.domain import deadline
from polysync_batch.observability.metrics import AwsCallMetrics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AwsClients:
    batch: Any
    batch_submit: Any  # SubmitJob only: never retried by botocore (AWS would make a second job)
    sts: Any
    iam: Any
    logs: Any
    dynamodb: Any = None  # only with an idempotency table
    sqs: Any = None  # only for a platform with an event queue (events.sqs_queue_url)
    # The event queue's receive path over the same endpoint and credentials without botocore's
    # per-call pipeline (aws/wire.py); None where it cannot send as `sqs` would (a proxy).
    sqs_wire: Any = None
    # `batch`'s DescribeJobs and ListJobs over the same endpoint and credentials without botocore's
    # per-call pipeline (aws/wire.py); None where it cannot send as `batch` would (a proxy, a
    # client certificate, the adaptive retry mode).
    batch_wire: Any = None
    events: Any = None  # EventBridge, only for events.create
    metrics: AwsCallMetrics | None = None  # every attempt any of these clients sent


def make_clients(
    session: boto3.Session,
    *,
    region: str,
    endpoint_url: str | None,
    retry_mode: str = "standard",
    max_attempts: int = 5,
    connect_timeout: float = 5,
    read_timeout: float = 30,
    max_pool_connections: int = 32,
    dynamodb: bool = False,
    event_queue: bool = False,
    create_event_rule: bool = False,
    metrics: AwsCallMetrics | None = None,
) -> AwsClients:
    # botocore's own retry modes back off with jitter on throttling and 5xx; what still fails
    # after them reaches the caller as AWS_THROTTLED / AWS_UNAVAILABLE.
    config = BotoConfig(
        region_name=region,
        # total_max_attempts counts the first attempt (botocore's max_attempts counts retries).
        retries={"mode": retry_mode, "total_max_attempts": max_attempts},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_pool_connections=max_pool_connections,
        user_agent_appid="polysync-batch",
    )

    def client(service: str, client_config: BotoConfig = config) -> Any:
        made = session.client(service, region_name=region, endpoint_url=endpoint_url, config=client_config)
        bound_by_deadline(made)
        if metrics is not None:
            count_attempts(made, metrics)
        return made

    # SubmitJob is not idempotent at AWS: a retry after a lost answer makes a second job. The
    # use case retries it itself, after looking the job up by its name (service/runs.py).
    once = config.merge(BotoConfig(retries={"mode": retry_mode, "total_max_attempts": 1}))
    # A ReceiveMessage long poll answers after up to 20 s: its read timeout must be longer.
    sqs_config = config.merge(BotoConfig(read_timeout=max(read_timeout, SQS_LONG_POLL_READ_TIMEOUT)))
    sqs = client("sqs", sqs_config) if event_queue else None
    record = functools.partial(record_attempt, metrics) if metrics is not None else None
    credentials = session.get_credentials()
    sqs_wire = None
    if sqs is not None:
        sqs_wire = SqsWire.of(sqs, credentials, max_attempts=max_attempts, record_attempt=record)
    batch = client("batch")
    return AwsClients(
        batch=batch,
        batch_submit=client("batch", once),
        sts=client("sts"),
        iam=client("iam"),
        logs=client("logs"),
        dynamodb=client("dynamodb") if dynamodb else None,
        sqs=sqs,
        sqs_wire=sqs_wire,
        # The wire retries as the standard mode does: with `adaptive` (a client-side rate limiter) boto3 reads.
        batch_wire=BatchWire.of(batch, credentials, max_attempts=max_attempts, record_attempt=record)
        if retry_mode == "standard"
        else None,
        events=client("events") if create_event_rule else None,
        metrics=metrics,
    )


def bound_by_deadline(client: Any) -> None:
    """Every attempt the client sends (botocore's retries included) waits for its answer at most
    the client's read timeout and never past the caller's deadline (domain/deadline.py, which the
    call's context carries into the executor thread); an attempt due after the deadline is not
    sent. botocore takes a per-request read timeout from the request's context. The connect
    timeout stays the client's own: botocore has no per-request override for it."""
    configured = client.meta.config.read_timeout

    def before_send(request: Any, event_name: str, **kwargs: Any) -> None:
        left = deadline.remaining()
        if left is None:  # no caller deadline: background polls, or a caller that set none
            return
        deadline.check(event_name.rsplit(".", 1)[-1])
        request.context["read_timeout"] = min(configured, left)

    client.meta.events.register("before-send", before_send)


_attempt = threading.local()  # botocore sends each attempt, then hears its answer, in one thread


def count_attempts(client: Any, metrics: AwsCallMetrics) -> None:
    """Records every attempt the client sends, retries included, where botocore sends it:
    `before-send` starts the clock, `response-received` (once per attempt, answer or not)
    records the outcome: ok, the AWS error code, or network / timeout when no answer came."""

    def before_send(**kwargs: Any) -> None:
        _attempt.started = time.perf_counter()

    def response_received(
        event_name: str,
        parsed_response: Any = None,
        exception: Exception | None = None,
        response_dict: Any = None,
        **kwargs: Any,
    ) -> None:
        started = getattr(_attempt, "started", None)
        _attempt.started = None
        if started is None:  # answered without sending (e.g. botocore's Stubber)
            return
        operation, seconds = event_name.rsplit(".", 1)[-1], time.perf_counter() - started
        if exception is not None:
            record_attempt(metrics, operation, seconds, exception=exception)
        else:
            status = (response_dict or {}).get("status_code", 200)
            code = ((parsed_response or {}).get("Error") or {}).get("Code")
            record_attempt(metrics, operation, seconds, status=status, code=code)

    client.meta.events.register("before-send", before_send)
    client.meta.events.register("response-received", response_received)


def no_answer_outcome(exception: Exception) -> str:
    """An attempt that got no answer: `timeout`, or `network` for any other failure."""
    return "timeout" if isinstance(exception, (ConnectTimeoutError, ReadTimeoutError)) else "network"


def record_attempt(
    metrics: AwsCallMetrics,
    operation: str,
    seconds: float,
    *,
    status: int = 200,
    code: str | None = None,
    exception: Exception | None = None,
) -> None:
    """One attempt's outcome: ok, the AWS error code, HTTP<status> for an error answer without
    one, or network / timeout when no answer came; a throttled attempt is logged too."""
    if exception is not None:
        outcome = no_answer_outcome(exception)
    else:
        outcome = str(code) if code else ("ok" if status < 300 else f"HTTP{status}")
        if code in THROTTLED or status == 429:
            log.warning(
                "AWS throttled %s on platform %s",
                operation,
                metrics.platform,
                extra={
                    "fields": {
                        "event": "aws_throttled",
                        "platform": metrics.platform,
                        "operation": operation,
                        "aws_error_code": outcome,
                    }
                },
            )
    metrics.record(operation, outcome, seconds)


SQS_LONG_POLL_READ_TIMEOUT = 30.0
