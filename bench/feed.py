"""The run changes feed (SPEC §12) under the fan-out bench's wave: M runs each changing three
times (RUNNABLE → STARTING → RUNNING → SUCCEEDED), the M changes of each step within one second,
delivered by events (the fake endpoint's SQS queue) to K WatchRunChanges consumers. Prints, per
K: change → consumer delay (p50, p99), messages per change, server CPU per delivered change.

    python -m bench.feed --runs 10000 --consumers 1,100
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time

import grpc
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync.platform.v1 import platform_service_pb2_grpc

from bench.fake_batch import STATES, change_time
from bench.harness import cpu_seconds, percentile, start, stop

CHANNELS = 10


async def run(runs: int, consumers: int, first: float, period: float) -> dict:
    start_at = time.time()
    fake, fake_port = start(
        "bench.fake_batch", "--jobs", str(runs), "--start", str(start_at), "--first", str(first),
        "--period", str(period), "--events",
    )  # fmt: skip
    server, port = start("bench.server", "--endpoint", f"http://127.0.0.1:{fake_port}", "--events", "--interval", "5")
    channels = [grpc.aio.insecure_channel(f"127.0.0.1:{port}") for _ in range(CHANNELS)]
    delays: list[float] = []
    messages = changes = 0
    done = asyncio.Event()
    terminal: list[set[str]] = [set() for _ in range(consumers)]

    async def consume(n: int) -> None:
        nonlocal messages, changes
        stub = platform_service_pb2_grpc.PlatformServiceStub(channels[n % CHANNELS])
        async for message in stub.WatchRunChanges(pb.WatchRunChangesRequest(platform="bench")):
            received = time.time()
            if message.heartbeat:
                continue
            messages += 1
            for change in message.changes:
                status = change.run.native_status
                if status not in STATES[1:]:
                    continue
                changes += 1
                index = int(change.run.run_id.split("-")[1])
                delays.append(received - change_time(start_at, first, period, index, STATES.index(status) - 1))
                if status == "SUCCEEDED":
                    terminal[n].add(change.run.run_id)
            if all(len(t) >= runs for t in terminal):
                done.set()

    try:
        tasks = [asyncio.ensure_future(consume(n)) for n in range(consumers)]
        await asyncio.sleep(max(0.0, start_at + first - time.time()))
        cpu_before, window_start = cpu_seconds(server.pid), time.time()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), 2 * period + 30)
        cpu = cpu_seconds(server.pid) - cpu_before
        window = time.time() - window_start
        for task in tasks:
            task.cancel()
        return {
            "bench": "feed",
            "runs": runs,
            "consumers": consumers,
            "changes_delivered": changes,
            "changes_expected": 3 * runs * consumers,
            "messages": messages,
            "messages_per_change": round(messages / max(1, changes), 4),
            "delay_p50_s": round(percentile(delays, 50), 2),
            "delay_p99_s": round(percentile(delays, 99), 2),
            "cpu_us_per_change": round(cpu / max(1, changes) * 1e6, 1),
            "window_s": round(window, 1),
        }
    finally:
        for channel in channels:
            await channel.close()
        stop(server)
        stop(fake)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10000)
    parser.add_argument("--consumers", default="1,100")
    parser.add_argument("--first", type=float, default=20.0, help="seconds before the first wave")
    parser.add_argument("--period", type=float, default=8.0, help="seconds between waves")
    args = parser.parse_args()
    for consumers in [int(c) for c in args.consumers.split(",")]:
        print(json.dumps(await run(args.runs, consumers, args.first, args.period)), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
