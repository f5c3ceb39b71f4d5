"""Makes each call's deadline (gRPC's time_remaining) visible to the use cases and AWS adapters
(domain/deadline.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc

from polysync_batch.api.interceptors import Behavior, is_streaming, rewrap
from polysync_batch.domain import deadline


def _unary(behavior: Behavior) -> Behavior:
    async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> Any:
        token = deadline.set_remaining(context.time_remaining())
        try:
            return await behavior(request, context)
        finally:
            deadline.reset(token)
    return wrapped


def _stream(behavior: Behavior) -> Behavior:
    if not is_streaming(behavior):
        return _unary(behavior)

    async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        deadline.set_remaining(context.time_remaining())  # the generator runs in the call's own task
        async for message in behavior(request, context):
            yield message
    return wrapped


class DeadlineInterceptor(grpc.aio.ServerInterceptor):
    async def intercept_service(self, continuation, handler_call_details):  # noqa: ANN001 — grpc's signature
        return rewrap(await continuation(handler_call_details), unary=_unary, stream=_stream)
