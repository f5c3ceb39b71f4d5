"""One log event per RPC (event "rpc"): method, platform, code, duration and, where present,
run_id, request_id, pipeline, caller and the error reason. Request fields are cut to 256
characters (the formatters escape them), and a call that needed a caller and has none (refused
UNAUTHENTICATED) logs none of them: a stranger cannot write more than a short line."""

from __future__ import annotations

import logging
import time

from polysync_batch.api.chain.call import Call, Method
from polysync_batch.api.chain.step import Step
from polysync_batch.observability.logging import bounded

log = logging.getLogger("polysync_batch.rpc")
# Request fields worth a log line; never secrets (the contract has none in requests).
LOGGED_FIELDS = ("platform", "run_id", "request_id", "pipeline")


class AccessLog(Step):
    name = "access_log"

    def __init__(self, default_platform: str | None = None) -> None:
        self._default_platform = default_platform or "-"  # what a request naming no platform gets

    def bind(self, method: Method) -> AccessLog | None:
        """Health probes and reflection are not worth a line each."""
        return None if method.service.startswith("grpc.") else self

    def exit(self, call: Call) -> None:
        if not log.isEnabledFor(logging.INFO):  # the line would be dropped: build nothing
            return
        fields = {
            "event": "rpc",
            "method": call.method.name,
            "platform": self._default_platform,
            "code": call.code,
            "duration_ms": round((time.perf_counter() - call.started) * 1000, 1),
        }
        if call.caller is not None or not call.method.needs_caller:
            for name in LOGGED_FIELDS:
                value = getattr(call.request, name, "")
                if isinstance(value, str) and value:
                    fields[name] = bounded(value)
        for name, value in call.fields.items():
            fields[name] = bounded(value) if isinstance(value, str) else value
        log.info("rpc", extra={"fields": fields})
