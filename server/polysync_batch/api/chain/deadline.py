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
        seconds = call.context.time_remaining()
        # Without a deadline (most watch streams) there is nothing to set: the call's task
        # starts without one, and a context change per stream costs memory for its lifetime.
        if seconds is not None or deadline.remaining() is not None:
            call.deadline = deadline.set_remaining(seconds)

    @staticmethod
    def exit(call: Call) -> None:
        if call.deadline is not None:
            deadline.reset(call.deadline)
            call.deadline = None
