"""Runs blocking boto3 calls off the event loop, in a bounded executor, and turns any failure
into the service's typed errors (aws/errors.py). A call whose caller's deadline has passed is
not started."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from polysync_batch.aws import errors as aws_errors
from polysync_batch.domain import deadline, errors

Translate = Callable[[Exception, str, dict[str, str]], errors.PlatformError]


class AwsCaller:
    def __init__(self, executor: Executor | None, platform: str, region: str) -> None:
        self._executor = executor
        self._base = {"platform": platform, "region": region}  # ErrorInfo metadata of every failure

    async def __call__(
        self,
        operation: str,
        fn: Callable[..., Any],
        context: dict[str, str] | None = None,
        *,
        translate: Translate = aws_errors.translate,
        **kwargs: Any,
    ) -> Any:
        """`fn(**kwargs)` in the executor. `context` names what the call was about (queue,
        pipeline, run) for the error's metadata and for picking its NOT_FOUND reason."""
        deadline.check(operation)
        loop = asyncio.get_running_loop()
        # The call's context goes along (as asyncio.to_thread does), so a trace span opened by
        # the botocore instrumentation is a child of the RPC's span.
        call_context = contextvars.copy_context()
        try:
            return await loop.run_in_executor(self._executor, lambda: call_context.run(fn, **kwargs))
        except Exception as exc:
            raise translate(exc, operation, {**self._base, **(context or {})}) from exc
