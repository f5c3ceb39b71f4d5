"""Typed errors → gRPC status with google.rpc details, for every method of every service on the
port: the step that catches whatever the steps after it and the handler raise, so no RPC ends
UNKNOWN or shows a traceback. The code is the reason's, from the catalogue (domain/reasons.py,
via PlatformError.code). Anything unexpected becomes INTERNAL with a generic message; the
detail goes to the log.

An error's encoded grpc-message plus grpc-status-details-bin stay under 8 KiB (gRPC's default
metadata limit, SPEC §8.5): the message and every detail field are cut, and a BadRequest shows
its first violations, the rest counted in ErrorInfo's metadata (`omitted_violations`)."""

from __future__ import annotations

import base64
import logging
from datetime import timedelta

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from polysync_batch.api.chain.call import Call
from polysync_batch.api.chain.step import Step
from polysync_batch.domain import errors
from polysync_batch.observability.logging import bounded

log = logging.getLogger("polysync_batch.rpc")

HELP_URL = "https://docs.aws.amazon.com/batch/latest/userguide/troubleshooting.html"
MAX_ENCODED_BYTES = 7 * 1024  # grpc-message + grpc-status-details-bin, under the 8 KiB metadata limit
MAX_MESSAGE_CHARS = 1024
MAX_VALUE_CHARS = 256


def _percent_encoded_size(text: str) -> int:
    """Bytes of grpc-message on the wire: printable ASCII but % as is, everything else %XX."""
    return sum(1 if 0x20 <= b <= 0x7E and b != 0x25 else 3 for b in text.encode())


def encoded_size(status: status_pb2.Status) -> int:
    return _percent_encoded_size(status.message) + len(base64.b64encode(status.SerializeToString()))


def _pack(*details: object) -> list[any_pb2.Any]:
    packed = []
    for detail in details:
        holder = any_pb2.Any()
        holder.Pack(detail)
        packed.append(holder)
    return packed


def _proto(error: errors.PlatformError, shown: int) -> status_pb2.Status:
    message = bounded(error.message, MAX_MESSAGE_CHARS)
    if error.hint:
        message = f"{message}. Hint: {bounded(error.hint, MAX_MESSAGE_CHARS)}"
    metadata = {key: bounded(value, MAX_VALUE_CHARS) for key, value in error.metadata.items()}
    if shown < len(error.violations):
        metadata["omitted_violations"] = str(len(error.violations) - shown)
    details: list[object] = [
        error_details_pb2.ErrorInfo(reason=error.reason, domain=errors.ERROR_DOMAIN, metadata=metadata)
    ]
    if shown:
        details.append(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(
                        field=bounded(v.field, MAX_VALUE_CHARS), description=bounded(v.description, MAX_VALUE_CHARS)
                    )
                    for v in error.violations[:shown]
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
    return status_pb2.Status(code=getattr(code_pb2, error.code), message=message, details=_pack(*details))


def to_status(error: errors.PlatformError) -> grpc.Status:
    """The gRPC status of an error, with ErrorInfo, and Help / BadRequest / RetryInfo when known;
    as many violations as fit in MAX_ENCODED_BYTES."""
    shown = len(error.violations)
    proto = _proto(error, shown)
    while encoded_size(proto) > MAX_ENCODED_BYTES and shown:
        shown = shown // 2 if shown > 16 else shown - 1
        proto = _proto(error, shown)
    return rpc_status.to_status(proto)


class ErrorMapping(Step):
    name = "errors"

    @staticmethod
    def catch(call: Call, exc: Exception) -> grpc.Status:
        """`exc`'s status (a typed error's own; INTERNAL for anything else)."""
        if isinstance(exc, errors.PlatformError):
            error = exc
        else:
            log.error("unexpected error in an RPC", exc_info=exc)
            error = errors.internal()
        call.fields["reason"] = error.reason
        return to_status(error)
