"""One call as the steps of the chain see it: its method, request, context and what the steps
learn about it (the caller, the fields of its log line, its final status)."""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

import grpc
from grpc_health.v1 import health_pb2

HEALTH_SERVICE = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
# Services any caller may use without being identified (probes: SPEC §8.2).
OPEN_SERVICES = frozenset({HEALTH_SERVICE})


def split_method(full_method: str) -> tuple[str, str]:
    """("polysync.platform.v1.PlatformService", "GetPipelineRun") from "/pkg.Service/Method"."""
    service, _, method = full_method.lstrip("/").rpartition("/")
    return service, method


class Method:
    """One method of one service, as the steps bind to it (once per method, not per call)."""

    __slots__ = ("service", "name", "full", "kind", "open", "needs_caller")

    def __init__(self, full: str, kind: str) -> None:
        self.full = full
        self.service, self.name = split_method(full)
        self.kind = kind  # "unary", "server_stream" or "bidi"
        self.open = self.service in OPEN_SERVICES  # needs no caller, ever (Health)
        self.needs_caller = False  # set by the chain: a step identifies its callers


class Call:
    """What the steps know about one call. A step that needs state of its own keeps it in
    `notes` (made on first use), so a new step needs no change here."""

    __slots__ = (
        "method",
        "request",
        "context",
        "started",
        "fields",
        "caller",
        "code",
        "task",
        "waiting",
        "ending",
        "deadline",
        "held",
        "reached",
        "notes",
    )

    def __init__(self, method: Method, request: Any, context: grpc.aio.ServicerContext, started: float) -> None:
        self.method = method
        self.request = request  # None for a bidi call (its requests are a stream)
        self.context = context
        self.started = started  # time.perf_counter() when the call reached the chain
        self.fields: dict[str, str] = {}  # for the access log: caller, reason, …
        self.caller: Any = None  # the identified caller (security.callers.Caller), if any
        self.code: str | None = None  # the final status, as grpc.StatusCode names it
        self.task: asyncio.Task | None = asyncio.current_task()
        self.waiting = False  # inside the handler (or waiting for its next message)
        self.ending: Exception | None = None  # set by end(): the error the call ends with
        self.deadline: contextvars.Token | None = None
        self.held: str | None = None  # the stream slot it holds
        self.reached = 0  # how many steps it got past (their enter, if any, returned)
        self.notes: dict[str, Any] | None = None

    def end(self, error: Exception) -> None:
        """Ends the call with `error` as soon as it is waiting (from another task: shutdown)."""
        self.ending = error
        if self.waiting and self.task is not None:
            self.task.cancel()


# Each RPC runs in a task of its own, so a context variable is per call.
current_call: contextvars.ContextVar[Call | None] = contextvars.ContextVar("current_call", default=None)
# The identified caller's name (set by the identify step); None without caller auth. For code
# below the API that must tell callers apart without knowing the chain (the DescribeJobs shares).
current_caller: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_caller", default=None)
