"""Typed errors → gRPC status with google.rpc details, in one place, for every method of every
service on the port (the call chain, chain.py, maps what any step or handler raises): no RPC
ends UNKNOWN or shows a traceback. Anything unexpected becomes INTERNAL with a generic message;
the detail goes to the log. A request whose bytes are not the method's message becomes
INVALID_ARGUMENT instead of grpc's UNKNOWN; with caller auth that check waits until the
caller is identified (auth.py), so a stranger learns nothing but UNAUTHENTICATED."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from polysync_batch.api.interceptors import current_call
from polysync_batch.domain import errors

log = logging.getLogger("polysync_batch.rpc")

HELP_URL = "https://docs.aws.amazon.com/batch/latest/userguide/troubleshooting.html"

STATUS_CODES: dict[type[errors.PlatformError], grpc.StatusCode] = {
    errors.NotFound: grpc.StatusCode.NOT_FOUND,
    errors.InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    errors.PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    errors.Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    errors.FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    errors.ResourceExhausted: grpc.StatusCode.RESOURCE_EXHAUSTED,
    errors.Unavailable: grpc.StatusCode.UNAVAILABLE,
    errors.Internal: grpc.StatusCode.INTERNAL,
    errors.DeadlineExceeded: grpc.StatusCode.DEADLINE_EXCEEDED,
    errors.AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
}


def status_code(error: errors.PlatformError) -> grpc.StatusCode:
    for kind in type(error).__mro__:
        if kind in STATUS_CODES:
            return STATUS_CODES[kind]
    return grpc.StatusCode.INTERNAL


def to_status(error: errors.PlatformError) -> grpc.Status:
    """The gRPC status of an error, with ErrorInfo, and Help / BadRequest / RetryInfo when known."""
    code = status_code(error)
    message = f"{error.message}. Hint: {error.hint}" if error.hint else error.message
    details = [error_details_pb2.ErrorInfo(reason=error.reason, domain=errors.ERROR_DOMAIN, metadata=error.metadata)]
    if error.violations:
        details.append(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                    for v in error.violations
                ]
            )
        )
    if error.hint:
        details.append(
            error_details_pb2.Help(links=[error_details_pb2.Help.Link(description=error.hint, url=HELP_URL)])
        )
    if error.retry_after_seconds is not None:
        delay = duration_pb2.Duration()
        delay.FromTimedelta(timedelta(seconds=error.retry_after_seconds))
        details.append(error_details_pb2.RetryInfo(retry_delay=delay))
    packed = []
    for detail in details:
        holder = any_pb2.Any()
        holder.Pack(detail)
        packed.append(holder)
    proto = status_pb2.Status(code=getattr(code_pb2, code.name), message=message, details=packed)
    return rpc_status.to_status(proto)


class Undecodable:
    """Stands in for a request whose bytes did not parse, so the call fails with a status of ours."""

    __slots__ = ()


UNDECODABLE = Undecodable()


def tolerant(deserializer: Any) -> Any:
    def deserialize(data: bytes) -> Any:
        try:
            return deserializer(data)
        except Exception:
            return UNDECODABLE

    return deserialize


def refuse_undecodable(request: Any) -> None:
    """INVALID_ARGUMENT if the request's bytes did not parse (the tolerant deserializer's stand-in)."""
    if request is UNDECODABLE:
        raise errors.InvalidArgument(
            errors.Reason.INVALID_ARGUMENT,
            "the request is not a valid protobuf message of this method's request type",
            hint="Send the method's request message, serialized with the contract's .proto files.",
        )


async def abort(context: grpc.aio.ServicerContext, exc: Exception) -> None:
    """Ends the call with `exc`'s status (a typed error's own; INTERNAL for anything else)."""
    if isinstance(exc, errors.PlatformError):
        error = exc
    else:
        log.error("unexpected error in an RPC", exc_info=exc)
        error = errors.internal()
    record = current_call.get()
    if record is not None:
        record.fields["reason"] = error.reason
    status = to_status(error)
    await context.abort(status.code, status.details, status.trailing_metadata)
