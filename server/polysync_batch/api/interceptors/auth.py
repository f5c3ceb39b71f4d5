"""Caller identity and per-platform access for every call but Health, before its handler runs
(so before any AWS call): a step of the call chain (chain.py), inside the error mapping, so the
typed errors raised here become UNAUTHENTICATED CALLER_UNAUTHENTICATED / PERMISSION_DENIED
CALLER_NOT_ALLOWED like any other.

The access check lives here, once per call: the request message's `platform` names the platform
(empty: the default), so BatchGet and Watch of many runs check it once. A server-streaming call
made with an expiring credential (a JWT, or a client certificate) ends UNAUTHENTICATED when the
credential does."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from cryptography import x509
from grpc_health.v1 import health_pb2

from polysync_batch.api.health import SERVICE_NAME
from polysync_batch.api.interceptors import current_call, current_caller
from polysync_batch.api.interceptors.errors import refuse_undecodable
from polysync_batch.domain import errors
from polysync_batch.domain.access import AccessPolicy, Action
from polysync_batch.security.callers import Authenticator, Caller, Certificate

HEALTH_SERVICE = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
# Methods that only read; anything else on PlatformService (today ExecutePipeline and
# CancelPipelineRun, and any method added later until listed here) needs submit access.
READ_METHODS = frozenset(
    {
        "TestConnection",
        "ListPipelines",
        "GetPipeline",
        "GetPipelineRun",
        "BatchGetPipelineRuns",
        "ListPipelineRuns",
        "WatchPipelineRun",
        "WatchPipelineRuns",
        "StreamPipelineRunLogs",
        "WatchRunChanges",
    }
)


def _metadata(details: grpc.HandlerCallDetails, key: str) -> str | None:
    for name, value in details.invocation_metadata or ():
        if name == key:
            return value if isinstance(value, str) else None
    return None


@functools.lru_cache(maxsize=1024)  # a caller's certificate comes back on every call: parse it once
def _not_after(pem: bytes) -> float | None:
    try:
        return x509.load_pem_x509_certificate(pem).not_valid_after_utc.timestamp()
    except ValueError:
        return None


def _certificate(context: grpc.aio.ServicerContext) -> Certificate | None:
    """The verified client certificate (its subject CN and expiry); None without one."""
    auth = context.auth_context()
    pems = auth.get("x509_pem_cert")
    if not pems and not auth.get("x509_common_name"):
        return None
    names = auth.get("x509_common_name") or [b""]
    return Certificate(names[0].decode("utf-8", "replace"), _not_after(pems[0]) if pems else None)


def _expired(via: str) -> errors.Unauthenticated:
    if via == "certificate":
        return errors.caller_unauthenticated(
            "the client certificate expired during the stream; reconnect with a renewed one", certificates=True
        )
    return errors.caller_unauthenticated("the token expired during the stream; reconnect with a fresh one")


async def _until(caller: Caller, messages: AsyncIterator[Any], clock: Callable[[], float]) -> AsyncIterator[Any]:
    """`messages` until the caller's credential expires, then UNAUTHENTICATED. Everything runs in
    the call's own task (so context variables set by inner wrappers hold across messages): a
    timer cancels that task only while it waits for the next message, and the cancellation is
    taken back and turned into the error."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    state = {"waiting": False, "expired": False, "cancelled": False}

    def expire() -> None:
        state["expired"] = True
        if state["waiting"] and task is not None:
            state["cancelled"] = True
            task.cancel()

    timer = loop.call_later(max(0.0, caller.expires_at - clock()), expire)
    iterator = aiter(messages)
    try:
        while True:
            if state["expired"]:
                raise _expired(caller.via)
            state["waiting"] = True
            try:
                message = await anext(iterator)
            except StopAsyncIteration:
                return
            except asyncio.CancelledError:
                if not state["cancelled"]:
                    raise
                task.uncancel()
                raise _expired(caller.via) from None
            finally:
                state["waiting"] = False
            if state["cancelled"]:  # the inner stream swallowed our cancellation
                task.uncancel()
                raise _expired(caller.via)
            yield message
    finally:
        timer.cancel()
        await iterator.aclose()


Admit = Callable[[Any, grpc.aio.ServicerContext], Awaitable[Caller]]


class Auth:
    def __init__(
        self,
        authenticator: Authenticator,
        access: AccessPolicy,
        *,
        certificates: bool,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._authenticator = authenticator
        self._access = access
        self._certificates = certificates
        self._clock = clock

    def admission(self, service: str, method: str, details: grpc.HandlerCallDetails) -> Admit | None:
        """What admits one call of `method`: identifies its caller (and, on PlatformService,
        checks the platform's access), or raises; None for a call that needs no caller (Health)."""
        if service == HEALTH_SERVICE or not self._authenticator.enabled:
            return None
        action = None
        if service == SERVICE_NAME:
            action = Action.READ if method in READ_METHODS else Action.SUBMIT
        authorization = _metadata(details, "authorization")

        async def admit(request: Any, context: grpc.aio.ServicerContext) -> Caller:
            certificate = _certificate(context) if self._certificates else None
            caller = await self._authenticator.identify(authorization, certificate)
            current_caller.set(caller.name)
            if (record := current_call.get()) is not None:
                record.fields["caller"] = caller.name
            refuse_undecodable(request)  # only now: a stranger's bad bytes are UNAUTHENTICATED above
            if action is not None:
                self._access.check(caller.name, getattr(request, "platform", ""), action)
            return caller

        return admit

    def for_its_lifetime(self, caller: Caller, messages: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """A stream's messages while its caller's credential lasts (a JWT, a certificate)."""
        return messages if caller.expires_at is None else _until(caller, messages, self._clock)
