"""The event queue's ingest in a process of its own (`events.ingest_processes`): ReceiveMessage, the
envelopes' JSON and `translate.to_run` (aws/event_queue.py) — about a third of the server's CPU
per event in a wave — run here, on another core, and the server's loop gets finished
QueuedEvents. Started by aws/event_process.py as `python -m polysync_batch.aws.event_ingest`.

Frames both ways on stdin/stdout: a 4-byte big-endian length, then a pickle (the two ends are
one program). In: `{"start": ...}` first, then `{"receive": long_poll}` for each ReceiveMessage
the server wants (it keeps as many asked as it has receivers: what it has not asked for stays in
the queue), `{"delete": [receipts]}` for each batch it handled, `{"credentials": (key, secret,
token)}` whenever the server's change. Out, one per receive asked: `{"events": [QueuedEvent,
...], "attempts": [...]}` (an empty list after a long poll that got nothing), or `{"error": why,
"attempts": [...]}`; `attempts` are the SQS attempts since the last frame, for the metrics.
Messages are deleted only when the server says so: a crash of either process leaves them to come
back after the visibility timeout."""

from __future__ import annotations

import os
import pickle
import queue
import struct
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, BinaryIO

import boto3
from botocore.config import Config as BotoConfig
from botocore.credentials import ReadOnlyCredentials

from polysync_batch.aws.clients import no_answer_outcome
from polysync_batch.aws.event_queue import SqsEventQueue
from polysync_batch.aws.translate import RunContext
from polysync_batch.aws.wire import SqsWire

_LENGTH = struct.Struct(">I")


def read_frame(stream: BinaryIO) -> Any:
    """The next frame, or None at the end of the stream."""
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (length,) = _LENGTH.unpack(head)
    return pickle.loads(stream.read(length))


def frame(value: Any) -> bytes:
    body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(body)) + body


class Credentials:
    """The server's credentials as it last sent them (botocore's providers, refreshes included,
    stay in the server: it sends the new ones when they change)."""

    def __init__(self, frozen: tuple[str, str, str | None]) -> None:
        self._frozen = ReadOnlyCredentials(*frozen)

    def update(self, frozen: tuple[str, str, str | None]) -> None:
        self._frozen = ReadOnlyCredentials(*frozen)

    def get_frozen_credentials(self) -> ReadOnlyCredentials:
        return self._frozen


class Ingest:
    def __init__(self, start: dict[str, Any], out: BinaryIO) -> None:
        self._out = out
        self._write = threading.Lock()
        self._attempts: list[tuple[Any, ...]] = []
        self._attempts_lock = threading.Lock()
        self.credentials = Credentials(start["credentials"])
        client = boto3.client(
            "sqs",
            region_name=start["region"],
            endpoint_url=start["endpoint_url"],
            aws_access_key_id="signed-with-the-servers",  # the wire signs with self.credentials
            aws_secret_access_key="signed-with-the-servers",
            config=BotoConfig(
                connect_timeout=start["connect_timeout"],
                read_timeout=start["read_timeout"],
                max_pool_connections=start["receivers"] + 2,
            ),
        )
        wire = SqsWire(
            client,
            self.credentials,
            verify=start["verify"],
            max_attempts=start["max_attempts"],
            record_attempt=self._record,
        )
        ctx = RunContext(**start["ctx"])
        # Only its blocking calls and its parsing are used here: no AwsCaller (the server's loop).
        self.queue = SqsEventQueue(wire, None, start["queue_url"], ctx, start["account_id"], start["wait_seconds"])
        self._wait_seconds = start["wait_seconds"]
        self._receivers = start["receivers"]
        self._deletes = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sqs-delete")
        self._asked: queue.SimpleQueue[bool] = queue.SimpleQueue()  # receives asked for: long poll?

    def _record(self, operation: str, seconds: float, *, status: int = 200, code=None, exception=None) -> None:
        kind = None if exception is None else no_answer_outcome(exception)
        with self._attempts_lock:
            self._attempts.append((operation, seconds, status, code, kind))

    def _send(self, value: dict[str, Any]) -> None:
        with self._attempts_lock:
            value["attempts"], self._attempts = self._attempts, []
        data = frame(value)
        with self._write:
            self._out.write(data)
            self._out.flush()

    def start(self) -> None:
        for _ in range(self._receivers):
            threading.Thread(target=self._receive_forever, name="sqs-receive", daemon=True).start()

    def receive(self, long_poll: bool) -> None:
        """One ReceiveMessage for the server: it asks for each (flow control: what the server
        has not asked for stays in the queue, for another replica or after a restart)."""
        self._asked.put(long_poll)

    def _receive_forever(self) -> None:
        while True:
            long_poll = self._asked.get()
            try:
                answer = self.queue.receive_now(self._wait_seconds if long_poll else 0)
            except Exception as error:
                self._send({"error": f"{type(error).__name__}: {error}"})
                continue
            self._send({"events": self.queue.parse_answer(answer)})

    def close(self) -> None:
        self._deletes.shutdown(wait=True)

    def delete(self, receipts: list[str]) -> None:
        self._deletes.submit(self._delete, receipts)

    def _delete(self, receipts: list[str]) -> None:
        try:
            self.queue.delete_now(receipts)
        except Exception as error:  # they come back after the visibility timeout
            print(f"event ingest: deleting {len(receipts)} messages failed: {error}", file=sys.stderr, flush=True)


def main() -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    start = read_frame(stdin)
    if start is None:
        return
    ingest = Ingest(start["start"], stdout)
    ingest.start()
    while (message := read_frame(stdin)) is not None:
        if "receive" in message:
            ingest.receive(message["receive"])
        elif "delete" in message:
            ingest.delete(message["delete"])
        elif "credentials" in message:
            ingest.credentials.update(message["credentials"])
    # The server closed the pipe (it stopped or died): so does this process once its deletes are
    # sent, without waiting for long polls in flight (what they got comes back after the
    # visibility timeout).
    ingest.close()
    os._exit(0)


if __name__ == "__main__":
    main()
