"""watch_run: follows one run to its terminal state across server restarts."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable

import grpc

from polysync.platform.v1 import pipeline_run_pb2, platform_service_pb2, platform_service_pb2_grpc

OnReconnect = Callable[[int, float, grpc.RpcError], None]


async def watch_run(
    stub: platform_service_pb2_grpc.PlatformServiceStub,
    run_id: str,
    platform: str = "",
    *,
    max_reconnects: int = 12,
    initial_backoff: float = 0.25,
    max_backoff: float = 10.0,
    on_reconnect: OnReconnect | None = None,
) -> AsyncIterator[pipeline_run_pb2.PipelineRun]:
    """Yields each new state of the run and returns after its terminal state.

    When the stream fails with UNAVAILABLE (a server restart or shutdown) it reconnects after
    an exponential, jittered backoff; the server sends the current state first on every new
    stream, so nothing is missed except intermediate states. Heartbeats and a state identical
    to the last one yielded are skipped. `max_reconnects` counts consecutive failures; other
    errors are raised as they are.
    """
    request = platform_service_pb2.WatchPipelineRunRequest(platform=platform, run_id=run_id)
    last: pipeline_run_pb2.PipelineRun | None = None
    failures = 0
    while True:
        try:
            async for event in stub.WatchPipelineRun(request):
                failures = 0
                if event.heartbeat or event.run == last:
                    continue
                last = event.run
                yield event.run
                if event.run.terminal:
                    return
            if last is not None and last.terminal:
                return
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.UNAVAILABLE or failures >= max_reconnects:
                raise
            delay = min(max_backoff, initial_backoff * 2 ** failures) * random.uniform(0.8, 1.2)
            failures += 1
            if on_reconnect is not None:
                on_reconnect(failures, delay, error)
            await asyncio.sleep(delay)
