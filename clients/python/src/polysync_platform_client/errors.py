"""The rich error details the server attaches to every failed call: google.rpc.ErrorInfo (the
stable `reason`), BadRequest (which fields were wrong), Help (what to check) and RetryInfo (when
to retry). Each function takes a `grpc.RpcError` from the sync or the asyncio API."""

from __future__ import annotations

import re

import grpc
from google.protobuf.message import DecodeError, Message
from google.rpc import error_details_pb2, status_pb2

from polysync_platform_client.reasons import ERROR_DOMAIN

__all__ = [
    "ERROR_DOMAIN",
    "bad_request",
    "error_info",
    "error_reason",
    "field_violations",
    "help_links",
    "missing_parameters",
    "reason",
    "retry_delay",
    "retry_info",
    "rpc_status",
]

# gRPC carries the google.rpc.Status (with its details) in this trailing metadata entry.
_STATUS_DETAILS_KEY = "grpc-status-details-bin"
_PARAMETER_FIELD = re.compile(r"^parameters\[(.+)\]$")


def rpc_status(error: grpc.RpcError) -> status_pb2.Status | None:
    """The google.rpc.Status of a failed call, or None when it has none (e.g. a transport
    failure, or a status set by a proxy)."""
    trailing = getattr(error, "trailing_metadata", None)
    metadata = trailing() if callable(trailing) else None
    for key, value in metadata or ():
        if key == _STATUS_DETAILS_KEY and isinstance(value, bytes):
            try:
                return status_pb2.Status.FromString(value)
            except DecodeError:
                return None
    return None


def _detail(error: grpc.RpcError, message: Message) -> bool:
    status = rpc_status(error)
    for detail in status.details if status is not None else ():
        if detail.Is(message.DESCRIPTOR):
            detail.Unpack(message)
            return True
    return False


def error_info(error: grpc.RpcError) -> error_details_pb2.ErrorInfo | None:
    """The ErrorInfo of a failed call (reason, domain, metadata), or None if it has none."""
    info = error_details_pb2.ErrorInfo()
    return info if _detail(error, info) else None


def reason(error: grpc.RpcError) -> str:
    """The stable reason of a failed call, one of `polysync_platform_client.reasons` (e.g.
    "RUN_NOT_FOUND"); "" when there is none."""
    info = error_info(error)
    return info.reason if info is not None else ""


error_reason = reason  # the name of 0.1


def bad_request(error: grpc.RpcError) -> error_details_pb2.BadRequest | None:
    """The BadRequest of a refused call (INVALID_ARGUMENT), or None if it has none."""
    details = error_details_pb2.BadRequest()
    return details if _detail(error, details) else None


def field_violations(error: grpc.RpcError) -> list[error_details_pb2.BadRequest.FieldViolation]:
    """Each bad field of a refused call (`field`, `description`); empty when there are none."""
    details = bad_request(error)
    return list(details.field_violations) if details is not None else []


def missing_parameters(error: grpc.RpcError) -> list[str]:
    """The pipeline parameters a refused ExecutePipeline lacked (reason MISSING_PARAMETERS),
    e.g. ["name"] for the violation of field "parameters[name]"."""
    names = []
    for violation in field_violations(error):
        match = _PARAMETER_FIELD.match(violation.field)
        if match:
            names.append(match.group(1))
    return names


def help_links(error: grpc.RpcError) -> list[error_details_pb2.Help.Link]:
    """The troubleshooting hints of a failed call (`description`, `url`); empty when none."""
    details = error_details_pb2.Help()
    return list(details.links) if _detail(error, details) else []


def retry_info(error: grpc.RpcError) -> error_details_pb2.RetryInfo | None:
    """The RetryInfo of a failed call (sent with AWS_THROTTLED), or None if it has none."""
    details = error_details_pb2.RetryInfo()
    return details if _detail(error, details) else None


def retry_delay(error: grpc.RpcError) -> float | None:
    """RetryInfo's retry_delay in seconds, or None when the error carries no RetryInfo."""
    details = retry_info(error)
    return details.retry_delay.ToTimedelta().total_seconds() if details is not None else None
