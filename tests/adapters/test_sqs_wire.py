"""aws/sqs_wire.py, the event queue's SQS calls without botocore's per-call pipeline: it signs as
botocore does (byte for byte), works against the embedded emulator (moto, AWS JSON 1.0), and
fails the way the boto3 client fails — same exception class, same parsed error, same number of
attempts — so aws/errors.py maps both to the same reason."""

from __future__ import annotations

import datetime
import json
import socket
import struct
import threading
import time

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config as BotoConfig
from botocore.credentials import Credentials
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError
from polysync_batch.aws import errors as aws_errors
from polysync_batch.aws.clients import make_clients
from polysync_batch.aws.event_queue import SqsEventQueue
from polysync_batch.aws.translate import RunContext
from polysync_batch.aws.wire import SqsWire
from polysync_batch.emulator import start_emulator
from polysync_batch.observability.metrics import AwsCallMetrics

from tests.fake_aws import FakeAws

QUEUE = "https://sqs.eu-west-1.amazonaws.com/111122223333/events"
ATTEMPTS = 2


def clients_at(endpoint_url: str, session: boto3.Session | None = None, read_timeout: float = 30, **kwargs):
    session = session or boto3.Session(aws_access_key_id="AKIDTEST", aws_secret_access_key="secret")
    return make_clients(
        session,
        region="eu-west-1",
        endpoint_url=endpoint_url,
        max_attempts=ATTEMPTS,
        read_timeout=read_timeout,
        event_queue=True,
        **kwargs,
    )


# -- the signature ---------------------------------------------------------------------------


def botocores_authorization(ours: dict[str, str], url: str, body: bytes, token: str | None, service: str) -> str:
    """The Authorization header botocore.auth.SigV4Auth computes for the request the wire signed
    (test_batch_wire.py uses this too)."""
    request = AWSRequest(
        "POST",
        url,
        data=body,
        # What botocore signs: the request's headers before its HTTP layer adds Content-Length.
        headers={
            k: v
            for k, v in ours.items()
            if k not in ("authorization", "x-amz-date", "x-amz-security-token", "content-length")
        },
    )
    SigV4Auth(Credentials("AKIDTEST", "wJalr/K7MDENG+bPxRfiCY", token), service, "eu-west-1").add_auth(request)
    return request.headers["Authorization"]


@pytest.mark.parametrize("token", [None, "session-token/with+odd=chars"])
@pytest.mark.parametrize("endpoint", ["https://sqs.eu-west-1.amazonaws.com", "http://127.0.0.1:4566", "http://h:80"])
def test_the_signature_is_the_one_botocore_computes_for_the_same_request(monkeypatch, endpoint, token):
    session = boto3.Session(
        aws_access_key_id="AKIDTEST", aws_secret_access_key="wJalr/K7MDENG+bPxRfiCY", aws_session_token=token
    )
    wire = clients_at(endpoint, session).sqs_wire
    at = datetime.datetime(2026, 12, 3, 23, 59, 59)
    monkeypatch.setattr("time.gmtime", lambda *args: at.timetuple())
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda: at)
    body = json.dumps({"QueueUrl": QUEUE, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 20}).encode()

    ours = wire._signed("ReceiveMessage", body)

    assert ours["authorization"] == botocores_authorization(ours, endpoint + "/", body, token, "sqs")
    assert ours["host"] == endpoint.split("//")[1].removesuffix(":80")
    assert ours["x-amz-target"] == "AmazonSQS.ReceiveMessage"
    assert ours["content-type"] == "application/x-amz-json-1.0"


def test_credentials_are_read_on_every_call_so_a_refresh_is_seen():
    seen = []

    class Rotating:
        def get_frozen_credentials(self):
            seen.append(1)
            return Credentials("AKID", f"secret-{len(seen)}", None).get_frozen_credentials()

    wire = SqsWire(clients_at("http://127.0.0.1:1").sqs, Rotating())
    first = wire._signed("ReceiveMessage", b"{}")["authorization"]
    second = wire._signed("ReceiveMessage", b"{}")["authorization"]
    assert len(seen) == 2 and first != second  # a new secret signs the next call


# -- against the emulator (moto) -------------------------------------------------------------


@pytest.fixture(scope="module")
def emulator():
    with start_emulator(events=False) as running:
        yield running


def wire_at(emulator, metrics: AwsCallMetrics | None = None):
    session = boto3.Session(
        aws_access_key_id=emulator.access_key_id,
        aws_secret_access_key=emulator.secret_access_key,
        region_name=emulator.region,
    )
    return make_clients(
        session, region=emulator.region, endpoint_url=emulator.endpoint_url, event_queue=True, metrics=metrics
    )


def test_receive_delete_and_hand_back_against_the_emulator(emulator):
    sqs = emulator.client("sqs")
    url = sqs.create_queue(QueueName="wire")["QueueUrl"]
    for i in range(12):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": i}))
    metrics = AwsCallMetrics("demo")
    clients = wire_at(emulator, metrics)
    wire = clients.sqs_wire
    assert isinstance(wire, SqsWire)

    answer = wire.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    messages = answer["Messages"]
    assert len(messages) == 10 and answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert {json.loads(m["Body"])["n"] for m in messages} <= set(range(12))
    deleted = wire.delete_message_batch(
        QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
    )
    assert len(deleted["Successful"]) == 10 and not deleted.get("Failed")
    rest = wire.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)["Messages"]
    assert len(rest) == 2
    wire.change_message_visibility_batch(
        QueueUrl=url,
        Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0} for i, m in enumerate(rest)
        ],
    )
    # What the queue holds afterwards: the 10 are gone, the 2 handed back are visible again.
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "2"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
    # A queue that does not exist: moto's error, as the boto3 client raises it.
    missing = url.rsplit("/", 1)[0] + "/missing"
    with pytest.raises(ClientError) as ours:
        wire.receive_message(QueueUrl=missing, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    with pytest.raises(ClientError) as botos:
        clients.sqs.receive_message(QueueUrl=missing, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    assert type(ours.value) is type(botos.value)
    assert ours.value.response["Error"] == botos.value.response["Error"]
    # Every attempt counted, as for the boto3 clients.
    samples = metrics.calls.collect()[0].samples
    counted = {(s.labels["operation"], s.labels["outcome"]): s.value for s in samples if s.name.endswith("_total")}
    assert counted[("ReceiveMessage", "ok")] == 2
    assert counted[("DeleteMessageBatch", "ok")] == 1
    assert counted[("ChangeMessageVisibilityBatch", "ok")] == 1


def test_a_long_poll_answered_after_close_hands_its_messages_back_at_once(emulator):
    sqs = emulator.client("sqs")
    url = sqs.create_queue(QueueName="hand-back", Attributes={"VisibilityTimeout": "300"})["QueueUrl"]
    wire = wire_at(emulator).sqs_wire
    queue = SqsEventQueue(wire, None, url, RunContext("demo", emulator.region, None, 600), emulator.account_id)
    answered: list[dict] = []
    polling = threading.Thread(target=lambda: answered.append(queue.receive_now(wait_seconds=5)))
    polling.start()
    time.sleep(0.5)  # the long poll is in flight
    queue.close()  # shutdown
    sqs.send_message(QueueUrl=url, MessageBody="{}")
    polling.join(10)
    assert answered == [{}]  # nothing for the consumer that is stopping
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    # Visible again at once for the next consumer, not after the 300 s visibility timeout.
    assert (attributes["ApproximateNumberOfMessages"], attributes["ApproximateNumberOfMessagesNotVisible"]) == (
        "1",
        "0",
    )


# -- failures: the same as the boto3 client's, through the same mapping ------------------------


def sqs_error(status: int, type_: str, message: str, query: str | None = None):
    headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "req-1"}
    if query:
        headers["x-amzn-query-error"] = query
    return status, headers, json.dumps({"__type": type_, "message": message})


ERRORS = {
    "throttled": sqs_error(400, "com.amazonaws.sqs#ThrottlingException", "Rate exceeded"),
    "request throttled (query code)": sqs_error(
        400, "com.amazonaws.sqs#RequestThrottled", "slow down", "AWS.SimpleQueueService.RequestThrottled;Sender"
    ),
    "queue missing": sqs_error(
        400,
        "com.amazonaws.sqs#QueueDoesNotExist",
        "The specified queue does not exist.",
        "AWS.SimpleQueueService.NonExistentQueue;Sender",
    ),
    "access denied": sqs_error(403, "com.amazonaws.sqs#AccessDeniedException", "not allowed"),
    "expired token": sqs_error(403, "com.amazonaws.sqs#ExpiredToken", "expired"),
    "server error, no JSON": (500, {"Content-Type": "text/html"}, "<html><body>Internal</body></html>"),
    "unavailable": sqs_error(503, "com.amazonaws.sqs#ServiceUnavailable", "try later"),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_an_error_answer_raises_what_the_boto3_client_raises_after_as_many_attempts(case):
    with FakeAws(lambda request: ERRORS[case]) as aws:
        clients = clients_at(aws.endpoint_url)
        with pytest.raises(ClientError) as botos:
            clients.sqs.receive_message(QueueUrl=QUEUE, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        boto_attempts = len(aws.requests)
        with pytest.raises(ClientError) as ours:
            clients.sqs_wire.receive_message(QueueUrl=QUEUE, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        our_attempts = len(aws.requests) - boto_attempts
    assert type(ours.value) is type(botos.value)
    assert str(ours.value) == str(botos.value)
    assert ours.value.operation_name == "ReceiveMessage"
    assert ours.value.response["Error"] == botos.value.response["Error"]
    for key in ("HTTPStatusCode", "RequestId", "RetryAttempts"):
        assert ours.value.response["ResponseMetadata"].get(key) == botos.value.response["ResponseMetadata"].get(key)
    assert our_attempts == boto_attempts
    context = {"platform": "prod", "region": "eu-west-1", "queue": QUEUE}
    mine = aws_errors.translate(ours.value, "ReceiveMessage", context)
    theirs = aws_errors.translate(botos.value, "ReceiveMessage", context)
    assert (type(mine), mine.reason, mine.message) == (type(theirs), theirs.reason, theirs.message)


def test_a_throttled_attempt_that_clears_is_invisible():
    answers = iter([ERRORS["throttled"]])

    def respond(request):
        return next(answers, (200, {"Content-Type": "application/x-amz-json-1.0"}, '{"Messages": []}'))

    with FakeAws(respond) as aws:
        answer = clients_at(aws.endpoint_url).sqs_wire.receive_message(QueueUrl=QUEUE, WaitTimeSeconds=0)
    assert answer["Messages"] == [] and answer["ResponseMetadata"]["RetryAttempts"] == 1
    assert len(aws.requests) == 2
    sent = json.loads(aws.requests[1].body)
    assert sent == {"QueueUrl": QUEUE, "WaitTimeSeconds": 0}
    assert aws.requests[1].headers["x-amz-target"] == "AmazonSQS.ReceiveMessage"


class RawServer:
    """A loopback TCP server that reads each request and then resets the connection (`reset`) or
    never answers (`hang`); counts the requests it read."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.requests = 0
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._sock.settimeout(0.2)
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(5)
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            self.requests += 1
            if self.mode == "reset":  # RST instead of an answer
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
            else:
                self._held.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._sock.close()
        for conn in self._held:
            conn.close()


NETWORK_FAILURES = [("reset", ConnectionClosedError), ("hang", ReadTimeoutError), ("refused", EndpointConnectionError)]


def assert_network_failure_as_botocores(mode, expected, service, wire_class, operation, call, context) -> None:
    """A reset, a hang or a refused connection: the wire raises the exception class botocore
    raises, after as many attempts, within the read timeout per attempt, and aws/errors.py maps
    both alike. `call(client_or_wire)` makes the operation (test_batch_wire.py uses this too)."""
    server = RawServer("reset" if mode == "refused" else mode)
    url = server.endpoint_url
    if mode == "refused":
        server.close()
        time.sleep(0.3)  # the listening socket is gone: connections are refused
    try:
        # The client's own read timeout (make_clients gives SQS at least 30 s, for the long poll).
        config = BotoConfig(read_timeout=0.5, retries={"mode": "standard", "total_max_attempts": ATTEMPTS})
        session = boto3.Session(aws_access_key_id="AKIDTEST", aws_secret_access_key="secret")
        client = session.client(service, region_name="eu-west-1", endpoint_url=url, config=config)
        wire = wire_class.of(client, session.get_credentials(), max_attempts=ATTEMPTS)
        with pytest.raises(expected) as botos:
            call(client)
        boto_attempts = server.requests
        started = time.monotonic()
        with pytest.raises(expected) as ours:
            call(wire)
        took = time.monotonic() - started
        our_attempts = server.requests - boto_attempts
    finally:
        server.close()
    assert type(ours.value) is type(botos.value)
    assert our_attempts == boto_attempts == (0 if mode == "refused" else ATTEMPTS)
    if mode == "hang":
        assert took < ATTEMPTS * 0.5 + 1.5  # the read timeout, per attempt
    context = {"platform": "prod", "region": "eu-west-1", **context}
    mine = aws_errors.translate(ours.value, operation, context)
    theirs = aws_errors.translate(botos.value, operation, context)
    assert (type(mine), mine.reason) == (type(theirs), theirs.reason)


@pytest.mark.parametrize(("mode", "expected"), NETWORK_FAILURES)
def test_network_failures_raise_botocores_exception_after_as_many_attempts(mode, expected):
    assert_network_failure_as_botocores(
        mode,
        expected,
        "sqs",
        SqsWire,
        "ReceiveMessage",
        lambda sqs: sqs.receive_message(QueueUrl=QUEUE, WaitTimeSeconds=0),
        {"queue": QUEUE},
    )


def test_a_connection_the_server_closed_while_idle_is_not_reused():
    ok = (200, {"Content-Type": "application/x-amz-json-1.0"}, "{}")
    with FakeAws(lambda request: ok) as aws:  # HTTP/1.0: the server closes after each answer
        wire = clients_at(aws.endpoint_url).sqs_wire
        for _ in range(3):
            wire.receive_message(QueueUrl=QUEUE, WaitTimeSeconds=0)
        assert len(aws.requests) == 3  # no attempt failed on a closed connection and was retried


def test_with_a_proxy_the_boto3_client_is_kept(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert clients_at(None).sqs_wire is None  # the regional https endpoint goes through the proxy
    monkeypatch.delenv("HTTPS_PROXY")
    assert isinstance(clients_at(None).sqs_wire, SqsWire)
