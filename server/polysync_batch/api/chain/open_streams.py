"""Every open stream (server streams of every service, reflection's too), so that shutdown can
end them all at once (SPEC §8.5): each ends with the error it is given, UNAVAILABLE
SERVER_SHUTTING_DOWN, within a moment rather than after the grace period; a stream opened
after that is refused with the same error."""

from __future__ import annotations

from polysync_batch.api.chain.call import Call, Method
from polysync_batch.api.chain.step import Step
from polysync_batch.domain import errors


class OpenStreams(Step):
    name = "open_streams"

    def __init__(self) -> None:
        self._calls: set[Call] = set()
        self._closing: errors.PlatformError | None = None

    def bind(self, method: Method) -> OpenStreams | None:
        return None if method.kind == "unary" else self

    def enter(self, call: Call) -> None:
        if self._closing is not None:
            raise self._closing
        self._calls.add(call)

    def exit(self, call: Call) -> None:
        self._calls.discard(call)

    def end_all(self, error: errors.PlatformError) -> None:
        self._closing = error
        for call in list(self._calls):
            call.end(error)

    def __len__(self) -> int:
        return len(self._calls)
