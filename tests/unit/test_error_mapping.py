"""AWS errors → typed errors → gRPC status with rich details (SPEC §7)."""

import grpc
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError
from google.rpc import status_pb2
from polysync_batch.api.chain.errors import to_status
from polysync_batch.aws.errors import translate
from polysync_batch.domain import errors

from tests.support import unpack_details

CONTEXT = {"platform": "prod", "region": "eu-west-1", "job_queue": "q1", "pipeline": "hello"}


def client_error(code, message="msg", status=400, operation="SubmitJob"):
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "req-1"},
        },
        operation,
    )


def details(status: grpc.Status):
    (value,) = [v for k, v in status.trailing_metadata if k == "grpc-status-details-bin"]
    return unpack_details(status_pb2.Status.FromString(value))


@pytest.mark.parametrize(
    "exc,code,reason",
    [
        (
            client_error("ClientException", "Job Queue q1 does not exist"),
            grpc.StatusCode.NOT_FOUND,
            "JOB_QUEUE_NOT_FOUND",
        ),
        (
            client_error("ClientException", "Job definition hello does not exist"),
            grpc.StatusCode.NOT_FOUND,
            "JOB_DEFINITION_NOT_FOUND",
        ),
        (client_error("AccessDeniedException", status=403), grpc.StatusCode.PERMISSION_DENIED, "AWS_ACCESS_DENIED"),
        (
            client_error("InvalidIdentityToken", operation="AssumeRoleWithWebIdentity"),
            grpc.StatusCode.FAILED_PRECONDITION,
            "AWS_IDENTITY_TOKEN_INVALID",
        ),
        (
            client_error("ExpiredTokenException", status=403),
            grpc.StatusCode.FAILED_PRECONDITION,
            "AWS_CREDENTIALS_INVALID",
        ),
        (
            client_error("UnrecognizedClientException", status=403),
            grpc.StatusCode.FAILED_PRECONDITION,
            "AWS_CREDENTIALS_INVALID",
        ),
        (NoCredentialsError(), grpc.StatusCode.FAILED_PRECONDITION, "AWS_CREDENTIALS_INVALID"),
        (client_error("TooManyRequestsException", status=429), grpc.StatusCode.RESOURCE_EXHAUSTED, "AWS_THROTTLED"),
        (client_error("ThrottlingException"), grpc.StatusCode.RESOURCE_EXHAUSTED, "AWS_THROTTLED"),
        (client_error("ServerException", status=500), grpc.StatusCode.UNAVAILABLE, "AWS_UNAVAILABLE"),
        (client_error("Whatever", status=503), grpc.StatusCode.UNAVAILABLE, "AWS_UNAVAILABLE"),
        (
            EndpointConnectionError(endpoint_url="https://batch.eu-west-1.amazonaws.com"),
            grpc.StatusCode.UNAVAILABLE,
            "AWS_UNAVAILABLE",
        ),
        (
            client_error("ClientException", "arrayProperties size is bad"),
            grpc.StatusCode.INVALID_ARGUMENT,
            "AWS_REQUEST_REJECTED",
        ),
        (RuntimeError("boom"), grpc.StatusCode.INTERNAL, "INTERNAL"),
    ],
)
def test_aws_errors_map_to_status_and_reason(exc, code, reason):
    error = translate(exc, "SubmitJob", CONTEXT)
    status = to_status(error)
    assert status.code == code
    info = details(status)["ErrorInfo"]
    assert info.reason == reason
    assert info.domain == "polysync.platform"
    assert "Traceback" not in status.details


def test_seed_hints_travel_as_help_and_in_the_message():
    error = translate(client_error("AccessDeniedException", status=403), "SubmitJob", CONTEXT)
    status = to_status(error)
    help_ = details(status)["Help"]
    assert "iam:PassRole" in help_.links[0].description and "batch:SubmitJob" in help_.links[0].description
    assert "iam:PassRole" in status.details
    token = to_status(translate(client_error("InvalidIdentityToken"), "GetCallerIdentity", CONTEXT))
    assert "login.microsoftonline.com" in details(token)["Help"].links[0].description
    queue = details(
        to_status(translate(client_error("ClientException", "Job Queue q1 does not exist"), "SubmitJob", CONTEXT))
    )
    assert queue["ErrorInfo"].metadata["job_queue"] == "q1"
    assert "region" in queue["Help"].links[0].description


def test_throttling_carries_retry_info():
    status = to_status(translate(client_error("TooManyRequestsException", status=429), "DescribeJobs", CONTEXT))
    assert details(status)["RetryInfo"].retry_delay.seconds >= 1


def test_internal_errors_hide_their_cause():
    status = to_status(translate(RuntimeError("secret detail"), "DescribeJobs", CONTEXT))
    assert "secret detail" not in status.details


def test_bad_request_lists_every_violation():
    v = errors.Violations()
    v.add("array_size", "must be between 2 and 10000")
    v.add("retry_attempts", "must be between 1 and 10")
    with pytest.raises(errors.InvalidArgument) as caught:
        v.raise_if_any()
    status = to_status(caught.value)
    assert status.code == grpc.StatusCode.INVALID_ARGUMENT
    bad = details(status)["BadRequest"]
    assert [f.field for f in bad.field_violations] == ["array_size", "retry_attempts"]
