"""`make fuzz`: random requests (tests/fuzzing.py) against a live demo server, printing the
count of each status code and every answer that is not a deliberate status.

    .venv/bin/python -m bench.fuzz --requests 100000 --concurrency 64
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import random
import time

import grpc

from tests.fuzzing import SERVICE, problem, random_call
from tests.support import start_serve, wait_for_port


async def fuzz(target: str, requests: int, concurrency: int, seed: int) -> dict:
    rng = random.Random(seed)
    calls = [random_call(rng) for _ in range(requests)]
    codes: collections.Counter[str] = collections.Counter()
    problems: list[str] = []
    queue = iter(calls)

    async with grpc.aio.insecure_channel(target) as channel:

        async def worker() -> None:
            for method, body in queue:
                path = f"/{SERVICE.full_name}/{method.name}"
                try:
                    if method.server_streaming:
                        async for _ in channel.unary_stream(path)(body, timeout=0.3):
                            pass
                    else:
                        await channel.unary_unary(path)(body, timeout=10)
                    codes["OK"] += 1
                except grpc.aio.AioRpcError as error:
                    codes[error.code().name] += 1
                    found = problem(error.code(), error.details())
                    if found and not (error.code() == grpc.StatusCode.DEADLINE_EXCEEDED and method.server_streaming):
                        problems.append(f"{method.name}: {found}")

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.monotonic() - started
    return {
        "requests": requests,
        "seconds": round(elapsed, 1),
        "per_second": round(requests / elapsed),
        "codes": dict(codes.most_common()),
        "unknown": codes["UNKNOWN"],
        "internal": codes["INTERNAL"],
        "problems": problems[:20],
        "problem_count": len(problems),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--seed", type=int, default=20261201)
    args = parser.parse_args()
    # The demo's poll interval only matters to watches; a rate budget high enough for the load.
    process = start_serve(
        "--address",
        "127.0.0.1:0",
        env={"POLYSYNC_BATCH_CONFIG": "", "POLYSYNC_BATCH_WATCH__DESCRIBE_JOBS_PER_SECOND": "50"},
    )
    try:
        target = f"127.0.0.1:{wait_for_port(process)}"
        result = asyncio.run(fuzz(target, args.requests, args.concurrency, args.seed))
    finally:
        process.terminate()
        process.wait(timeout=30)
    print(json.dumps(result))
    return 1 if result["problem_count"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
