"""Helpers of test_cli.py: the installed `polysync` run as a subprocess (plainly, or on a
pseudo-terminal), a live stack (tests/live_stack.py) in a subprocess, and a one-answer
GetPipelineRun server for the diagnosis rendering."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from polysync.platform.v1 import pipeline_run_pb2
from polysync.platform.v1 import platform_service_pb2 as pb

ROOT = Path(__file__).parents[2]
POLYSYNC = str(Path(sys.executable).with_name("polysync"))
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any POLYSYNC_* setting of the machine running the tests."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLYSYNC_")}
    env.update(extra)
    return env


def polysync(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [POLYSYNC, *args], capture_output=True, text=True, env=env or clean_env(), timeout=timeout, cwd="/"
    )


@dataclass
class TtyResult:
    returncode: int
    raw: str  # everything written to the terminal, escape sequences included

    @property
    def text(self) -> str:
        return ANSI.sub("", self.raw).replace("\r", "\n")


def polysync_on_a_tty(*args: str, env: dict[str, str], timeout: float = 60) -> TtyResult:
    """Runs the command with stdin/stdout/stderr on a pseudo-terminal (120 columns)."""
    main, secondary = pty.openpty()
    os.set_blocking(main, False)
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen(
        [POLYSYNC, *args],
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env={**env, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"},
        cwd="/",
        close_fds=True,
    )
    os.close(secondary)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            if time.monotonic() > deadline:
                process.kill()
                raise TimeoutError(f"polysync {' '.join(args)} still running after {timeout} s")
            ready, _, _ = select.select([main], [], [], 0.1)
            if not ready:
                continue
            try:
                data = os.read(main, 65536)
            except OSError:  # EIO: every holder of the terminal's other side has closed it
                data = b""
            if not data:
                break
            chunks.append(data)
        return TtyResult(process.wait(timeout=5), b"".join(chunks).decode("utf-8", "replace"))
    finally:
        os.close(main)
        if process.poll() is None:
            process.kill()


@dataclass
class Stack:
    """A live server (emulator + gRPC server) and what it printed before "ready"."""

    process: subprocess.Popen[str]
    address: str
    info: dict[str, str] = field(default_factory=dict)


@contextmanager
def live_stack(*options: str, timeout: float = 120) -> Iterator[Stack]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.live_stack", *options],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None and process.stdin is not None
    info: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    try:
        while True:
            assert time.monotonic() < deadline, "the live stack did not start"
            line = process.stdout.readline()
            assert line, f"the live stack exited with {process.wait()}"
            key, _, value = line.strip().partition(" ")
            if key == "ready":
                break
            info[key] = value
        yield Stack(process, f"127.0.0.1:{value}", info)
    finally:
        process.stdin.write("quit\n")
        process.stdin.close()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def one_run_server(run: pipeline_run_pb2.PipelineRun) -> Iterator[str]:
    """A PlatformService on 127.0.0.1:0 whose GetPipelineRun answers `run` (every other method
    UNIMPLEMENTED): the §13 fields exactly as a server that fills them sends them."""

    def get(request: pb.GetPipelineRunRequest, context: grpc.ServicerContext) -> pb.GetPipelineRunResponse:
        return pb.GetPipelineRunResponse(run=run)

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    handler = grpc.unary_unary_rpc_method_handler(
        get,
        request_deserializer=pb.GetPipelineRunRequest.FromString,
        response_serializer=pb.GetPipelineRunResponse.SerializeToString,
    )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("polysync.platform.v1.PlatformService", {"GetPipelineRun": handler}),)
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(None)
