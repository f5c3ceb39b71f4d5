"""The platform's event queue over SQS: ReceiveMessage long polls, EventBridge "Batch Job
State Change" envelopes → runs (aws/translate.to_run of `detail`, which is the job as
DescribeJobs returns it), DeleteMessageBatch. Its `sqs` is aws/wire.SqsWire where it can
send as the platform's boto3 SQS client would (~5× less CPU per call), else that client: both
answer and fail alike. Also, for `events.create = true`, the queue, its
policy and the EventBridge rule (docs/events.md shows the same set-up by hand)."""

from __future__ import annotations

import contextlib
import json
import queue
import threading
from concurrent.futures import Executor, Future
from datetime import UTC, datetime
from typing import Any

from polysync_batch.aws import blocked_event
from polysync_batch.aws.calls import AwsCaller
from polysync_batch.aws.translate import RunContext, to_run
from polysync_batch.domain.models import QueuedEvent

DETAIL_TYPE = "Batch Job State Change"
SOURCE = "aws.batch"
MAX_MESSAGES = 10  # ReceiveMessage and DeleteMessageBatch take at most 10
# The EventBridge rule's pattern: every job state change and blocked queue (SPEC §13) of the account
# and region. Narrow it to the platform's queues with "detail": {"jobQueue": [<queue ARNs>]}.
EVENT_PATTERN = {"source": [SOURCE], "detail-type": [DETAIL_TYPE, blocked_event.DETAIL_TYPE]}


class DaemonThreads(Executor):
    """Daemon threads kept for reuse: a long poll blocks a thread for up to 20 s, and neither the
    shared AWS pool nor interpreter exit (which joins pool threads) should wait for it. A call
    takes an idle thread, or starts one when none is idle; a thread idle for `idle_seconds`
    ends. (Starting a thread per call made the event loop wait for each thread to start, ~5 ms
    under load, twice per 10 events: most of the server's time in a 10,000-event wave.)"""

    def __init__(self, name: str = "sqs-events", idle_seconds: float = 60.0) -> None:
        self._name = name
        self._idle_seconds = idle_seconds
        self._work: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0  # threads waiting for work, less the calls already handed to them
        self.started = 0  # threads started so far (for tests)

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        future: Future = Future()
        with self._lock:
            self._work.put((future, fn, args, kwargs))
            spawn = self._idle == 0
            if not spawn:
                self._idle -= 1
            else:
                self.started += 1
        if spawn:
            threading.Thread(target=self._worker, name=self._name, daemon=True).start()
        return future

    def _worker(self) -> None:
        while True:
            try:
                future, fn, args, kwargs = self._work.get(timeout=self._idle_seconds)
            except queue.Empty:
                with self._lock:
                    if self._work.empty():
                        self._idle -= 1
                        return
                    future, fn, args, kwargs = self._work.get_nowait()
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(*args, **kwargs))
                except BaseException as error:
                    future.set_exception(error)
            del future, fn, args, kwargs
            with self._lock:
                self._idle += 1


class SqsEventQueue:
    def __init__(
        self, sqs: Any, call: AwsCaller, queue_url: str, ctx: RunContext, account_id: str, wait_seconds: int = 20
    ) -> None:
        self._sqs = sqs
        self._call = call
        self._queue_url = queue_url
        self._ctx = ctx
        self._account_id = account_id
        self._wait_seconds = wait_seconds
        self._closed = False

    def close(self) -> None:
        """A long poll still in flight hands back what it receives (see _receive)."""
        self._closed = True

    async def receive(self, long_poll: bool = True) -> list[QueuedEvent]:
        answer = await self._call(
            "ReceiveMessage",
            self.receive_now,
            {"queue": self._queue_url},
            wait_seconds=self._wait_seconds if long_poll else 0,
        )
        return self.parse_answer(answer)

    def parse_answer(self, answer: dict[str, Any]) -> list[QueuedEvent]:
        """A ReceiveMessage answer's messages, parsed."""
        return [
            self.parse(message.get("ReceiptHandle", ""), message.get("Body", ""))
            for message in answer.get("Messages") or []
        ]

    def receive_now(self, wait_seconds: int) -> dict[str, Any]:
        """ReceiveMessage, blocking. A long poll cannot be interrupted: when it answers after close()
        (shutdown), its messages are made visible again at once for the next consumer instead of
        after the visibility timeout (best effort; needs sqs:ChangeMessageVisibility)."""
        answer = self._sqs.receive_message(
            QueueUrl=self._queue_url, MaxNumberOfMessages=MAX_MESSAGES, WaitTimeSeconds=wait_seconds
        )
        messages = answer.get("Messages") or []
        if self._closed and messages:
            with contextlib.suppress(Exception):  # best effort: else they reappear after the timeout
                self._sqs.change_message_visibility_batch(
                    QueueUrl=self._queue_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                        for i, m in enumerate(messages)
                    ],
                )
            return {}
        return answer

    async def delete(self, receipts: list[str]) -> None:
        if receipts:
            await self._call("DeleteMessageBatch", self.delete_now, {"queue": self._queue_url}, receipts=receipts)

    def delete_now(self, receipts: list[str]) -> None:
        """DeleteMessageBatch of `receipts` (at most 10), blocking."""
        self._sqs.delete_message_batch(
            QueueUrl=self._queue_url, Entries=[{"Id": str(i), "ReceiptHandle": r} for i, r in enumerate(receipts)]
        )

    def parse(self, receipt: str, body: str) -> QueuedEvent:
        """One message body: an EventBridge envelope (or one wrapped in an SNS notification,
        when the fan-out subscription does not use raw delivery)."""
        try:
            envelope = json.loads(body)
            if isinstance(envelope, dict) and envelope.get("Type") == "Notification" and "Message" in envelope:
                envelope = json.loads(envelope["Message"])
        except (TypeError, ValueError):
            return QueuedEvent(receipt, rejected="malformed", problem="the message body is not JSON")
        if not isinstance(envelope, dict):
            return QueuedEvent(receipt, rejected="malformed", problem="the message body is not a JSON object")
        kind = (envelope.get("source"), envelope.get("detail-type"))
        blocked = kind == (SOURCE, blocked_event.DETAIL_TYPE)  # its detail is the blocking job's state
        if kind != (SOURCE, DETAIL_TYPE) and not blocked:
            return QueuedEvent(
                receipt,
                rejected="foreign",
                problem=f"not a Batch job event (source {kind[0]!r}, detail-type {kind[1]!r})",
            )
        if envelope.get("account") != self._account_id or envelope.get("region") != self._ctx.region:
            return QueuedEvent(
                receipt,
                rejected="foreign",
                problem=f"an event of account {envelope.get('account')!r} region "
                f"{envelope.get('region')!r}, not {self._account_id} {self._ctx.region}",
            )
        try:
            time = _event_time(envelope["time"])
            detail = envelope["detail"]
            run = to_run(detail, self._ctx)
            block = blocked_event.parse_blocked(envelope, time) if blocked else None
        except (KeyError, TypeError, ValueError) as error:
            return QueuedEvent(receipt, rejected="malformed", problem=f"not a job event: {error!r}")
        return QueuedEvent(receipt, run=run, time=time, blocked=block)


def _event_time(text: str) -> datetime:
    """EventBridge's `time`: ISO 8601 UTC, whole seconds ("2026-12-01T09:00:01Z")."""
    time = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return time if time.tzinfo else time.replace(tzinfo=UTC)


def queue_policy(queue_arn: str, rule_arn: str) -> dict[str, Any]:
    """The queue policy that lets EventBridge (only this rule) send to the queue."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "polysync-batch-events",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
            }
        ],
    }


def ensure_event_queue(sqs: Any, events: Any, queue_name: str, rule_name: str) -> str:
    """Creates (idempotently) the queue, the rule delivering Batch job events into it and the
    queue policy for that rule; returns the queue URL. Blocking: run it off the event loop."""
    queue_url = sqs.create_queue(QueueName=queue_name, Attributes={"MessageRetentionPeriod": "86400"})["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rule_arn = events.put_rule(
        Name=rule_name,
        EventPattern=json.dumps(EVENT_PATTERN),
        State="ENABLED",
        Description="AWS Batch job state changes for polysync-batch",
    )["RuleArn"]
    events.put_targets(Rule=rule_name, Targets=[{"Id": "polysync-batch-queue", "Arn": queue_arn}])
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(queue_policy(queue_arn, rule_arn))})
    return queue_url
