"""RPC metrics in the go-grpc-prometheus convention (SPEC §8.3): started, handled (by Go's
code name), handling seconds and messages sent, for unary and server-streaming calls of every
service on the port. The outermost step, so it sees every call; its `exit` runs before the
status is sent, so a scrape made after a caller got its answer counts that call. Label
children are bound once per method, so a call costs two counter increments, one histogram
observation and one more for each message sent."""

from __future__ import annotations

import time
from typing import Any

from polysync_batch.api.chain.call import Call, Method
from polysync_batch.api.chain.step import Step
from polysync_batch.observability.metrics import GO_CODE_NAMES, RpcMetrics


class MethodMetrics:
    """The label children of one (type, service, method), bound once."""

    __slots__ = ("labels", "started", "_sent", "handling", "_handled", "_metrics", "_unary")

    def __init__(self, metrics: RpcMetrics, method: Method) -> None:
        self.labels = (method.kind, method.service, method.name)
        self._metrics = metrics
        self._unary = method.kind == "unary"
        self.started = metrics.started.labels(*self.labels)
        self._sent = metrics.sent.labels(*self.labels)
        self.handling = metrics.handling.labels(*self.labels)
        self._handled: dict[str, Any] = {}

    def enter(self, call: Call) -> None:
        self.started.inc()

    def sent(self, call: Call) -> None:
        self._sent.inc()

    def exit(self, call: Call) -> None:
        code = GO_CODE_NAMES.get(call.code or "UNKNOWN", "Unknown")
        handled = self._handled.get(code)
        if handled is None:
            handled = self._handled[code] = self._metrics.handled.labels(*self.labels, code)
        handled.inc()
        if self._unary and code == "OK":
            self._sent.inc()
        self.handling.observe(time.perf_counter() - call.started)


class Metrics(Step):
    name = "metrics"

    def __init__(self, metrics: RpcMetrics) -> None:
        self.rpc = metrics

    def bind(self, method: Method) -> MethodMetrics | None:
        return None if method.kind == "bidi" else MethodMetrics(self.rpc, method)
