"""RPC metrics in the go-grpc-prometheus convention (SPEC §8.3): started, handled (by Go's
code name), handling seconds and messages sent, for unary and server-streaming calls of every
service on the port. The outermost step of the call chain (chain.py; only tracing is
outside it), so it sees the final status. Label children are bound once per method, so a call
costs two counter increments, one histogram observation and one more for each message sent."""

from __future__ import annotations

import time
from typing import Any

import grpc

from polysync_batch.api.interceptors import split_method, status_name
from polysync_batch.observability.metrics import GO_CODE_NAMES, RpcMetrics


class MethodMetrics:
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


class RpcRecorder:
    """The label children of every (type, method) the server has seen, bound on first use."""

    def __init__(self, metrics: RpcMetrics) -> None:
        self._metrics = metrics
        self._methods: dict[tuple[str, str], MethodMetrics] = {}

    def method(self, grpc_type: str, full_method: str) -> MethodMetrics:
        key = (grpc_type, full_method)
        method = self._methods.get(key)
        if method is None:
            method = self._methods[key] = MethodMetrics(self._metrics, grpc_type, *split_method(full_method))
        return method
