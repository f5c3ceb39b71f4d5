"""Every RPC's cross-cutting steps, run in one wrapper per call, outermost first:

    [metrics →] access log → error mapping → [caller auth →] deadline → the handler

Each step lives in a module of its own (metrics.py, access_log.py, errors.py, auth.py,
domain/deadline.py); this one only runs them in that order. One wrapper rather than one
interceptor per step: every grpc.aio interceptor wraps the behaviour again, and a
server-streaming call then pays one more async generator (about 0.9 KiB) and one more hop per
message for each. Tracing (OpenTelemetry's own interceptor) stays outside, around it all."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc

from polysync_batch.api.interceptors import Behavior, CallRecord, is_streaming, rewrap, split_method
from polysync_batch.api.interceptors.access_log import AccessLog
from polysync_batch.api.interceptors.auth import Admit, Auth
from polysync_batch.api.interceptors.errors import abort, refuse_undecodable, tolerant
from polysync_batch.api.interceptors.metrics import MethodMetrics, RpcRecorder
from polysync_batch.domain import deadline
from polysync_batch.security.callers import Caller


class CallChain(grpc.aio.ServerInterceptor):
    def __init__(self, access_log: AccessLog, metrics: RpcRecorder | None = None, auth: Auth | None = None) -> None:
        self.access_log = access_log
        self.metrics = metrics
        self.auth = auth

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        service, method = split_method(handler_call_details.method)
        admit = self.auth.admission(service, method, handler_call_details) if self.auth is not None else None
        steps = _Steps(self, handler_call_details.method, service, method, admit)
        return rewrap(handler, unary=steps.unary, stream=steps.stream, bidi=steps.bidi, deserializer=tolerant)


class _Steps:
    """The steps for one call of one method."""

    __slots__ = ("_chain", "_full_method", "_service", "_method", "_admit", "_logged")

    def __init__(self, chain: CallChain, full_method: str, service: str, method: str, admit: Admit | None) -> None:
        self._chain = chain
        self._full_method = full_method
        self._service = service
        self._method = method
        self._admit = admit
        self._logged = chain.access_log.logs(service)

    def _begin(self, timing: MethodMetrics | None, request: Any) -> tuple[float, tuple[CallRecord, float] | None]:
        """Metrics' start, then the access log's record (the steps after it add to the record)."""
        measured = timing.begin() if timing is not None else 0.0
        return measured, self._chain.access_log.begin(self._service, self._method, request) if self._logged else None

    def _end(
        self,
        timing: MethodMetrics | None,
        measured: float,
        record: tuple[CallRecord, float] | None,
        context: grpc.aio.ServicerContext,
        failed: BaseException | None,
    ) -> None:
        """The access log's line, then metrics: both see the call's final status."""
        if record is not None:
            self._chain.access_log.end(*record, context, failed)
        if timing is not None:
            timing.end(measured, context, failed)

    async def _admitted(self, request: Any, context: grpc.aio.ServicerContext) -> Caller | None:
        if self._admit is None:  # no caller needed: the request's bytes are judged at once
            refuse_undecodable(request)
            return None
        return await self._admit(request, context)

    def unary(self, behavior: Behavior, grpc_type: str = "unary") -> Behavior:
        chain = self._chain
        timing = chain.metrics.method(grpc_type, self._full_method) if chain.metrics is not None else None

        async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> Any:
            measured, record = self._begin(timing, request)
            failed = None
            try:
                try:
                    await self._admitted(request, context)
                    token = deadline.set_remaining(context.time_remaining())
                    try:
                        response = await behavior(request, context)
                    finally:
                        deadline.reset(token)
                    if timing is not None and grpc_type == "unary":
                        timing.sent.inc()
                    return response
                except grpc.aio.AbortError:
                    raise
                except Exception as exc:
                    await abort(context, exc)
            except BaseException as exc:
                failed = exc
                raise
            finally:
                self._end(timing, measured, record, context, failed)

        return wrapped

    def stream(self, behavior: Behavior) -> Behavior:
        if not is_streaming(behavior):  # writes with context.write (grpc's health Watch)
            return self.unary(behavior, "server_stream")
        chain = self._chain
        timing = chain.metrics.method("server_stream", self._full_method) if chain.metrics is not None else None

        async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            measured, record = self._begin(timing, request)
            failed = None
            try:
                try:
                    caller = await self._admitted(request, context)
                    deadline.set_remaining(context.time_remaining())  # the generator runs in the call's own task
                    messages = behavior(request, context)
                    if caller is not None:
                        messages = chain.auth.for_its_lifetime(caller, messages)
                    async for message in messages:
                        if timing is not None:
                            timing.sent.inc()
                        yield message
                except grpc.aio.AbortError:
                    raise
                except Exception as exc:
                    await abort(context, exc)
            except BaseException as exc:
                failed = exc
                raise
            finally:
                self._end(timing, measured, record, context, failed)

        return wrapped

    def bidi(self, behavior: Behavior) -> Behavior:
        """Stream-stream (reflection): a caller, no platform; typed errors mapped; no metrics or log line."""
        if not is_streaming(behavior):
            return self.unary(behavior)
        chain = self._chain

        async def wrapped(request_iterator: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            try:
                caller = await self._admit(None, context) if self._admit is not None else None
                messages = behavior(request_iterator, context)
                if caller is not None:
                    messages = chain.auth.for_its_lifetime(caller, messages)
                async for message in messages:
                    yield message
            except grpc.aio.AbortError:
                raise
            except Exception as exc:
                await abort(context, exc)

        return wrapped
