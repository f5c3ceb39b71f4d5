"""The floor under the watch figures: a bare grpc.aio server whose only work is to send a
pre-serialized message of a PipelineRun's size to every open stream, three times, as a fan-out
of state changes would. Same process layout and /proc readings as watch_fanout.

    python -m bench.grpc_floor --streams 10000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

import grpc

from bench.harness import cpu_seconds, rss_kib, start, stop

METHOD = "/bench.Floor/Watch"
PAYLOAD = b"x" * 420  # about the size of a serialized WatchPipelineRunResponse
ROUNDS = 3


async def serve() -> None:
    tick = asyncio.Condition()
    state = {"round": 0}

    async def watch(request: bytes, context) -> None:
        yield PAYLOAD  # the current state
        seen = 0
        while seen < ROUNDS:
            async with tick:
                await tick.wait_for(lambda seen=seen: state["round"] > seen)
            seen = state["round"]
            yield PAYLOAD

    async def control(request: bytes, context) -> bytes:
        async with tick:
            state["round"] += 1
            tick.notify_all()
        return b""

    handlers = grpc.method_handlers_generic_handler(
        "bench.Floor",
        {
            "Watch": grpc.unary_stream_rpc_method_handler(watch),
            "Next": grpc.unary_unary_rpc_method_handler(control),
        },
    )
    # The same grpc server settings as the service (api/server.py) with room for a 50,000 burst.
    server = grpc.aio.server(
        options=[
            ("grpc.server.max_pending_requests", 60000),
            ("grpc.server.max_pending_requests_hard_limit", 120000),
            ("grpc.server_max_unrequested_time_in_server", 120),
        ]
    )
    server.add_generic_rpc_handlers([handlers])
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    print(f"ready {port}", flush=True)
    await server.wait_for_termination()


async def drive(streams: int) -> dict:
    server, port = start("bench.grpc_floor", "--serve")
    try:
        await asyncio.sleep(1)
        rss_before = rss_kib(server.pid)
        options = [("grpc.use_local_subchannel_pool", 1)]
        channels = [grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=options) for _ in range(20)]
        received = 0
        first = asyncio.Event()
        opened = 0

        async def follow(n: int) -> None:
            nonlocal received, opened
            first_message = True
            async for _ in channels[n % 20].unary_stream(METHOD)(b""):
                received += 1
                if first_message:
                    first_message = False
                    opened += 1
                    if opened == streams:
                        first.set()

        tasks = [asyncio.ensure_future(follow(n)) for n in range(streams)]
        await asyncio.wait_for(first.wait(), timeout=120)
        await asyncio.sleep(1)
        rss_open = rss_kib(server.pid)
        cpu_before, received_before = cpu_seconds(server.pid), received
        nudge = channels[0].unary_unary("/bench.Floor/Next")
        for _ in range(ROUNDS):
            await nudge(b"")
            await asyncio.sleep(2)
        await asyncio.gather(*tasks)
        cpu = cpu_seconds(server.pid) - cpu_before
        delivered = received - received_before
        for channel in channels:
            await channel.close()
        return {
            "bare_grpc_aio_streams": streams,
            "rss_per_stream_kib": round((rss_open - rss_before) / streams, 1),
            "cpu_us_per_message": round(cpu / delivered * 1e6, 1),
            "messages": delivered,
        }
    finally:
        stop(server)


if __name__ == "__main__":
    if "--serve" in sys.argv:
        asyncio.run(serve())
    else:
        parser = argparse.ArgumentParser()
        parser.add_argument("--streams", type=int, default=10000)
        print(json.dumps(asyncio.run(drive(parser.parse_args().streams))))
