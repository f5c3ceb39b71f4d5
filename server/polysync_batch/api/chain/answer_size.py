"""A unary answer larger than one message may be (server.max_message_bytes, which is also what
grpc lets the server send) is refused INVALID_ARGUMENT, naming what to ask less of, instead of
grpc's opaque "Sent message larger than max" (SPEC §8.5)."""

from __future__ import annotations

from typing import Any

from polysync_batch.api.chain.call import Call, Method
from polysync_batch.api.chain.step import Step
from polysync_batch.domain import errors

# The request field that decides an answer's size, by method.
SIZED_BY = {
    "BatchGetPipelineRuns": "run_ids",
    "ListPipelineRuns": "page_size",
    "ListPipelines": "page_size",
}


class AnswerSize(Step):
    name = "answer_size"

    def __init__(self, max_message_bytes: int) -> None:
        self.limit = max_message_bytes

    def bind(self, method: Method) -> AnswerSize | None:
        return self if method.kind == "unary" else None

    def answered(self, call: Call, response: Any) -> None:
        size = response.ByteSize() if hasattr(response, "ByteSize") else 0
        if size > self.limit:
            raise errors.response_too_large(size, self.limit, SIZED_BY.get(call.method.name, ""))
