"""One log event per RPC (event "rpc"): method, platform, code, duration and, where present,
run_id, request_id, pipeline, caller and the error reason — whatever the call's CallRecord
collected."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import grpc

from polysync_batch.api.interceptors import (
    Behavior,
    CallRecord,
    current_call,
    is_streaming,
    rewrap,
    split_method,
    status_name,
)

log = logging.getLogger("polysync_batch.rpc")
# Request fields worth a log line; never secrets (the contract has none in requests).
LOGGED_FIELDS = ("platform", "run_id", "request_id", "pipeline")


class AccessLogInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, default_platform: str | None = None) -> None:
        self._default_platform = default_platform or "-"  # what a request naming no platform gets

    async def intercept_service(self, continuation, handler_call_details):  # noqa: ANN001 — grpc's signature
        service, method = split_method(handler_call_details.method)
        if service.startswith("grpc."):  # health probes and reflection: not worth a line each
            return await continuation(handler_call_details)

        def begin(request: Any) -> tuple[CallRecord, float]:
            record = CallRecord(method, service)
            for name in LOGGED_FIELDS:
                value = getattr(request, name, "")
                if isinstance(value, str) and value:
                    record.fields[name] = value
            current_call.set(record)
            return record, time.monotonic()

        def end(record: CallRecord, started: float, context: grpc.aio.ServicerContext,
                failed: BaseException | None) -> None:
            fields = {"event": "rpc", "method": record.method,
                      "platform": record.fields.pop("platform", self._default_platform),
                      "code": status_name(context, failed),
                      "duration_ms": round((time.monotonic() - started) * 1000, 1), **record.fields}
            log.info("rpc", extra={"fields": fields})

        def unary(behavior: Behavior) -> Behavior:
            async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> Any:
                record, started = begin(request)
                failed = None
                try:
                    return await behavior(request, context)
                except BaseException as exc:
                    failed = exc
                    raise
                finally:
                    end(record, started, context, failed)
            return wrapped

        def stream(behavior: Behavior) -> Behavior:
            if not is_streaming(behavior):
                return unary(behavior)

            async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
                record, started = begin(request)
                failed = None
                try:
                    async for message in behavior(request, context):
                        yield message
                except BaseException as exc:
                    failed = exc
                    raise
                finally:
                    end(record, started, context, failed)
            return wrapped

        return rewrap(await continuation(handler_call_details), unary=unary, stream=stream)
