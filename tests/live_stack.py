"""A live server for client tests in any language: the embedded emulator plus the gRPC server,
driven over stdin/stdout so a Go, TypeScript or Java test can restart the server mid-watch.

    .venv/bin/python -m tests.live_stack   # prints "ready <port>" once serving
    stdin "restart" → the server stops (watch streams end UNAVAILABLE) and serves again on the
                      same port, with the same emulator (jobs survive); prints "ready <port>"
    stdin "quit" or EOF → stops and exits 0

Jobs take about 1.5 s; pass the demo parameter duration_seconds for longer ones.
"""

from __future__ import annotations

import asyncio
import sys

from polysync_batch.api.server import build_server
from polysync_batch.bootstrap import demo_platforms
from polysync_batch.config import ServerConfig, WatchConfig
from polysync_batch.emulator import Lifecycle, start_emulator

LIFECYCLE = Lifecycle(submitted=0.1, pending=0.1, runnable=0.2, starting=0.2, running=1.0)
WATCH = WatchConfig(poll_interval_seconds=0.2, max_poll_interval_seconds=0.5, heartbeat_seconds=5)


async def main() -> int:
    loop = asyncio.get_running_loop()
    with start_emulator(LIFECYCLE) as emulator:
        address = "127.0.0.1:0"
        while True:
            platforms = demo_platforms(emulator, None, WATCH)  # a new process would start afresh too
            running = await build_server(platforms, ServerConfig(address=address, health_check_interval_seconds=0))
            address = f"127.0.0.1:{running.port}"
            print(f"ready {running.port}", flush=True)
            command = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
            await running.stop(1.0)
            if command != "restart":
                return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
