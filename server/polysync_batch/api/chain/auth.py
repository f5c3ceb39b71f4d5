"""Caller identity for every call but Health's, before its handler runs (so before any AWS
call): asks security/callers.py who the caller is (a bearer token, else with mutual TLS the
client certificate's CN), or raises UNAUTHENTICATED CALLER_UNAUTHENTICATED. A server stream
made with an expiring credential (a JWT, a client certificate) ends UNAUTHENTICATED when the
credential does. Per-platform access is the next step (access.py)."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
from cryptography import x509

from polysync_batch.api.chain.call import Call, Method, current_caller
from polysync_batch.api.chain.step import Step
from polysync_batch.domain import errors
from polysync_batch.security.callers import Authenticator, Caller, Certificate


def _metadata(context: grpc.aio.ServicerContext, key: str) -> str | None:
    for name, value in context.invocation_metadata() or ():
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


class Identify(Step):
    name = "identify"
    identifies = True

    def __init__(
        self, authenticator: Authenticator, *, certificates: bool, clock: Callable[[], float] = time.time
    ) -> None:
        self._authenticator = authenticator
        self._certificates = certificates
        self._clock = clock

    def bind(self, method: Method) -> Identify | None:
        return None if method.open or not self._authenticator.enabled else self

    async def enter(self, call: Call) -> None:
        context = call.context
        certificate = _certificate(context) if self._certificates else None
        caller = await self._authenticator.identify(_metadata(context, "authorization"), certificate)
        call.caller = caller
        call.fields["caller"] = caller.name
        current_caller.set(caller.name)

    def messages(self, call: Call, messages: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """A stream's messages while its caller's credential lasts (a JWT, a certificate)."""
        caller = call.caller
        return messages if caller is None or caller.expires_at is None else _until(caller, messages, self._clock)
