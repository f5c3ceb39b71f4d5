"""Typed platform errors → gRPC status with google.rpc details, in one place. Every servicer
method is wrapped by `handle_errors`, so no RPC ends UNKNOWN or shows a traceback."""

from __future__ import annotations

import functools
import inspect
import logging
import time
from datetime import timedelta
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from polysync_batch.domain import errors

log = logging.getLogger("polysync_batch.rpc")

HELP_URL = "https://docs.aws.amazon.com/batch/latest/userguide/troubleshooting.html"

STATUS_CODES: dict[type[errors.PlatformError], grpc.StatusCode] = {
    errors.NotFound: grpc.StatusCode.NOT_FOUND,
    errors.InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    errors.PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    errors.FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    errors.ResourceExhausted: grpc.StatusCode.RESOURCE_EXHAUSTED,
    errors.Unavailable: grpc.StatusCode.UNAVAILABLE,
    errors.Internal: grpc.StatusCode.INTERNAL,
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
        details.append(error_details_pb2.BadRequest(field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
            for v in error.violations]))
    if error.hint:
        details.append(error_details_pb2.Help(links=[error_details_pb2.Help.Link(description=error.hint, url=HELP_URL)]))
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


def _as_platform_error(exc: Exception, method: str) -> errors.PlatformError:
    if isinstance(exc, errors.PlatformError):
        return exc
    log.exception("unexpected error in %s", method)
    return errors.Internal("INTERNAL", "internal error: the server log has the details")


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wraps a servicer method (unary or server-streaming): logs one line per RPC and turns any
    exception into a rich gRPC status."""
    method = fn.__name__

    async def fail(context: grpc.aio.ServicerContext, exc: Exception, platform: str, started: float) -> None:
        error = _as_platform_error(exc, method)
        status = to_status(error)
        _log_rpc(method, platform, status.code, started, error.reason)
        await context.abort(status.code, status.details, status.trailing_metadata)

    if inspect.isasyncgenfunction(fn):
        @functools.wraps(fn)
        async def stream(self: Any, request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            started = time.monotonic()
            try:
                async for message in fn(self, request, context):
                    yield message
            except Exception as exc:  # noqa: BLE001
                await fail(context, exc, request.platform, started)
            else:
                _log_rpc(method, request.platform, grpc.StatusCode.OK, started)
        return stream

    @functools.wraps(fn)
    async def unary(self: Any, request: Any, context: grpc.aio.ServicerContext) -> Any:
        started = time.monotonic()
        try:
            response = await fn(self, request, context)
        except Exception as exc:  # noqa: BLE001
            await fail(context, exc, request.platform, started)
        _log_rpc(method, request.platform, grpc.StatusCode.OK, started)
        return response
    return unary


def _log_rpc(method: str, platform: str, code: grpc.StatusCode, started: float, reason: str = "") -> None:
    log.info("rpc method=%s platform=%s code=%s duration_ms=%.1f%s", method, platform or "-", code.name,
             (time.monotonic() - started) * 1000, f" reason={reason}" if reason else "")
