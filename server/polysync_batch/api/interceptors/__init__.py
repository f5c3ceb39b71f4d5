"""Cross-cutting work on every RPC: each step in a module of its own, run in order by one
grpc.aio interceptor, the call chain (chain.py): [metrics →] access log → errors → [auth →]
deadline → the handler (tracing's own interceptor is outside it). A step inside `errors`
(auth, deadline) raises typed errors, so they are mapped like any other."""

from __future__ import annotations

import contextvars
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc

Behavior = Callable[..., Any]


@dataclass
class CallRecord:
    """What the steps learn about one call, for the access log."""

    method: str  # e.g. "GetPipelineRun"
    service: str  # e.g. "polysync.platform.v1.PlatformService"
    fields: dict[str, str] = field(default_factory=dict)  # platform, run_id, request_id, caller, reason


# Each RPC runs in a task of its own, so a context variable is per call.
current_call: contextvars.ContextVar[CallRecord | None] = contextvars.ContextVar("current_call", default=None)
# The identified caller of this call (set by the auth step); None without caller auth.
current_caller: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_caller", default=None)


def split_method(full_method: str) -> tuple[str, str]:
    """("polysync.platform.v1.PlatformService", "GetPipelineRun") from "/pkg.Service/Method"."""
    service, _, method = full_method.lstrip("/").rpartition("/")
    return service, method


_CODE_NAMES = {code.value[0]: code.name for code in grpc.StatusCode}


def status_name(context: grpc.aio.ServicerContext, failed: BaseException | None) -> str:
    """The call's final status as grpc.StatusCode names it ("OK", "NOT_FOUND", …), once its
    behaviour has returned or raised `failed`."""
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code.name
    if isinstance(code, int):
        return _CODE_NAMES.get(code, "UNKNOWN")
    return "CANCELLED" if failed is not None else "OK"


def is_streaming(behavior: Behavior) -> bool:
    """Whether a server-streaming behaviour yields its messages (rather than awaiting
    context.write, as grpc's own health servicer does)."""
    return inspect.isasyncgenfunction(behavior)


def rewrap(
    handler: grpc.RpcMethodHandler | None,
    *,
    unary: Callable[[Behavior], Behavior],
    stream: Callable[[Behavior], Behavior],
    bidi: Callable[[Behavior], Behavior] | None = None,
    deserializer: Callable[[Any], Any] | None = None,
) -> grpc.RpcMethodHandler | None:
    """The handler with its unary-unary or unary-stream behaviour wrapped (and, optionally, its
    request deserializer); a stream-stream one (reflection) wrapped by `bidi` when given, its
    deserializer kept. Other client-streaming handlers pass unchanged."""
    if handler is None:
        return None
    if handler.stream_stream is not None:
        if bidi is None:
            return handler
        return grpc.stream_stream_rpc_method_handler(
            bidi(handler.stream_stream),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
    request_deserializer = handler.request_deserializer
    if deserializer is not None and request_deserializer is not None:
        request_deserializer = deserializer(request_deserializer)
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(
            unary(handler.unary_unary),
            request_deserializer=request_deserializer,
            response_serializer=handler.response_serializer,
        )
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(
            stream(handler.unary_stream),
            request_deserializer=request_deserializer,
            response_serializer=handler.response_serializer,
        )
    return handler
