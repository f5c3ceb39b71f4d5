"""The platform's event queue read by a process of its own (`events.ingest_processes` > 0;
aws/event_ingest.py is that process): the same EventQueuePort as aws/event_queue.SqsEventQueue,
so the event consumer (watch/event_source.py) cannot tell them apart. The process receives
and parses; this side hands its answers out one `receive` at a time, asks it to delete what the
consumer handled, sends it the platform's credentials whenever botocore's providers refresh
them, records its SQS attempts in this process's metrics and logs what it writes to stderr.
When it dies, the next `receive` fails (the consumer backs off, as for any failing queue) and
the one after starts it again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pickle
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.exceptions import ReadTimeoutError

from polysync_batch.aws.event_ingest import frame
from polysync_batch.domain.models import QueuedEvent

log = logging.getLogger(__name__)
# botocore's refreshable credentials are asked at most this often for their current value.
CREDENTIALS_CHECK_SECONDS = 30.0


class IngestEnded(RuntimeError):
    """An ingest process ended; the next receive starts another."""


@dataclass
class _Ingest:
    """One ingest process and the receives asked of it that it has not answered yet."""

    process: asyncio.subprocess.Process
    reader: asyncio.Task | None = None
    stderr: asyncio.Task | None = None
    asked: int = 0

    def send(self, value: dict[str, Any]) -> None:
        if self.process.returncode is None and self.process.stdin is not None:
            self.process.stdin.write(frame(value))  # buffered: the loop does not wait for the pipe


class ProcessEventQueue:
    def __init__(
        self,
        start: dict[str, Any],
        credentials: Any,
        record_attempt: Callable[..., None] | None = None,
        processes: int = 1,
    ) -> None:
        self._start = start  # aws/event_ingest.Ingest's settings, less the credentials
        self._credentials = credentials  # botocore's: get_frozen_credentials() may refresh (blocking)
        self._record = record_attempt
        self._ingests: list[_Ingest | None] = [None] * processes
        self._answers: asyncio.Queue[tuple[_Ingest, dict[str, Any]]] = asyncio.Queue()
        self._sent_credentials: tuple[str, str, str | None] | None = None
        self._checked_at = 0.0
        self._deletes = 0
        self._closed = False
        self._spawning = asyncio.Lock()  # receivers side by side: one process per slot
        self.starts = 0  # processes started (for tests)

    @property
    def pids(self) -> list[int]:
        return [i.process.pid for i in self._ingests if i is not None and i.process.returncode is None]

    async def receive(self, long_poll: bool = True) -> list[QueuedEvent]:
        """Asks the least busy process for one ReceiveMessage and hands out the next answer any
        of them sends (the consumer's receivers ask side by side: any answer serves any)."""
        async with self._spawning:
            for slot, ingest in enumerate(self._ingests):
                if ingest is None or ingest.process.returncode is not None:
                    self._ingests[slot] = await self._spawn()
        await self._send_credentials()
        least = min((i for i in self._ingests if i is not None), key=lambda i: i.asked)
        least.asked += 1
        least.send({"receive": long_poll})
        ingest, answer = await self._answers.get()
        ingest.asked = max(0, ingest.asked - 1)
        for attempt in answer.get("attempts", ()):
            self._record_attempt(*attempt)
        if "ended" in answer:
            self._ingests = [None if i is ingest else i for i in self._ingests]
            raise IngestEnded(answer["ended"])
        if "error" in answer:
            raise RuntimeError(f"ReceiveMessage failed: {answer['error']}")
        return answer["events"]

    async def delete(self, receipts: list[str]) -> None:
        live = [i for i in self._ingests if i is not None and i.process.returncode is None]
        if receipts and live:
            self._deletes += 1
            live[self._deletes % len(live)].send({"delete": receipts})

    def close(self) -> None:
        self._closed = True
        for ingest in self._ingests:
            if ingest is None:
                continue
            if ingest.process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    ingest.process.kill()  # what its long polls hold comes back after the visibility timeout
            # Its pipes now, not when collected after the loop has closed ("Event loop is closed").
            transport = getattr(ingest.process, "_transport", None)
            if transport is not None:
                transport.close()
            for task in (ingest.reader, ingest.stderr):
                if task is not None:
                    task.cancel()

    async def _spawn(self) -> _Ingest:
        if self._closed:
            raise IngestEnded("the event queue is closed")
        frozen = await self._frozen()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "polysync_batch.aws.event_ingest",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=1 << 24,
        )
        self.starts += 1
        ingest = _Ingest(process)
        ingest.send({"start": {**self._start, "credentials": frozen}})
        self._sent_credentials = frozen
        ingest.reader = asyncio.ensure_future(self._read(ingest))
        ingest.stderr = asyncio.ensure_future(self._relay_stderr(process))
        log.info("event ingest process %d started", process.pid)
        return ingest

    async def _read(self, ingest: _Ingest) -> None:
        stdout = ingest.process.stdout
        assert stdout is not None
        try:
            while True:
                head = await stdout.readexactly(4)
                body = await stdout.readexactly(int.from_bytes(head, "big"))
                self._answers.put_nowait((ingest, pickle.loads(body)))
        except (asyncio.IncompleteReadError, ConnectionError):
            code = await ingest.process.wait()
            self._answers.put_nowait((ingest, {"ended": f"the event ingest process ended (exit code {code})"}))

    @staticmethod
    async def _relay_stderr(process: asyncio.subprocess.Process) -> None:
        """What the process writes to stderr (a failed delete, a crash's traceback) goes to this
        process's log, one record per line, so it is formatted (JSON) like every other."""
        stderr = process.stderr
        assert stderr is not None
        while line := await stderr.readline():
            text = line.decode(errors="replace").rstrip()
            if text:
                log.warning(
                    "event ingest process %d: %s",
                    process.pid,
                    text,
                    extra={"fields": {"event": "ingest_process_output", "pid": process.pid}},
                )

    async def _frozen(self) -> tuple[str, str, str | None]:
        frozen = await asyncio.get_running_loop().run_in_executor(None, self._credentials.get_frozen_credentials)
        self._checked_at = time.monotonic()
        return (frozen.access_key, frozen.secret_key, frozen.token)

    async def _send_credentials(self) -> None:
        if time.monotonic() - self._checked_at < CREDENTIALS_CHECK_SECONDS:
            return
        frozen = await self._frozen()
        if frozen != self._sent_credentials:
            for ingest in self._ingests:
                if ingest is not None:
                    ingest.send({"credentials": frozen})
            self._sent_credentials = frozen

    def _record_attempt(self, operation: str, seconds: float, status: int, code: str | None, kind: str | None) -> None:
        if self._record is None:
            return
        exception = None
        if kind == "timeout":
            exception = ReadTimeoutError(endpoint_url=self._start["endpoint_url"])
        elif kind == "network":
            exception = BotoConnectionError(error="no answer")
        self._record(operation, seconds, status=status, code=code, exception=exception)
