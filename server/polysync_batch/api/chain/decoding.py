"""Requests whose bytes are not the method's message become INVALID_ARGUMENT (instead of grpc's
UNKNOWN). Placed after the caller is identified, so a stranger learns nothing but
UNAUTHENTICATED. A request to a service that needs no caller (Health) larger than such a request
can be is not decoded at all: a stranger's 4 MB service name costs nothing kept."""

from __future__ import annotations

from typing import Any

from polysync_batch.api.chain.call import Call, Method
from polysync_batch.api.chain.step import Deserializer, Step
from polysync_batch.domain import errors

MAX_OPEN_REQUEST_BYTES = 1024  # a Health request is one service name


class Undecodable:
    """Stands in for a request whose bytes did not parse (or were too many to try)."""

    __slots__ = ("size",)

    def __init__(self, size: int | None = None) -> None:
        self.size = size  # set: refused for its size


UNDECODABLE = Undecodable()


class Decoding(Step):
    name = "decoding"

    @staticmethod
    def deserializer(method: Method, deserialize: Deserializer) -> Deserializer:
        limit = MAX_OPEN_REQUEST_BYTES if method.open else None

        def tolerant(data: bytes) -> Any:
            if limit is not None and len(data) > limit:
                return Undecodable(len(data))
            try:
                return deserialize(data)
            except Exception:
                return UNDECODABLE

        return tolerant

    @staticmethod
    def enter(call: Call) -> None:
        request = call.request
        if isinstance(request, Undecodable):
            if request.size is not None:
                raise errors.request_too_large(request.size, MAX_OPEN_REQUEST_BYTES)
            raise errors.undecodable_request()
