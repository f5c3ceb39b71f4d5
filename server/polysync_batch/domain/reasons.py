"""Every google.rpc.ErrorInfo reason the service sends, in one catalogue.

The reason is the stable, machine-readable part of an error (ErrorInfo.domain is always
"polysync.platform"): clients branch on it, dashboards count it, and each client's reason
constants and the README's error table are generated from or checked against this list
(scripts/generate-reasons.py). Add a reason here first; never rename or remove one.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass

# ErrorInfo.domain of every error this service reports.
ERROR_DOMAIN = "polysync.platform"


class Reason(enum.StrEnum):
    JOB_QUEUE_NOT_FOUND = "JOB_QUEUE_NOT_FOUND"
    JOB_DEFINITION_NOT_FOUND = "JOB_DEFINITION_NOT_FOUND"
    RUN_NOT_FOUND = "RUN_NOT_FOUND"
    PLATFORM_NOT_FOUND = "PLATFORM_NOT_FOUND"
    AWS_ACCESS_DENIED = "AWS_ACCESS_DENIED"
    AWS_IDENTITY_TOKEN_INVALID = "AWS_IDENTITY_TOKEN_INVALID"
    AWS_CREDENTIALS_INVALID = "AWS_CREDENTIALS_INVALID"
    AWS_THROTTLED = "AWS_THROTTLED"
    AWS_UNAVAILABLE = "AWS_UNAVAILABLE"
    AWS_REQUEST_REJECTED = "AWS_REQUEST_REJECTED"
    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    MISSING_PARAMETERS = "MISSING_PARAMETERS"
    CALLER_UNAUTHENTICATED = "CALLER_UNAUTHENTICATED"
    CALLER_NOT_ALLOWED = "CALLER_NOT_ALLOWED"
    TOO_MANY_STREAMS = "TOO_MANY_STREAMS"
    SERVER_SHUTTING_DOWN = "SERVER_SHUTTING_DOWN"
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
    SUBMIT_IN_PROGRESS = "SUBMIT_IN_PROGRESS"
    INTERNAL = "INTERNAL"
    REQUEST_ID_REUSED = "REQUEST_ID_REUSED"
    JOB_QUEUE_NOT_ALLOWED = "JOB_QUEUE_NOT_ALLOWED"
    JOB_CANNOT_BE_PLACED = "JOB_CANNOT_BE_PLACED"
    CURSOR_EXPIRED = "CURSOR_EXPIRED"


@dataclass(frozen=True)
class ReasonInfo:
    reason: Reason
    code: str  # the gRPC status code name (grpc.StatusCode.<code>) the reason is sent with
    when: str  # one line for the README's error table


CATALOGUE: tuple[ReasonInfo, ...] = (
    ReasonInfo(Reason.JOB_QUEUE_NOT_FOUND, "NOT_FOUND", "the job queue does not exist in the platform's region"),
    ReasonInfo(Reason.JOB_DEFINITION_NOT_FOUND, "NOT_FOUND", "the pipeline has no ACTIVE job definition revision"),
    ReasonInfo(Reason.RUN_NOT_FOUND, "NOT_FOUND", "AWS Batch does not know the run id"),
    ReasonInfo(Reason.PLATFORM_NOT_FOUND, "NOT_FOUND", "the request names a platform that is not configured"),
    ReasonInfo(
        Reason.AWS_ACCESS_DENIED, "PERMISSION_DENIED", "AWS denied the call (IAM permissions of the platform's role)"
    ),
    ReasonInfo(
        Reason.AWS_IDENTITY_TOKEN_INVALID, "FAILED_PRECONDITION", "AWS STS rejected the platform's web identity token"
    ),
    ReasonInfo(
        Reason.AWS_CREDENTIALS_INVALID,
        "FAILED_PRECONDITION",
        "the platform's AWS credentials are missing, expired or invalid",
    ),
    ReasonInfo(
        Reason.AWS_THROTTLED,
        "RESOURCE_EXHAUSTED",
        "AWS throttled the call after retries (RetryInfo says when to retry)",
    ),
    ReasonInfo(Reason.AWS_UNAVAILABLE, "UNAVAILABLE", "AWS answered 5xx or could not be reached after retries"),
    ReasonInfo(
        Reason.AWS_REQUEST_REJECTED,
        "INVALID_ARGUMENT",
        "AWS Batch rejected the request for another reason (its message is passed on)",
    ),
    ReasonInfo(Reason.INVALID_ARGUMENT, "INVALID_ARGUMENT", "a request field is invalid (BadRequest lists each one)"),
    ReasonInfo(
        Reason.MISSING_PARAMETERS,
        "INVALID_ARGUMENT",
        "the pipeline's Ref:: parameters without defaults were not given (BadRequest lists them)",
    ),
    ReasonInfo(
        Reason.CALLER_UNAUTHENTICATED,
        "UNAUTHENTICATED",
        "caller authentication is configured and the call has no valid token or certificate",
    ),
    ReasonInfo(Reason.CALLER_NOT_ALLOWED, "PERMISSION_DENIED", "the caller is not in the platform's access list"),
    ReasonInfo(
        Reason.TOO_MANY_STREAMS,
        "RESOURCE_EXHAUSTED",
        "the caller already holds server.max_streams_per_caller streams (or, without a caller, server.max_unidentified_streams are open)",
    ),
    ReasonInfo(
        Reason.SERVER_SHUTTING_DOWN,
        "UNAVAILABLE",
        "the server is stopping; reconnect and the watch resumes with the current state",
    ),
    ReasonInfo(
        Reason.DEADLINE_EXCEEDED,
        "DEADLINE_EXCEEDED",
        "the caller's deadline passed before the work could start or finish (no AWS call is started after it)",
    ),
    ReasonInfo(
        Reason.SUBMIT_IN_PROGRESS,
        "UNAVAILABLE",
        "another call with the same request_id is still submitting; retry (RetryInfo) and get its run",
    ),
    ReasonInfo(Reason.INTERNAL, "INTERNAL", "an unexpected server error (the server log has the details)"),
    ReasonInfo(
        Reason.REQUEST_ID_REUSED,
        "ALREADY_EXISTS",
        "the caller already used this request_id for a different request; nothing was submitted",
    ),
    ReasonInfo(
        Reason.JOB_QUEUE_NOT_ALLOWED,
        "PERMISSION_DENIED",
        "the job queue is not in the platform's job_queues; nothing was submitted or listed",
    ),
    ReasonInfo(
        Reason.JOB_CANNOT_BE_PLACED,
        "FAILED_PRECONDITION",
        "no compute environment of the queue could ever place the job (ErrorInfo has what was asked and the most the queue offers)",
    ),
    ReasonInfo(
        Reason.CURSOR_EXPIRED,
        "FAILED_PRECONDITION",
        "the feed cursor is from another process or older than the history kept; start again with snapshot = true",
    ),
)

assert [info.reason for info in CATALOGUE] == list(Reason), "every Reason has one catalogue entry, in order"


def catalogue_json() -> str:
    """The catalogue as JSON, for the client generators."""
    return json.dumps([{"reason": i.reason.value, "code": i.code, "when": i.when} for i in CATALOGUE], indent=2)


if __name__ == "__main__":
    print(catalogue_json())
