"""aws/wire.BatchWire, AWS Batch's DescribeJobs and ListJobs without botocore's per-call pipeline:
it signs as botocore does (byte for byte, rest-json: `POST /v1/describejobs`), answers what
`client.describe_jobs(jobs=…)` answers against the embedded emulator (moto) and against an
endpoint that sends members the model does not know or JSON nulls, and fails the way the boto3
client fails — same exception class, same parsed error, same number of attempts — so
aws/errors.py maps both to the same reason; the caller's deadline bounds it."""

from __future__ import annotations

import datetime
import json
import time

import boto3
import pytest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError, ReadTimeoutError
from polysync_batch.aws import errors as aws_errors
from polysync_batch.aws.clients import make_clients
from polysync_batch.aws.wire import BatchWire
from polysync_batch.domain import deadline, errors
from polysync_batch.emulator import start_emulator
from polysync_batch.observability.metrics import AwsCallMetrics

from tests.adapters.test_sqs_wire import (
    NETWORK_FAILURES,
    RawServer,
    assert_network_failure_as_botocores,
    botocores_authorization,
)
from tests.fake_aws import FakeAws

ATTEMPTS = 2
JOB_ID = "6c7c3b1e-0000-4000-8000-000000000001"


def clients_at(endpoint_url: str | None, session: boto3.Session | None = None, **kwargs):
    session = session or boto3.Session(aws_access_key_id="AKIDTEST", aws_secret_access_key="secret")
    return make_clients(session, region="eu-west-1", endpoint_url=endpoint_url, max_attempts=ATTEMPTS, **kwargs)


# -- the request -----------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "session-token/with+odd=chars"])
@pytest.mark.parametrize("endpoint", ["https://batch.eu-west-1.amazonaws.com", "http://127.0.0.1:4566", "http://h:80"])
@pytest.mark.parametrize(("operation", "path"), [("DescribeJobs", "/v1/describejobs"), ("ListJobs", "/v1/listjobs")])
def test_the_signature_is_the_one_botocore_computes_for_the_same_request(monkeypatch, endpoint, token, operation, path):
    session = boto3.Session(
        aws_access_key_id="AKIDTEST", aws_secret_access_key="wJalr/K7MDENG+bPxRfiCY", aws_session_token=token
    )
    wire = clients_at(endpoint, session).batch_wire
    at = datetime.datetime(2026, 12, 3, 23, 59, 59)
    monkeypatch.setattr("time.gmtime", lambda *args: at.timetuple())
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda: at)
    body = json.dumps({"jobs": [JOB_ID, "a b/c"]}).encode()

    ours = wire._signed(operation, body)

    assert ours["authorization"] == botocores_authorization(ours, endpoint + path, body, token, "batch")
    assert ours["host"] == endpoint.split("//")[1].removesuffix(":80")
    assert ours["content-type"] == "application/json"
    assert "x-amz-target" not in ours
    assert wire._operation(operation).path == path


def test_it_sends_what_the_boto3_client_sends_path_body_and_signed_headers():
    ok = (200, {"Content-Type": "application/json"}, '{"jobs": []}')
    with FakeAws(lambda request: ok) as aws:
        clients = clients_at(aws.endpoint_url)
        clients.batch.describe_jobs(jobs=[JOB_ID])
        clients.batch_wire.describe_jobs(jobs=[JOB_ID])
        clients.batch.list_jobs(jobQueue="q", filters=[{"name": "JOB_NAME", "values": ["x*"]}], maxResults=5)
        clients.batch_wire.list_jobs(jobQueue="q", filters=[{"name": "JOB_NAME", "values": ["x*"]}], maxResults=5)
    boto_describe, our_describe, boto_list, our_list = aws.requests
    for botos, ours in ((boto_describe, our_describe), (boto_list, our_list)):
        assert ours.path == botos.path
        assert json.loads(ours.body) == json.loads(botos.body)
        mine, theirs = ({k.lower(): v for k, v in r.headers.items()} for r in (ours, botos))
        assert mine["content-type"] == theirs["content-type"]
        assert mine["host"] == theirs["host"]
        credential = theirs["authorization"].split(" Credential=")[1].split(",")[0]
        assert mine["authorization"].split(" Credential=")[1].split(",")[0] == credential  # …/batch/aws4_request


def test_credentials_are_read_on_every_call_so_a_refresh_is_seen():
    seen = []

    class Rotating:
        def get_frozen_credentials(self):
            seen.append(1)
            return Credentials("AKID", f"secret-{len(seen)}", None).get_frozen_credentials()

    wire = BatchWire(clients_at("http://127.0.0.1:1").batch, Rotating())
    first = wire._signed("DescribeJobs", b"{}")["authorization"]
    second = wire._signed("DescribeJobs", b"{}")["authorization"]
    assert len(seen) == 2 and first != second


# -- the answers, against the emulator (moto) ------------------------------------------------


@pytest.fixture(scope="module")
def emulator():
    with start_emulator(events=False) as running:
        yield running


def emulator_clients(emulator, metrics: AwsCallMetrics | None = None):
    session = boto3.Session(
        aws_access_key_id=emulator.access_key_id,
        aws_secret_access_key=emulator.secret_access_key,
        region_name=emulator.region,
    )
    return make_clients(session, region=emulator.region, endpoint_url=emulator.endpoint_url, metrics=metrics)


def without_metadata(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "ResponseMetadata"}


def test_describe_and_list_answer_what_boto3_answers_against_the_emulator(emulator):
    batch = emulator.client("batch")
    ids = [
        batch.submit_job(jobName=f"wire-{i}", jobQueue=emulator.job_queue, jobDefinition="hello")["jobId"]
        for i in range(3)
    ]
    metrics = AwsCallMetrics("demo")
    clients = emulator_clients(emulator, metrics)
    wire = clients.batch_wire
    assert isinstance(wire, BatchWire)

    asked = [*ids, "no-such-job"]
    ours = wire.describe_jobs(jobs=asked)
    assert without_metadata(ours) == without_metadata(clients.batch.describe_jobs(jobs=asked))
    assert sorted(j["jobId"] for j in ours["jobs"]) == sorted(ids)  # the unknown id is left out, as AWS does
    assert ours["ResponseMetadata"]["HTTPStatusCode"] == 200 and ours["ResponseMetadata"]["RetryAttempts"] == 0
    assert without_metadata(wire.describe_jobs(jobs=["no-such-job"])) == {"jobs": []}

    for status in ("SUBMITTED", "RUNNABLE", "RUNNING", "SUCCEEDED"):
        request = {"jobQueue": emulator.job_queue, "jobStatus": status}
        assert without_metadata(wire.list_jobs(**request)) == without_metadata(clients.batch.list_jobs(**request))
    named = {"jobQueue": emulator.job_queue, "filters": [{"name": "JOB_NAME", "values": ["wire-*"]}]}
    listed = wire.list_jobs(**named)
    assert without_metadata(listed) == without_metadata(clients.batch.list_jobs(**named))
    assert {s["jobId"] for s in listed["jobSummaryList"]} >= set(ids)

    # More than 100 ids: AWS Batch's (and the emulator's) ClientException, as boto3 raises it.
    too_many = [f"job-{i}" for i in range(101)]
    with pytest.raises(ClientError) as botos:
        clients.batch.describe_jobs(jobs=too_many)
    with pytest.raises(ClientError) as mine:
        wire.describe_jobs(jobs=too_many)
    assert type(mine.value) is type(botos.value) is clients.batch.exceptions.ClientException
    assert mine.value.response["Error"] == botos.value.response["Error"]
    # A queue that does not exist.
    with pytest.raises(ClientError) as botos:
        clients.batch.list_jobs(jobQueue="missing")
    with pytest.raises(ClientError) as mine:
        wire.list_jobs(jobQueue="missing")
    assert type(mine.value) is type(botos.value)
    assert str(mine.value) == str(botos.value)

    samples = metrics.calls.collect()[0].samples
    counted = {(s.labels["operation"], s.labels["outcome"]): s.value for s in samples if s.name.endswith("_total")}
    # Each attempt counted, the wire's and boto3's alike: describes 2 + 1, lists 5 each.
    assert counted[("DescribeJobs", "ok")] == 2 + 1
    assert counted[("DescribeJobs", "ClientException")] == 2
    assert counted[("ListJobs", "ok")] == 5 * 2
    assert counted[("ListJobs", "ClientException")] == 2


def test_members_the_model_does_not_know_and_json_nulls_are_left_out_as_botocore_leaves_them():
    job = {
        "jobId": JOB_ID,
        "jobName": "shaped",
        "jobQueue": "q",
        "status": "FAILED",
        "statusReason": None,
        "startedAt": 1764806399000,
        "jobDefinition": "hello:1",
        "notInTheModel": {"x": 1},
        "container": {"exitCode": 1, "reason": None, "logStreamName": "s", "futureField": [1]},
        "attempts": [{"container": {"exitCode": 1, "unknown": True}, "startedAt": 1, "statusReason": "x"}],
        "parameters": {"a": "b"},
        "tags": None,
        "dependsOn": [],
        "isCancelled": False,
        "eksProperties": {"podProperties": {"containers": [{"name": "c", "exitCode": 2, "more": 1}]}},
    }
    answer = json.dumps({"jobs": [job], "nextToken": None, "extraTopLevel": 1})
    with FakeAws(lambda request: (200, {"Content-Type": "application/json", "x-amzn-RequestId": "r-1"}, answer)) as aws:
        clients = clients_at(aws.endpoint_url)
        botos = clients.batch.describe_jobs(jobs=[JOB_ID])
        ours = clients.batch_wire.describe_jobs(jobs=[JOB_ID])
    assert without_metadata(ours) == without_metadata(botos)
    assert "notInTheModel" not in ours["jobs"][0] and "statusReason" not in ours["jobs"][0]
    assert ours["ResponseMetadata"]["RequestId"] == botos["ResponseMetadata"]["RequestId"] == "r-1"


# -- failures: the same as the boto3 client's, through the same mapping ------------------------


def batch_error(status: int, type_: str, message: str):
    return (
        status,
        {"Content-Type": "application/json", "x-amzn-ErrorType": type_, "x-amzn-RequestId": "r-2"},
        (json.dumps({"__type": type_, "message": message})),
    )


ERRORS = {
    "throttled (429)": batch_error(429, "TooManyRequestsException", "Too Many Requests"),
    "throttling exception": batch_error(400, "ThrottlingException", "Rate exceeded"),
    "client exception": batch_error(400, "ClientException", "Job queue q does not exist"),
    "access denied": batch_error(403, "AccessDeniedException", "not allowed"),
    "expired token": batch_error(403, "ExpiredTokenException", "expired"),
    "server exception": batch_error(500, "ServerException", "internal"),
    "bad gateway, no JSON": (502, {"Content-Type": "text/html"}, "<html><body>Bad Gateway</body></html>"),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_an_error_answer_raises_what_the_boto3_client_raises_after_as_many_attempts(case):
    with FakeAws(lambda request: ERRORS[case]) as aws:
        clients = clients_at(aws.endpoint_url)
        with pytest.raises(ClientError) as botos:
            clients.batch.describe_jobs(jobs=[JOB_ID])
        boto_attempts = len(aws.requests)
        with pytest.raises(ClientError) as ours:
            clients.batch_wire.describe_jobs(jobs=[JOB_ID])
        our_attempts = len(aws.requests) - boto_attempts
    assert type(ours.value) is type(botos.value)
    assert str(ours.value) == str(botos.value)
    assert ours.value.operation_name == "DescribeJobs"
    assert ours.value.response["Error"] == botos.value.response["Error"]
    for key in ("HTTPStatusCode", "RequestId", "RetryAttempts", "MaxAttemptsReached"):
        assert ours.value.response["ResponseMetadata"].get(key) == botos.value.response["ResponseMetadata"].get(key)
    assert our_attempts == boto_attempts
    context = {"platform": "prod", "region": "eu-west-1"}
    mine = aws_errors.translate(ours.value, "DescribeJobs", context)
    theirs = aws_errors.translate(botos.value, "DescribeJobs", context)
    assert (type(mine), mine.reason, mine.message) == (type(theirs), theirs.reason, theirs.message)


def test_a_throttled_attempt_that_clears_is_invisible():
    answers = iter([ERRORS["throttled (429)"]])
    job = {"jobId": JOB_ID, "jobName": "n", "jobQueue": "q", "status": "RUNNING", "jobDefinition": "d", "startedAt": 1}

    def respond(request):
        return next(answers, (200, {"Content-Type": "application/json"}, json.dumps({"jobs": [job]})))

    with FakeAws(respond) as aws:
        answer = clients_at(aws.endpoint_url).batch_wire.describe_jobs(jobs=[JOB_ID])
    assert answer["jobs"] == [job] and answer["ResponseMetadata"]["RetryAttempts"] == 1
    assert len(aws.requests) == 2
    assert [r.path for r in aws.requests] == ["/v1/describejobs"] * 2
    assert json.loads(aws.requests[1].body) == {"jobs": [JOB_ID]}


@pytest.mark.parametrize(("mode", "expected"), NETWORK_FAILURES)
def test_network_failures_raise_botocores_exception_after_as_many_attempts(mode, expected):
    assert_network_failure_as_botocores(
        mode, expected, "batch", BatchWire, "DescribeJobs", lambda batch: batch.describe_jobs(jobs=[JOB_ID]), {}
    )


def test_the_callers_deadline_bounds_each_attempt_and_none_is_sent_after_it():
    """The endpoint never answers; the client's read timeout is 30 s with 2 attempts. With 0.6 s
    left, the first attempt gives up at the deadline and no second one is sent."""
    server = RawServer("hang")
    try:
        wire = clients_at(server.endpoint_url).batch_wire
        token = deadline.set_remaining(0.6)
        started = time.monotonic()
        try:
            with pytest.raises((ReadTimeoutError, errors.PlatformError)) as raised:
                wire.describe_jobs(jobs=[JOB_ID])
        finally:
            deadline.reset(token)
        took = time.monotonic() - started
        time.sleep(0.3)
    finally:
        server.close()
    assert took < 0.6 + 0.5, took
    assert server.requests == 1
    if isinstance(raised.value, errors.PlatformError):
        assert raised.value.reason == "DEADLINE_EXCEEDED"
    # Already past: nothing is sent at all.
    with FakeAws(lambda request: (200, {}, "{}")) as aws:
        wire = clients_at(aws.endpoint_url).batch_wire
        token = deadline.set_remaining(-0.001)
        try:
            with pytest.raises(errors.PlatformError) as late:
                wire.describe_jobs(jobs=[JOB_ID])
        finally:
            deadline.reset(token)
    assert aws.requests == [] and late.value.reason == "DEADLINE_EXCEEDED"


def test_with_a_proxy_the_boto3_client_is_kept(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert clients_at(None).batch_wire is None  # the regional https endpoint goes through the proxy
    monkeypatch.delenv("HTTPS_PROXY")
    assert isinstance(clients_at(None).batch_wire, BatchWire)


def test_with_the_adaptive_retry_mode_the_boto3_client_is_kept():
    # Its client-side rate limiter is botocore's: the wire retries as the standard mode does.
    assert clients_at("http://127.0.0.1:4566", retry_mode="adaptive").batch_wire is None
    assert isinstance(clients_at("http://127.0.0.1:4566", retry_mode="standard").batch_wire, BatchWire)
