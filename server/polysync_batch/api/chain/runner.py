"""The call chain: one grpc.aio interceptor that runs an ordered list of steps (step.py) around
every method of every service on the port, in one wrapper per call: one for calls that return
(unary, and streams written with context.write such as grpc's Health/Watch), one for calls
that yield (server streams, and reflection's bidi stream).

One wrapper rather than one interceptor per step: every grpc.aio interceptor wraps the
behaviour again, and a server-streaming call then pays one more async generator (about
0.9 KiB) and one more hop per message for each (bench/README.md). Tracing (OpenTelemetry's own
interceptor) stays outside, around it all.

Nesting is that of the list: a step's `catch` sees what the steps after it and the handler
raise; `exit` hooks run innermost first, once the status is known and before it is sent, so
metrics and the access log count a call before its caller can see the answer."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import grpc

from polysync_batch.api.chain.call import Call, Method, current_call
from polysync_batch.api.chain.step import Step

_CODE_NAMES = {code.value[0]: code.name for code in grpc.StatusCode}


def status_name(context: grpc.aio.ServicerContext) -> str:
    """The status a handler set itself with context.abort / set_code, by grpc.StatusCode name."""
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code.name
    if isinstance(code, int):
        return _CODE_NAMES.get(code, "UNKNOWN")
    return "UNKNOWN"


def _hook(target: Any, name: str) -> Any:
    """`target`'s hook `name` if its class defines one (Step itself defines none)."""
    return getattr(target, name, None)


@dataclass(frozen=True, slots=True)
class _Bound:
    """The hooks of every step that serves one method, in the order they run."""

    method: Method
    size: int  # how many steps serve the method
    enters: tuple[tuple[int, Any, bool], ...]  # (position, hook, is async)
    messages: tuple[Any, ...]
    sent: tuple[Any, ...]
    answered: tuple[Any, ...]
    catches: tuple[tuple[int, Any], ...]  # innermost first
    exits: tuple[tuple[int, Any], ...]  # innermost first


class CallChain(grpc.aio.ServerInterceptor):
    def __init__(self, steps: Sequence[Step]) -> None:
        self.steps = tuple(steps)
        self._handlers: dict[str, list[tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]]] = {}

    def step(self, name: str) -> Step | None:
        """The step called `name` (its `name` attribute), if the chain has one."""
        return next((step for step in self.steps if getattr(step, "name", None) == name), None)

    @property
    def metrics(self) -> Step | None:
        return self.step("metrics")

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        known = self._handlers.setdefault(method, [])
        for original, wrapped in known:  # the same handler comes back on every call of a method
            if original is handler:
                return wrapped
        wrapped = self._wrap(method, handler)
        known[:] = [*known[-3:], (handler, wrapped)]  # a few: the health port's Health has its own
        return wrapped

    def _bind(self, method: Method) -> _Bound:
        served = [bound for step in self.steps if (bound := step.bind(method)) is not None]
        method.needs_caller = any(getattr(bound, "identifies", False) for bound in served)
        enters, catches, exits = [], [], []
        for position, bound in enumerate(served):
            if (enter := _hook(bound, "enter")) is not None:
                enters.append((position, enter, inspect.iscoroutinefunction(enter)))
            if (catch := _hook(bound, "catch")) is not None:
                catches.append((position, catch))
            if (exit_ := _hook(bound, "exit")) is not None:
                exits.append((position, exit_))
        return _Bound(
            method,
            len(served),
            tuple(enters),
            tuple(h for bound in served if (h := _hook(bound, "messages")) is not None),
            tuple(h for bound in served if (h := _hook(bound, "sent")) is not None),
            tuple(h for bound in served if (h := _hook(bound, "answered")) is not None),
            tuple(reversed(catches)),
            tuple(reversed(exits)),
        )

    def _wrap(self, full_method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        if handler.stream_stream is not None:
            kind, behavior, make = "bidi", handler.stream_stream, grpc.stream_stream_rpc_method_handler
        elif handler.unary_unary is not None:
            kind, behavior, make = "unary", handler.unary_unary, grpc.unary_unary_rpc_method_handler
        elif handler.unary_stream is not None:
            kind, behavior, make = "server_stream", handler.unary_stream, grpc.unary_stream_rpc_method_handler
        else:  # client streaming: no service on the port has one
            return handler
        method = Method(full_method, kind)
        bound = self._bind(method)
        deserializer = handler.request_deserializer
        if kind != "bidi" and deserializer is not None:
            for step in self.steps:
                if (wrap := _hook(step, "deserializer")) is not None:
                    deserializer = wrap(method, deserializer)
        run = _yielding if inspect.isasyncgenfunction(behavior) else _returning
        serializer = handler.response_serializer
        if kind == "server_stream" and serializer is not None:
            serializer = _encoded_or(serializer)
        return make(run(bound, behavior), request_deserializer=deserializer, response_serializer=serializer)


def _encoded_or(serialize: Any) -> Any:
    """A stream may yield its messages already encoded (bytes): the watch streams send one
    state to many streams and encode it once (api/convert.py watch_event_bytes)."""

    def serializer(message: Any) -> bytes:
        return message if message.__class__ is bytes else serialize(message)

    return serializer


async def _enter(bound: _Bound, call: Call) -> None:
    """Runs the enter hooks in order; `call.reached` says how far the call got."""
    for position, enter, is_async in bound.enters:
        call.reached = position
        if is_async:
            await enter(call)
        else:
            enter(call)
    call.reached = bound.size


def _failed(bound: _Bound, call: Call, error: BaseException) -> tuple[grpc.Status | None, BaseException | None]:
    """The status the call ends with, or the exception to pass on to grpc."""
    if isinstance(error, asyncio.CancelledError) and call.ending is not None:
        if call.task is not None:
            call.task.uncancel()  # our own cancellation (Call.end): end with its error instead
        error = call.ending
    if isinstance(error, grpc.aio.AbortError):  # the handler set its own status
        call.code = status_name(call.context)
        return None, error
    if isinstance(error, Exception):
        for at, catch in bound.catches:
            if at < call.reached and (status := catch(call, error)) is not None:
                call.code = status.code.name
                return status, None
        call.code = "UNKNOWN"
        return None, error
    call.code = "CANCELLED"  # the caller went away (or the server is cancelling the call)
    return None, error


def _exit(bound: _Bound, call: Call) -> None:
    """The exit hooks, innermost first, of the steps the call got past."""
    for at, exit_ in bound.exits:
        if at < call.reached:
            exit_(call)


def _returning(bound: _Bound, behavior: Any) -> Any:
    method = bound.method
    bidi = method.kind == "bidi"

    async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> Any:
        call = Call(method, None if bidi else request, context, time.perf_counter())
        current_call.set(call)
        status = passed = response = None
        try:
            await _enter(bound, call)
            if call.ending is not None:
                raise call.ending
            call.waiting = True
            try:
                response = await behavior(request, context)
            finally:
                call.waiting = False
            for answered in bound.answered:
                answered(call, response)
            call.code = "OK"
        except BaseException as error:
            status, passed = _failed(bound, call, error)
        _exit(bound, call)
        if status is not None:
            await context.abort(status.code, status.details, status.trailing_metadata)
        if passed is not None:
            raise passed
        return response

    return wrapped


def _yielding(bound: _Bound, behavior: Any) -> Any:
    method = bound.method
    bidi = method.kind == "bidi"
    sent = bound.sent

    async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        call = Call(method, None if bidi else request, context, time.perf_counter())
        current_call.set(call)
        status = passed = iterator = None
        try:
            await _enter(bound, call)
            messages = behavior(request, context)
            for wrap in bound.messages:
                messages = wrap(call, messages)
            iterator = aiter(messages)
            while True:
                if call.ending is not None:
                    raise call.ending
                call.waiting = True
                try:
                    message = await anext(iterator)
                except StopAsyncIteration:
                    break
                finally:
                    call.waiting = False
                for hook in sent:
                    hook(call)
                yield message
            call.code = "OK"
        except BaseException as error:
            if iterator is not None and (close := getattr(iterator, "aclose", None)) is not None:
                await close()
            status, passed = _failed(bound, call, error)
        _exit(bound, call)
        if status is not None:
            await context.abort(status.code, status.details, status.trailing_metadata)
        if passed is not None:
            raise passed

    return wrapped
