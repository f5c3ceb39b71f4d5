"""A fault-injecting HTTP proxy on 127.0.0.1 between the service and AWS (moto): it forwards
each request, or answers it itself, per a rule the test sets, and records every exchange.

Faults: lose the answer after forwarding (TCP reset), answer an error status after forwarding
(AWS did the work), answer an error status without forwarding (AWS never saw it), delay the
answer, reset without forwarding, accept and never answer (a black hole); and `unreachable` for
an outage."""

from __future__ import annotations

import asyncio
import enum
import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

# Batch's REST paths → operation names.
BATCH_PATHS = {
    "/v1/submitjob": "SubmitJob",
    "/v1/describejobs": "DescribeJobs",
    "/v1/listjobs": "ListJobs",
    "/v1/terminatejob": "TerminateJob",
    "/v1/describejobdefinitions": "DescribeJobDefinitions",
    "/v1/describejobqueues": "DescribeJobQueues",
}


class Fault(enum.Enum):
    LOSE_ANSWER = "lose_answer"  # forwarded; the client's connection is reset instead of the answer
    ERROR_AFTER = "error_after"  # forwarded; the client gets `status` instead of the answer
    ERROR = "error"  # not forwarded; the client gets `status` (e.g. 429: AWS throttled it)
    DELAY = "delay"  # forwarded; the answer comes `seconds` later
    RESET = "reset"  # not forwarded; the connection is reset
    ANSWER = "answer"  # not forwarded; the client gets `body` with status 200 (e.g. a lagging read)
    HOLD = "hold"  # forwarded only `seconds` later (AWS sees it late), then answered
    BLACK_HOLE = "black_hole"  # not forwarded; accepted and never answered (a hung dependency)


@dataclass
class Action:
    fault: Fault
    status: int = 500
    seconds: float = 0.0
    body: dict | None = None


@dataclass
class Exchange:
    operation: str
    body: dict
    at: float  # time.monotonic() when the request arrived
    fault: Fault | None = None
    response: dict | None = None  # the upstream answer, when it was forwarded and JSON

    @property
    def job_name(self) -> str:
        return self.body.get("jobName", "")


Rule = Callable[[Exchange], Action | None]

_ERROR_BODIES = {
    429: ("TooManyRequestsException", "Too Many Requests (injected)"),
    500: ("ServerException", "internal error (injected)"),
    503: ("ServerException", "service unavailable (injected)"),
}


class FaultProxy:
    def __init__(self, upstream_url: str) -> None:
        parts = urlsplit(upstream_url)
        self._upstream = (parts.hostname, parts.port)
        self.rule: Rule = lambda exchange: None
        self.unreachable = False  # every connection is reset: AWS cannot be reached
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()

    # -- life ----------------------------------------------------------------------------------

    def __enter__(self) -> FaultProxy:
        started = threading.Event()
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._serve, "127.0.0.1", 0, reuse_address=True)
            )
            started.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="fault-proxy", daemon=True)
        self._thread.start()
        started.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            self._server.close()
            for task in [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]:
                task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    def of(self, operation: str) -> list[Exchange]:
        with self._lock:
            return [e for e in self.exchanges if e.operation == operation]

    # -- serving -------------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await _read_message(reader)
                if request is None:
                    return
                if self.unreachable:
                    return _reset(writer)
                head, body = request
                exchange = _exchange(head, body)
                action = self.rule(exchange)
                exchange.fault = action.fault if action else None
                with self._lock:
                    self.exchanges.append(exchange)
                if action and action.fault is Fault.RESET:
                    return _reset(writer)
                if action and action.fault is Fault.BLACK_HOLE:
                    await asyncio.Event().wait()  # until the proxy stops
                if action and action.fault in (Fault.ERROR, Fault.ANSWER):
                    writer.write(
                        _error_response(action.status)
                        if action.fault is Fault.ERROR
                        else _json_response(action.body or {})
                    )
                    await writer.drain()
                    continue
                if action and action.fault is Fault.HOLD:
                    await asyncio.sleep(action.seconds)
                response = await self._forward(head, body)
                exchange.response = _json(response.split(b"\r\n\r\n", 1)[-1])
                if action and action.fault is Fault.LOSE_ANSWER:
                    return _reset(writer)
                if action and action.fault is Fault.ERROR_AFTER:
                    response = _error_response(action.status)
                if action and action.fault is Fault.DELAY:
                    await asyncio.sleep(action.seconds)
                writer.write(response)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            if not writer.is_closing():
                writer.close()

    async def _forward(self, head: bytes, body: bytes) -> bytes:
        """One request on a fresh upstream connection, answered in full (the upstream closes)."""
        lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"connection:")]
        lines.append(b"Connection: close")
        reader, writer = await asyncio.open_connection(*self._upstream)
        try:
            writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
            await writer.drain()
            raw = await reader.read()
        finally:
            writer.close()
        # Keep the client's connection open: answer with a length and no "Connection: close".
        answer_head, _, answer_body = raw.partition(b"\r\n\r\n")
        kept = [
            line
            for line in answer_head.split(b"\r\n")
            if not line.lower().startswith((b"connection:", b"content-length:", b"transfer-encoding:"))
        ]
        kept.append(b"Content-Length: " + str(len(answer_body)).encode())
        return b"\r\n".join(kept) + b"\r\n\r\n" + answer_body


async def _read_message(reader: asyncio.StreamReader) -> tuple[bytes, bytes] | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return head[:-4], body


def _exchange(head: bytes, body: bytes) -> Exchange:
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    path = request_line.split(" ")[1].split("?")[0].lower()
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in header_lines)}
    operation = BATCH_PATHS.get(path, "")
    if not operation and "x-amz-target" in headers:  # JSON 1.0 APIs: DynamoDB, CloudWatch Logs
        operation = headers["x-amz-target"].rsplit(".", 1)[-1]
    text = body.decode("utf-8", "replace")
    if not operation and "Action=" in text:  # query APIs: STS, IAM
        operation = text.split("Action=", 1)[1].split("&", 1)[0]
    parsed = _json(body) if body.startswith(b"{") else {}
    return Exchange(operation or path, parsed if isinstance(parsed, dict) else {}, time.monotonic())


def _json(raw: bytes) -> dict | None:
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _error_response(status: int) -> bytes:
    code, message = _ERROR_BODIES.get(status, ("ServerException", "injected"))
    body = json.dumps({"__type": code, "message": message}).encode()
    reason = {429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}.get(status, "Error")
    return (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nx-amzn-ErrorType: {code}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def _json_response(document: dict) -> bytes:
    body = json.dumps(document).encode()
    return (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


def _reset(writer: asyncio.StreamWriter) -> None:
    """Closes the connection with a TCP reset: the client sees its answer lost mid-flight."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
