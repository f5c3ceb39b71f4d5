"""One log event per RPC: method, platform, code, duration and, where present, run_id,
request_id and the error reason."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import grpc

from polysync_batch.api.interceptors import Behavior, CallRecord, current_call, is_streaming, rewrap, split_method

log = logging.getLogger("polysync_batch.rpc")
# Request fields worth a log line; never secrets (the contract has none in requests).
LOGGED_FIELDS = ("platform", "run_id", "request_id", "pipeline")


def _code_of(context: grpc.aio.ServicerContext, failed: BaseException | None) -> str:
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code.name
    if isinstance(code, int):
        return _CODE_NAMES.get(code, "UNKNOWN")
    return "CANCELLED" if failed is not None else "OK"


_CODE_NAMES = {code.value[0]: code.name for code in grpc.StatusCode}


class AccessLogInterceptor(grpc.aio.ServerInterceptor):
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
            fields = {"method": record.method, "platform": record.fields.pop("platform", "-"),
                      "code": _code_of(context, failed),
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
