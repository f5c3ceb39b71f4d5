"""The caller's deadline, visible to the use cases and the AWS adapters without grpc: set per
call by the call chain's deadline step (api/chain/deadline.py), read before starting any AWS call so a call whose
deadline has passed starts none."""

from __future__ import annotations

import contextvars
import time

from polysync_batch.domain import errors

# time.monotonic() by which the call must be done; None: the caller set no deadline.
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("deadline", default=None)


def set_remaining(seconds: float | None) -> contextvars.Token:
    return _deadline.set(None if seconds is None else time.monotonic() + seconds)


def reset(token: contextvars.Token) -> None:
    _deadline.reset(token)


def without_deadline() -> contextvars.Context:
    """A copy of the current context (trace span included) without the caller's deadline: for
    work shared by many callers, such as one batched DescribeJobs, which no single caller's
    deadline may cut short."""
    context = contextvars.copy_context()
    context.run(_deadline.set, None)
    return context


def remaining() -> float | None:
    """Seconds left, or None without a deadline."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


def check(operation: str) -> None:
    """Raises DEADLINE_EXCEEDED when the deadline has passed, so `operation` is not started."""
    left = remaining()
    if left is not None and left <= 0:
        raise errors.deadline_exceeded(operation)
