"""What a step of the call chain may do. Every hook is optional; a step defines those it needs,
and the chain calls only those (found once per method by `bind`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc

from polysync_batch.api.chain.call import Call, Method


class Step:
    """A step of the chain. Hooks, in the order the chain calls them:

    - `bind(method)`: the object whose hooks serve this method (self, or something per method);
      None: the step does nothing for it. Called once per method.
    - `deserializer(method, deserialize)`: wraps the request deserializer.
    - `enter(call)` (plain or async): before the handler, outermost step first; may raise.
    - `messages(call, messages)`: wraps a stream's messages.
    - `sent(call)`: after each stream message is handed to grpc.
    - `answered(call, response)`: a unary answer before it is sent; may raise.
    - `catch(call, error)`: turns what a later step or the handler raised into a status
      (grpc.Status); None: not this step's business.
    - `exit(call)`: after the call's status is known (`call.code`) and before it is sent,
      innermost step first; only for steps whose `enter` (if any) returned.
    """

    identifies = False  # a step that names the caller (so the chain knows a method needs one)

    def bind(self, method: Method) -> Any:
        return self


Deserializer = Callable[[bytes], Any]
Messages = AsyncIterator[Any]
StatusOf = Callable[[Call, Exception], grpc.Status | None]
