"""The caller's deadline, made visible to the use cases and the AWS adapters for the call's
duration (domain/deadline.py), so a call whose deadline has passed starts no AWS call."""

from __future__ import annotations

from polysync_batch.api.chain.call import Call
from polysync_batch.api.chain.step import Step
from polysync_batch.domain import deadline


class Deadline(Step):
    name = "deadline"

    @staticmethod
    def enter(call: Call) -> None:
        call.deadline = deadline.set_remaining(call.context.time_remaining())

    @staticmethod
    def exit(call: Call) -> None:
        if call.deadline is not None:
            deadline.reset(call.deadline)
            call.deadline = None
