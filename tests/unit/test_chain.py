"""api/chain/runner.py without a server: the steps run in list order, exits innermost first and
before the status is sent, a step's catch sees only what steps after it raise, and a new step is
one class in the list."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from polysync_batch.api.chain.errors import ErrorMapping
from polysync_batch.api.chain.runner import CallChain
from polysync_batch.api.chain.step import Step
from polysync_batch.domain import errors


class Context:
    def __init__(self, events: list[str]) -> None:
        self.events = events

    def code(self):
        return None

    def time_remaining(self):
        return None

    def invocation_metadata(self):
        return ()

    def peer(self):
        return "ipv4:127.0.0.1:1"

    async def abort(self, code, details="", trailing_metadata=()):
        self.events.append(f"sent {code.name}")
        raise grpc.aio.AbortError()


class Recording(Step):
    def __init__(self, name: str, events: list[str], fail: bool = False) -> None:
        self.name = name
        self.events = events
        self.fail = fail

    def enter(self, call) -> None:
        self.events.append(f"enter {self.name}")
        if self.fail:
            raise errors.run_not_found("r", "p")

    def exit(self, call) -> None:
        self.events.append(f"exit {self.name} {call.code}")


class Details:
    method = "/polysync.platform.v1.PlatformService/GetPipelineRun"
    invocation_metadata = ()


async def handler_of(chain: CallChain, behavior) -> grpc.RpcMethodHandler:
    async def continuation(details):
        return grpc.unary_unary_rpc_method_handler(behavior)

    return await chain.intercept_service(continuation, Details)


async def test_steps_run_in_order_and_exit_before_the_answer_leaves():
    events: list[str] = []

    async def behavior(request, context):
        events.append("handler")
        return "answer"

    chain = CallChain([Recording("outer", events), ErrorMapping(), Recording("inner", events)])
    handler = await handler_of(chain, behavior)
    assert await handler.unary_unary("request", Context(events)) == "answer"
    assert events == ["enter outer", "enter inner", "handler", "exit inner OK", "exit outer OK"]


async def test_a_failing_step_is_mapped_by_the_error_step_before_it_and_its_own_exit_is_skipped():
    events: list[str] = []

    async def behavior(request, context):
        raise AssertionError("not reached")

    chain = CallChain([Recording("outer", events), ErrorMapping(), Recording("inner", events, fail=True)])
    handler = await handler_of(chain, behavior)
    with pytest.raises(grpc.aio.AbortError):
        await handler.unary_unary("request", Context(events))
    assert events == ["enter outer", "enter inner", "exit outer NOT_FOUND", "sent NOT_FOUND"]


async def test_the_wrapped_handler_is_made_once_per_method():
    async def behavior(request, context):
        return request

    chain = CallChain([ErrorMapping()])
    original = grpc.unary_unary_rpc_method_handler(behavior)

    async def continuation(details):
        return original

    first = await chain.intercept_service(continuation, Details)
    assert await chain.intercept_service(continuation, Details) is first
    assert await first.unary_unary("x", Context([])) == "x"


def test_a_cancelled_call_ends_cancelled():
    events: list[str] = []

    async def behavior(request, context):
        await asyncio.sleep(10)

    async def run():
        chain = CallChain([Recording("outer", events), ErrorMapping()])
        handler = await handler_of(chain, behavior)
        task = asyncio.ensure_future(handler.unary_unary("r", Context(events)))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run())
    assert events == ["enter outer", "exit outer CANCELLED"]
