"""aws/event_process.py with its aws/event_ingest.py processes against a fake SQS endpoint on
127.0.0.1: what the endpoint receives (each ReceiveMessage asked, deletes of what the server
handled, signed with the credentials the server holds now), what the server gets (parsed
events, errors, the processes' attempts for its metrics)."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from botocore.credentials import Credentials
from polysync_batch.aws import event_process
from polysync_batch.aws.event_process import ProcessEventQueue

from tests.fake_aws import FakeAws

QUEUE = "https://sqs.eu-west-1.amazonaws.com/111122223333/events"
JSON = {"Content-Type": "application/x-amz-json-1.0"}
JOB = {
    "jobId": "job-1",
    "jobName": "n",
    "status": "RUNNING",
    "jobQueue": "arn:aws:batch:eu-west-1:111122223333:job-queue/q",
    "jobDefinition": "arn:aws:batch:eu-west-1:111122223333:job-definition/hello:3",
    "createdAt": 1_700_000_000_000,
}
ENVELOPE = {
    "detail-type": "Batch Job State Change",
    "source": "aws.batch",
    "account": "111122223333",
    "region": "eu-west-1",
    "time": "2026-12-03T00:00:00Z",
    "detail": JOB,
}


def sqs(request) -> tuple[int, dict[str, str], str]:
    operation = header(request, "x-amz-target").rsplit(".", 1)[1]
    if operation == "ReceiveMessage":
        message = {"ReceiptHandle": f"receipt-{len(request.body)}", "Body": json.dumps(ENVELOPE)}
        return 200, JSON, json.dumps({"Messages": [message]})
    return 200, JSON, json.dumps({"Successful": [{"Id": "0"}], "Failed": []})


class Rotating:
    """botocore's refreshable credentials, as the server holds them: a new key after `rotate()`."""

    def __init__(self) -> None:
        self.key = "AKIDFIRST"

    def get_frozen_credentials(self):
        return Credentials(self.key, "secret", "token").get_frozen_credentials()


def start(endpoint_url: str) -> dict:
    return {
        "endpoint_url": endpoint_url,
        "region": "eu-west-1",
        "verify": True,
        "max_attempts": 2,
        "connect_timeout": 2,
        "read_timeout": 5,
        "queue_url": QUEUE,
        "account_id": "111122223333",
        "wait_seconds": 1,
        "receivers": 2,
        "ctx": {"platform": "prod", "region": "eu-west-1", "console_domain": None, "runnable_warning_seconds": 600},
    }


def header(request, name: str) -> str:
    return {k.lower(): v for k, v in request.headers.items()}[name]


def key_of(request) -> str:
    return header(request, "authorization").split("Credential=", 1)[1].split("/", 1)[0]


async def until(predicate, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached in time")


async def test_events_come_parsed_deletes_are_sent_and_new_credentials_sign_the_next_calls(monkeypatch):
    monkeypatch.setattr(event_process, "CREDENTIALS_CHECK_SECONDS", 0.0)
    attempts: list[tuple] = []
    credentials = Rotating()
    with FakeAws(sqs) as aws:
        queue = ProcessEventQueue(
            start(aws.endpoint_url), credentials, lambda *a, **k: attempts.append((a, k)), processes=1
        )
        try:
            [event] = await asyncio.wait_for(queue.receive(long_poll=False), 30)
            assert event.rejected == "" and event.run is not None, event
            assert (event.run.run_id, event.run.native_status, event.run.pipeline) == ("job-1", "RUNNING", "hello")
            await queue.delete([event.receipt])
            await until(lambda: any("DeleteMessageBatch" in header(r, "x-amz-target") for r in aws.requests))
            credentials.key = "AKIDSECOND"
            await asyncio.wait_for(queue.receive(), 30)
        finally:
            queue.close()
        receives = [r for r in aws.requests if header(r, "x-amz-target").endswith("ReceiveMessage")]
        deletes = [r for r in aws.requests if header(r, "x-amz-target").endswith("DeleteMessageBatch")]
    # One ReceiveMessage per receive asked: nothing taken from the queue unasked.
    assert len(receives) == 2, [r.body for r in receives]
    assert json.loads(receives[0].body)["WaitTimeSeconds"] == 0 and json.loads(receives[1].body)["WaitTimeSeconds"] == 1
    assert json.loads(deletes[0].body)["Entries"] == [{"Id": "0", "ReceiptHandle": event.receipt}]
    assert [key_of(r) for r in receives] == ["AKIDFIRST", "AKIDSECOND"]
    assert header(receives[1], "x-amz-security-token") == "token"
    # The process's attempts reach the server's metrics: operation, seconds, outcome.
    assert [a[0] for a, _ in attempts][:2] == ["ReceiveMessage", "DeleteMessageBatch"]
    assert all(k["code"] is None and k["status"] == 200 for _, k in attempts)


async def test_an_error_answer_fails_the_receive_with_its_code_and_is_counted():
    def denied(request):
        body = {"__type": "com.amazonaws.sqs#AccessDenied", "message": "not allowed"}
        return 403, {**JSON, "x-amzn-query-error": "AccessDenied;Sender"}, json.dumps(body)

    attempts: list[tuple] = []
    with FakeAws(denied) as aws:
        queue = ProcessEventQueue(start(aws.endpoint_url), Rotating(), lambda *a, **k: attempts.append((a, k)))
        try:
            with pytest.raises(RuntimeError, match="AccessDenied"):
                await asyncio.wait_for(queue.receive(long_poll=False), 30)
        finally:
            queue.close()
    assert [(a[0], k["status"], k["code"]) for a, k in attempts] == [("ReceiveMessage", 403, "AccessDenied")]


async def test_what_a_process_writes_to_stderr_reaches_the_servers_log(caplog):
    def deletes_denied(request):
        if header(request, "x-amz-target").endswith("DeleteMessageBatch"):
            body = {"__type": "com.amazonaws.sqs#AccessDenied", "message": "no deletes for you"}
            return 403, {**JSON, "x-amzn-query-error": "AccessDenied;Sender"}, json.dumps(body)
        return sqs(request)

    caplog.set_level(logging.WARNING, logger=event_process.__name__)
    with FakeAws(deletes_denied) as aws:
        queue = ProcessEventQueue(start(aws.endpoint_url), Rotating(), processes=1)
        try:
            [event] = await asyncio.wait_for(queue.receive(long_poll=False), 30)
            [pid] = queue.pids
            await queue.delete([event.receipt])
            await until(lambda: any("no deletes for you" in r.getMessage() for r in caplog.records))
        finally:
            queue.close()
    [record] = [r for r in caplog.records if "no deletes for you" in r.getMessage()]
    assert record.levelno == logging.WARNING
    assert record.fields == {"event": "ingest_process_output", "pid": pid}
    assert f"event ingest process {pid}: event ingest: deleting 1 messages failed" in record.getMessage()
