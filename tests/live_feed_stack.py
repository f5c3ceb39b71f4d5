"""A live server whose process a client test can kill for real (SPEC §12's feed helpers across a
restart): the embedded emulator in this process, and `polysync-batch serve` as a child process
configured against it, as an operator runs it, so killing the server leaves AWS (the emulator)
and its jobs as they are.

    .venv/bin/python -m tests.live_feed_stack [--history]
        prints "ready <port>" once the server serves
    stdin "kill"  → SIGKILL the server process, start a new one on the same port; "ready <port>"
    stdin "jobs"  → "jobs <JSON object: job id → status>" of every job of the demo queue
    stdin "quit" or EOF → stops the server (SIGTERM) and exits 0

With --history the demo platform keeps the feed's history in the emulator's DynamoDB table (what
`polysync-batch serve` does for its demo), so a cursor outlives the process; without it the
history lives in the process and a cursor of the killed one is CURSOR_EXPIRED.

Python tests use FeedStack directly (a context manager).
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from polysync_batch.emulator import start_emulator

from tests.live_stack import LIFECYCLE
from tests.support import start_serve, wait_for_port

STATUSES = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FeedStack:
    """The emulator here, the server in a child process on a fixed 127.0.0.1 port."""

    def __init__(self, *, history: bool) -> None:
        self.history = history
        self.port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.emulator = start_emulator(LIFECYCLE)
        self._temp = tempfile.TemporaryDirectory(prefix="live-feed-stack-")
        self._config = Path(self._temp.name) / "polysync-batch.toml"
        table = f'history_table = "{self.emulator.history_table}"' if history else ""
        self._config.write_text(f"""
[server]
address = "{self.address}"
health_check_interval_seconds = 0
shutdown_grace_seconds = 1
reuse_port = true

[watch]
poll_interval_seconds = 0.2
max_poll_interval_seconds = 0.5
heartbeat_seconds = 2

[platforms.demo]
region = "{self.emulator.region}"
default_job_queue = "{self.emulator.job_queue}"
endpoint_url = "{self.emulator.endpoint_url}"
{table}

[platforms.demo.auth]
mode = "access_keys"
access_key_id_env = "FEED_STACK_KEY_ID"
secret_access_key_env = "FEED_STACK_SECRET"
""")
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.process = start_serve(
            "--config",
            str(self._config),
            env={
                "FEED_STACK_KEY_ID": self.emulator.access_key_id,
                "FEED_STACK_SECRET": self.emulator.secret_access_key,
            },
        )
        port = wait_for_port(self.process)
        assert port == self.port, (port, self.port)
        self.starts += 1

    def kill(self) -> None:
        """SIGKILL: no graceful stop, no stream is told anything."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def kill_and_restart(self) -> None:
        self.kill()
        self.start()

    def jobs(self) -> dict[str, str]:
        """Every job of the demo queue the emulator holds: job id → status."""
        batch = self.emulator.client("batch")
        found: dict[str, str] = {}
        for status in STATUSES:
            for page in batch.get_paginator("list_jobs").paginate(jobQueue=self.emulator.job_queue, jobStatus=status):
                found.update({s["jobId"]: s["status"] for s in page["jobSummaryList"]})
        return found

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.emulator.stop()
        self._temp.cleanup()

    def __enter__(self) -> FeedStack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.live_feed_stack")
    parser.add_argument("--history", action="store_true")
    options = parser.parse_args(sys.argv[1:] if argv is None else argv)
    with FeedStack(history=options.history) as stack:
        print(f"ready {stack.port}", flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command == "kill":
                stack.kill_and_restart()
                print(f"ready {stack.port}", flush=True)
            elif command == "jobs":
                print(f"jobs {json.dumps(stack.jobs())}", flush=True)
            elif command == "quit":
                break
    return 0


if __name__ == "__main__":
    sys.exit(main())
