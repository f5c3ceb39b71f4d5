"""AWS failing the way it does in production, through botocore's real retry and credential
machinery and a real gRPC server: the caller sees the SPEC §7 status only after retries."""

import boto3
import grpc
import pytest
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync_batch.aws.credentials import build_session
from polysync_batch.config import AuthConfig
from polysync_batch.service.registry import PlatformRegistry

from tests.fake_aws import FakeAws, json_error, query_error
from tests.support import error_details, fake_aws_runtime, reason_of, serve

ATTEMPTS = 3


def platforms_at(endpoint_url: str, session: boto3.Session | None = None) -> PlatformRegistry:
    runtime = fake_aws_runtime(endpoint_url=endpoint_url, session=session, max_attempts=ATTEMPTS)
    return PlatformRegistry({"prod": runtime}, "prod")


async def get_run_error(platforms: PlatformRegistry) -> grpc.aio.AioRpcError:
    async with serve(platforms) as served:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await served.stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id="j-1"))
    return caught.value


async def test_throttling_is_retried_then_resource_exhausted_with_retry_info():
    with FakeAws(lambda r: json_error(429, "TooManyRequestsException", "Rate exceeded")) as aws:
        error = await get_run_error(platforms_at(aws.endpoint_url))
    assert len(aws.requests) == ATTEMPTS  # botocore's standard retry mode tried each time
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert reason_of(error) == "AWS_THROTTLED"
    assert error_details(error)["RetryInfo"].retry_delay.seconds >= 1


async def test_server_errors_are_retried_then_unavailable():
    with FakeAws(lambda r: json_error(503, "ServiceUnavailableException", "try later")) as aws:
        error = await get_run_error(platforms_at(aws.endpoint_url))
    assert len(aws.requests) == ATTEMPTS
    assert error.code() == grpc.StatusCode.UNAVAILABLE and reason_of(error) == "AWS_UNAVAILABLE"


async def test_a_transient_error_that_clears_is_invisible():
    answers = iter([json_error(429, "TooManyRequestsException", "slow down")])

    def respond(request):
        return next(answers, (200, {"Content-Type": "application/json"}, '{"jobs": []}'))

    with FakeAws(respond) as aws:
        error = await get_run_error(platforms_at(aws.endpoint_url))
    assert len(aws.requests) == 2
    assert error.code() == grpc.StatusCode.NOT_FOUND and reason_of(error) == "RUN_NOT_FOUND"


async def test_rejected_web_identity_token_is_identity_token_invalid(tmp_path):
    token = tmp_path / "token"
    token.write_text("eyJ.fake.jwt")

    def respond(request):
        assert "Action=AssumeRoleWithWebIdentity" in request.body  # only STS is reached
        return query_error(
            400, "InvalidIdentityToken", "Couldn't retrieve verification key from your identity provider"
        )

    with FakeAws(respond) as aws:
        auth = AuthConfig(mode="web_identity", role_arn="arn:aws:iam::111122223333:role/polysync", token_file=token)
        session = build_session(auth, region="eu-west-1", endpoint_url=aws.endpoint_url, environ={})
        error = await get_run_error(platforms_at(aws.endpoint_url, session))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason_of(error) == "AWS_IDENTITY_TOKEN_INVALID"
    assert "login.microsoftonline.com" in error_details(error)["Help"].links[0].description
    assert "eyJ" not in error.details()  # the token never reaches the caller


async def test_rejected_credentials_are_credentials_invalid():
    with FakeAws(
        lambda r: json_error(
            403, "UnrecognizedClientException", "The security token included in the request is invalid"
        )
    ) as aws:
        error = await get_run_error(platforms_at(aws.endpoint_url))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION and reason_of(error) == "AWS_CREDENTIALS_INVALID"
