"""A fake AWS Batch endpoint on 127.0.0.1 for benchmarks: DescribeJobs over a job table whose
states change on a known schedule, counting every call. asyncio HTTP/1.1 with keep-alive, so
it costs little CPU next to the server under test.

Job i (ids job-0 … job-N-1) is RUNNABLE until change_time(i, 0), then STARTING, RUNNING at
change_time(i, 1), SUCCEEDED at change_time(i, 2) — clients compute the same times to measure
the delay from a change at the endpoint to its delivery.

    python -m bench.fake_batch --jobs 1000 --start T0 --first 10 --period 12   # prints "ready PORT"

With `--events` it is also the platform's SQS queue (JSON protocol: ReceiveMessage with long
polling, DeleteMessageBatch): at each change time it enqueues the EventBridge "Batch Job State
Change" envelope AWS would deliver, and counts messages received, deleted and left.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import json
import time
from datetime import UTC, datetime

STATES = ["RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"]
ACCOUNT = "123456789012"
QUEUE_URL = f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/bench-events"


def change_time(start: float, first: float, period: float, index: int, change: int) -> float:
    """When job `index` makes its `change`-th change (0: → STARTING, 1: → RUNNING, 2: → SUCCEEDED);
    staggered over one second of 10 slots so changes do not all land at once."""
    return start + first + (index % 10) * 0.1 + change * period


class FakeBatch:
    def __init__(self, jobs: int, start: float, first: float, period: float) -> None:
        self.jobs, self.start, self.first, self.period = jobs, start, first, period
        self.calls: dict[str, int] = {}
        self.ids_described = 0
        self.visible: list[tuple[str, str]] = []  # (receipt, body) of the event queue
        self.in_flight: dict[str, str] = {}
        self.deleted = 0
        self._receipts = itertools.count()
        self._arrived = asyncio.Event()

    async def publish_events(self) -> None:
        """Enqueues each job change at its change time (the 10 slots of each change at once)."""
        slots = sorted({(change, index % 10) for index in range(self.jobs) for change in range(3)})
        for change, slot in slots:
            at = change_time(self.start, self.first, self.period, slot, change)
            await asyncio.sleep(max(0.0, at - time.time()))
            stamp = datetime.fromtimestamp(at, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            for index in range(slot, self.jobs, 10):
                detail = self.job(index, at + 0.001)
                body = json.dumps(
                    {
                        "version": "0",
                        "id": f"e-{index}-{change}",
                        "detail-type": "Batch Job State Change",
                        "source": "aws.batch",
                        "account": ACCOUNT,
                        "time": stamp,
                        "region": "us-east-1",
                        "resources": [],
                        "detail": detail,
                    }
                )
                self.visible.append((f"r{next(self._receipts)}", body))
            self._arrived.set()

    async def receive(self, request: dict) -> dict:
        wait = float(request.get("WaitTimeSeconds", 0))
        end = time.time() + wait
        while not self.visible and time.time() < end:
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), end - time.time())
            except TimeoutError:
                break
        count = int(request.get("MaxNumberOfMessages", 1))
        taken, self.visible = self.visible[:count], self.visible[count:]
        messages = []
        for receipt, body in taken:
            self.in_flight[receipt] = body
            messages.append(
                {
                    "MessageId": receipt,
                    "ReceiptHandle": receipt,
                    "Body": body,
                    "MD5OfBody": hashlib.md5(body.encode()).hexdigest(),
                }
            )
        return {"Messages": messages} if messages else {}

    def delete_batch(self, request: dict) -> dict:
        done = []
        for entry in request.get("Entries", []):
            if self.in_flight.pop(entry["ReceiptHandle"], None) is not None:
                self.deleted += 1
            done.append({"Id": entry["Id"]})
        return {"Successful": done, "Failed": []}

    def job(self, index: int, now: float) -> dict:
        job_id = f"job-{index}"
        status = self.state(index, now)
        job = {
            "jobId": job_id,
            "jobName": f"Polysync-{job_id}",
            "jobQueue": "arn:aws:batch:us-east-1:123456789012:job-queue/q",
            "status": status,
            "jobDefinition": "arn:aws:batch:us-east-1:123456789012:job-definition/bench:1",
            "createdAt": int(self.start * 1000),
            "parameters": {},
        }
        if status == "SUCCEEDED":
            job["container"] = {"exitCode": 0}
            job["stoppedAt"] = int(change_time(self.start, self.first, self.period, index, 2) * 1000)
        return job

    def state(self, index: int, now: float) -> str:
        changes = sum(1 for c in range(3) if now >= change_time(self.start, self.first, self.period, index, c))
        return STATES[changes]

    def list_jobs(self, request: dict) -> dict:
        """ListJobs of the queue: by jobStatus, or every status with a filter (AFTER_CREATED_AT:
        every job was created at the start), 1000 per page (the feed's discovery)."""
        now = time.time()
        status, offset = request.get("jobStatus"), int(request.get("nextToken") or 0)
        if request.get("filters"):
            after = int(request["filters"][0]["values"][0]) / 1000
            matching = [] if after >= self.start else list(range(self.jobs))
        else:
            matching = [i for i in range(self.jobs) if self.state(i, now) == (status or "RUNNING")]
        page = matching[offset : offset + int(request.get("maxResults") or 100)]
        summaries = [{"jobId": f"job-{i}", "jobName": f"Polysync-job-{i}", "status": self.state(i, now)} for i in page]
        result: dict = {"jobSummaryList": summaries}
        if offset + len(page) < len(matching):
            result["nextToken"] = str(offset + len(page))
        return result

    def describe(self, ids: list[str]) -> dict:
        now = time.time()
        jobs = []
        for job_id in ids:
            index = int(job_id.split("-")[1]) if job_id.startswith("job-") else -1
            if 0 <= index < self.jobs:
                jobs.append(self.job(index, now))
        self.ids_described += len(ids)
        return {"jobs": jobs}

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                length = next(
                    (int(h.split(":", 1)[1]) for h in lines[1:] if h.lower().startswith("content-length:")), 0
                )
                body = await reader.readexactly(length) if length else b""
                operation = path.rstrip("/").rsplit("/", 1)[-1]
                target = next(
                    (h.split(":", 1)[1].strip() for h in lines[1:] if h.lower().startswith("x-amz-target:")), ""
                )
                if target:
                    operation = target.rsplit(".", 1)[-1]
                self.calls[operation] = self.calls.get(operation, 0) + 1
                if operation == "ReceiveMessage":
                    payload = json.dumps(await self.receive(json.loads(body))).encode()
                elif operation == "DeleteMessageBatch":
                    payload = json.dumps(self.delete_batch(json.loads(body))).encode()
                elif operation == "listjobs":
                    payload = json.dumps(self.list_jobs(json.loads(body))).encode()
                elif operation == "describejobs":
                    payload = json.dumps(self.describe(json.loads(body)["jobs"])).encode()
                elif operation == "stats":
                    payload = json.dumps(
                        {
                            "calls": self.calls,
                            "ids_described": self.ids_described,
                            "queue": {
                                "visible": len(self.visible),
                                "in_flight": len(self.in_flight),
                                "deleted": self.deleted,
                            },
                        }
                    ).encode()
                else:
                    payload = b'{"message": "not faked"}'
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(payload)
                    + payload
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--start", type=float, default=time.time())
    parser.add_argument("--first", type=float, default=10.0)
    parser.add_argument("--period", type=float, default=12.0)
    parser.add_argument("--events", action="store_true", help="also be the platform's SQS event queue")
    args = parser.parse_args()
    fake = FakeBatch(args.jobs, args.start, args.first, args.period)
    if args.events:
        publishing = asyncio.ensure_future(fake.publish_events())  # noqa: F841 — runs until the end
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0, backlog=4096)
    print(f"ready {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
