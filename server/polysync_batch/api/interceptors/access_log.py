"""One log event per RPC (event "rpc"): method, platform, code, duration and, where present,
run_id, request_id, pipeline, caller and the error reason — whatever the call's CallRecord
collected. A step of the call chain (chain.py)."""

from __future__ import annotations

import logging
import time
from typing import Any

import grpc

from polysync_batch.api.interceptors import CallRecord, current_call, status_name

log = logging.getLogger("polysync_batch.rpc")
# Request fields worth a log line; never secrets (the contract has none in requests).
LOGGED_FIELDS = ("platform", "run_id", "request_id", "pipeline")


class AccessLog:
    def __init__(self, default_platform: str | None = None) -> None:
        self._default_platform = default_platform or "-"  # what a request naming no platform gets

    @staticmethod
    def logs(service: str) -> bool:
        """Health probes and reflection are not worth a line each."""
        return not service.startswith("grpc.")

    @staticmethod
    def begin(service: str, method: str, request: Any) -> tuple[CallRecord, float]:
        """The call's record (the other steps add to it through `current_call`) and its start."""
        record = CallRecord(method, service)
        for name in LOGGED_FIELDS:
            value = getattr(request, name, "")
            if isinstance(value, str) and value:
                record.fields[name] = value
        current_call.set(record)
        return record, time.monotonic()

    def end(
        self, record: CallRecord, started: float, context: grpc.aio.ServicerContext, failed: BaseException | None
    ) -> None:
        fields = {
            "event": "rpc",
            "method": record.method,
            "platform": record.fields.pop("platform", self._default_platform),
            "code": status_name(context, failed),
            "duration_ms": round((time.monotonic() - started) * 1000, 1),
            **record.fields,
        }
        log.info("rpc", extra={"fields": fields})
