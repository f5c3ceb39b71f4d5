"""Caps on open server streams (SPEC §8.5), every server stream counted: per caller,
`server.max_streams_per_caller` (the identified caller; without caller authentication, the
caller's address); and for streams that need no caller (Health/Watch, on either port), in
total, `server.max_unidentified_streams`. Over a cap: RESOURCE_EXHAUSTED TOO_MANY_STREAMS."""

from __future__ import annotations

from collections import Counter

from polysync_batch.api.chain.call import Call, Method
from polysync_batch.api.chain.step import Step
from polysync_batch.domain import errors

UNIDENTIFIED = ""  # the one key of every stream that needs no caller


def caller_key(call: Call) -> str:
    """ "caller:scheduler" for an identified caller, else its address without the port ("ipv4:10.0.0.7")."""
    if call.caller is not None:
        return f"caller:{call.caller.name}"
    peer = call.context.peer() or "unknown"
    kind, _, rest = peer.partition(":")
    host = rest.rsplit(":", 1)[0] if kind in ("ipv4", "ipv6") else rest
    return f"{kind}:{host}"


class StreamLimits(Step):
    name = "stream_limits"

    def __init__(self, max_per_caller: int, max_unidentified: int) -> None:
        self.max_per_caller = max_per_caller
        self.max_unidentified = max_unidentified
        self._open: Counter[str] = Counter()

    def bind(self, method: Method) -> StreamLimits | None:
        return self if method.kind == "server_stream" else None

    def enter(self, call: Call) -> None:
        if call.method.open:
            key, limit = UNIDENTIFIED, self.max_unidentified
        else:
            key, limit = caller_key(call), self.max_per_caller
        held = self._open[key]
        if held >= limit:
            raise errors.too_many_streams(key, held, limit, identified=key != UNIDENTIFIED)
        self._open[key] = held + 1
        call.held = key

    def exit(self, call: Call) -> None:
        key = call.held
        if key is not None:
            call.held = None
            self._open[key] -= 1
            if not self._open[key]:
                del self._open[key]

    def open_streams(self, key: str) -> int:
        return self._open[key]
