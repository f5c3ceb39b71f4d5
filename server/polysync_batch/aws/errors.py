"""AWS errors → the service's typed errors: one table, used by every AWS call. The reasons and
hints are the README's error table (generated from domain/reasons.py)."""

from __future__ import annotations

import logging
import re

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

from polysync_batch.domain import errors

log = logging.getLogger(__name__)

ACCESS_DENIED = {"AccessDeniedException", "AccessDenied", "UnauthorizedOperation", "UnauthorizedException"}
IDENTITY_TOKEN_INVALID = {"InvalidIdentityToken", "IDPRejectedClaim", "IDPCommunicationError"}
CREDENTIALS_INVALID = {
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
    "IncompleteSignature",
    "MissingAuthenticationToken",
    "RequestExpired",
}
THROTTLED = {
    "TooManyRequestsException",
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestLimitExceeded",
    "SlowDown",
    "RequestThrottled",
    "RequestThrottledException",
}
UNAVAILABLE = {
    "ServerException",
    "ServiceUnavailable",
    "InternalError",
    "InternalFailure",
    "ServiceUnavailableException",
    "InternalServerError",
}

_QUEUE_MISSING = re.compile(r"queue.*(does not exist|not found|doesn't exist)", re.IGNORECASE)
_DEFINITION_MISSING = re.compile(
    r"(job ?definition|jobdefinition).*(does not exist|not found|doesn't exist|inactive)", re.IGNORECASE
)

IDENTITY_TOKEN_HINT = (
    "Check that the IAM identity provider's thumbprint matches login.microsoftonline.com, that "
    "the token's audience is sts.amazonaws.com, and that the role's trust policy allows the "
    "workload identity's sub / oid claim."
)
CREDENTIALS_HINT = (
    "Check the platform's [auth] configuration and that its credential source is current; "
    "TestConnection shows which identity the platform resolves to."
)
SUBMIT_ACCESS_HINT = (
    "The caller is missing batch:SubmitJob on the job queue / job definition ARNs, or "
    "iam:PassRole on the definition's job role."
)


def translate(exc: Exception, operation: str, context: dict[str, str]) -> errors.PlatformError:
    """The typed error for an exception raised by a boto3 call of `operation`.

    `context` carries platform, region and the queue or definition involved; it becomes the
    ErrorInfo metadata, and picks the NOT_FOUND reason of a ClientException.
    """
    if isinstance(exc, errors.PlatformError):
        return exc
    meta = dict(context, operation=operation)
    if isinstance(exc, ClientError):
        return _from_client_error(exc, operation, meta)
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError, CredentialRetrievalError)):
        return errors.aws_credentials_invalid(
            f"no usable AWS credentials for {operation}: {exc}", CREDENTIALS_HINT, meta
        )
    # A refused connection, a reset, a read timeout: the network, after botocore's retries.
    if isinstance(exc, (BotoConnectionError, HTTPClientError)):
        return errors.aws_unavailable(
            f"AWS could not be reached for {operation} after retries: {exc}",
            "A network or AWS outage; retry later.",
            meta,
        )
    if isinstance(exc, BotoCoreError):
        log.exception("unexpected botocore error in %s", operation)
        return errors.internal(f"AWS call {operation} failed", **meta)
    log.exception("unexpected error in %s", operation)
    return errors.internal(f"internal error during {operation}", **meta)


def _from_client_error(exc: ClientError, operation: str, meta: dict[str, str]) -> errors.PlatformError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    aws_message = str(error.get("Message", "")) or code
    http_status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0
    meta = dict(meta, aws_error_code=code, aws_request_id=exc.response.get("ResponseMetadata", {}).get("RequestId", ""))
    # The operation that failed may be an STS call made while refreshing credentials.
    failed_op = getattr(exc, "operation_name", "") or operation
    if code in IDENTITY_TOKEN_INVALID or (failed_op == "AssumeRoleWithWebIdentity" and code in CREDENTIALS_INVALID):
        return errors.aws_identity_token_invalid(
            f"AWS STS rejected the web identity token: {aws_message}", IDENTITY_TOKEN_HINT, meta
        )
    if code in ACCESS_DENIED:
        hint = (
            SUBMIT_ACCESS_HINT
            if operation == "SubmitJob"
            else (
                f"The caller is missing the IAM permission for {failed_op} "
                f"({'batch:' + failed_op if failed_op == operation else failed_op})."
            )
        )
        return errors.aws_access_denied(f"AWS denied {failed_op}: {aws_message}", hint, meta)
    if code in CREDENTIALS_INVALID:
        return errors.aws_credentials_invalid(
            f"AWS rejected the platform's credentials: {aws_message}", CREDENTIALS_HINT, meta
        )
    if code in THROTTLED or http_status == 429:
        return errors.aws_throttled(f"AWS throttled {operation} after retries: {aws_message}", meta)
    if code in UNAVAILABLE or http_status >= 500:
        return errors.aws_unavailable(
            f"AWS failed {operation} after retries: {aws_message}", "An AWS-side error; retry later.", meta
        )
    if _QUEUE_MISSING.search(aws_message):
        return errors.job_queue_not_found(meta.get("job_queue", ""), meta.get("region", ""), meta.get("platform", ""))
    if _DEFINITION_MISSING.search(aws_message):
        return errors.job_definition_not_found(
            meta.get("pipeline", ""), meta.get("region", ""), meta.get("platform", "")
        )
    return errors.aws_request_rejected(f"AWS Batch rejected {operation}: {aws_message}", meta)


def translate_submit(exc: Exception, operation: str, context: dict[str, str]) -> errors.PlatformError:
    """Like `translate`, but tells whether AWS may have accepted the SubmitJob: a lost answer,
    a 5xx or a timeout after sending is `SubmitUnsure` (the caller must look the job up before
    submitting again); a refused connection or throttling means it was not accepted."""
    error = translate(exc, operation, context)
    sent = not isinstance(exc, (EndpointConnectionError, ConnectTimeoutError))
    if isinstance(error, errors.Unavailable) and sent:
        return errors.aws_submit_unsure(
            f"AWS may or may not have accepted {operation}: {error.message}", error.metadata
        )
    return error
