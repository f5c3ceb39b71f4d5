"""RPC metrics in the go-grpc-prometheus convention (SPEC §8.3): started, handled (by Go's
code name), handling seconds and messages sent, for unary and server-streaming calls of every
service on the port. Outermost but for tracing, so it sees the final status. Label children
are bound once per method, so a call costs two counter increments, one histogram observation
and one more for each message sent."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import grpc

from polysync_batch.api.interceptors import Behavior, is_streaming, rewrap, split_method, status_name
from polysync_batch.observability.metrics import GO_CODE_NAMES, RpcMetrics


class _Method:
    """The label children of one (type, service, method), bound once."""

    __slots__ = ("labels", "started", "sent", "handling", "_handled", "_metrics")

    def __init__(self, metrics: RpcMetrics, grpc_type: str, service: str, method: str) -> None:
        self.labels = (grpc_type, service, method)
        self._metrics = metrics
        self.started = metrics.started.labels(*self.labels)
        self.sent = metrics.sent.labels(*self.labels)
        self.handling = metrics.handling.labels(*self.labels)
        self._handled: dict[str, Any] = {}

    def begin(self) -> float:
        self.started.inc()
        return time.perf_counter()

    def end(self, started: float, context: grpc.aio.ServicerContext, failed: BaseException | None) -> None:
        code = GO_CODE_NAMES.get(status_name(context, failed), "Unknown")
        handled = self._handled.get(code)
        if handled is None:
            handled = self._handled[code] = self._metrics.handled.labels(*self.labels, code)
        handled.inc()
        self.handling.observe(time.perf_counter() - started)


class MetricsInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, metrics: RpcMetrics) -> None:
        self._metrics = metrics
        self._methods: dict[tuple[str, str], _Method] = {}

    def _method(self, grpc_type: str, full_method: str) -> _Method:
        key = (grpc_type, full_method)
        method = self._methods.get(key)
        if method is None:
            method = self._methods[key] = _Method(self._metrics, grpc_type, *split_method(full_method))
        return method

    async def intercept_service(self, continuation, handler_call_details):  # noqa: ANN001 — grpc's signature
        full_method = handler_call_details.method

        def unary(behavior: Behavior, grpc_type: str = "unary") -> Behavior:
            labels = self._method(grpc_type, full_method)

            async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> Any:
                started, failed = labels.begin(), None
                try:
                    response = await behavior(request, context)
                    if grpc_type == "unary":
                        labels.sent.inc()
                    return response
                except BaseException as exc:
                    failed = exc
                    raise
                finally:
                    labels.end(started, context, failed)
            return wrapped

        def stream(behavior: Behavior) -> Behavior:
            if not is_streaming(behavior):  # writes with context.write (grpc's health Watch)
                return unary(behavior, "server_stream")
            labels = self._method("server_stream", full_method)

            async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
                started, failed = labels.begin(), None
                try:
                    async for message in behavior(request, context):
                        labels.sent.inc()
                        yield message
                except BaseException as exc:
                    failed = exc
                    raise
                finally:
                    labels.end(started, context, failed)
            return wrapped

        return rewrap(await continuation(handler_call_details), unary=unary, stream=stream)
