"""Per-caller cap on concurrent watch streams, so one client cannot exhaust the server."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator

import grpc

from polysync_batch.api.interceptors import current_caller
from polysync_batch.domain import errors


def caller_of(context: grpc.aio.ServicerContext) -> str:
    """The caller's identity for limits: the identified caller (e.g. "caller:scheduler") when
    caller authentication is configured, else its address without the port ("ipv4:10.0.0.7")."""
    if (caller := current_caller.get()) is not None:
        return f"caller:{caller}"
    peer = context.peer() or "unknown"
    kind, _, rest = peer.partition(":")
    host = rest.rsplit(":", 1)[0] if kind in ("ipv4", "ipv6") else rest
    return f"{kind}:{host}"


class StreamLimiter:
    def __init__(self, max_per_caller: int) -> None:
        self.max_per_caller = max_per_caller
        self._open: Counter[str] = Counter()

    @contextlib.contextmanager
    def hold(self, caller: str) -> Iterator[None]:
        if self._open[caller] >= self.max_per_caller:
            raise errors.too_many_streams(caller, self._open[caller], self.max_per_caller)
        self._open[caller] += 1
        try:
            yield
        finally:
            self._open[caller] -= 1
            if not self._open[caller]:
                del self._open[caller]
