"""A fake AWS Batch endpoint on 127.0.0.1 for benchmarks: DescribeJobs over a job table whose
states change on a known schedule, counting every call. asyncio HTTP/1.1 with keep-alive, so
it costs little CPU next to the server under test.

Job i (ids job-0 … job-N-1) is RUNNABLE until change_time(i, 0), then STARTING, RUNNING at
change_time(i, 1), SUCCEEDED at change_time(i, 2) — clients compute the same times to measure
the delay from a change at the endpoint to its delivery.

    python -m bench.fake_batch --jobs 1000 --start T0 --first 10 --period 12   # prints "ready PORT"
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

STATES = ["RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"]


def change_time(start: float, first: float, period: float, index: int, change: int) -> float:
    """When job `index` makes its `change`-th change (0: → STARTING, 1: → RUNNING, 2: → SUCCEEDED);
    staggered over one second of 10 slots so changes do not all land at once."""
    return start + first + (index % 10) * 0.1 + change * period


class FakeBatch:
    def __init__(self, jobs: int, start: float, first: float, period: float) -> None:
        self.jobs, self.start, self.first, self.period = jobs, start, first, period
        self.calls: dict[str, int] = {}
        self.ids_described = 0

    def state(self, index: int, now: float) -> str:
        changes = sum(1 for c in range(3) if now >= change_time(self.start, self.first, self.period, index, c))
        return STATES[changes]

    def describe(self, ids: list[str]) -> dict:
        now = time.time()
        jobs = []
        for job_id in ids:
            index = int(job_id.split("-")[1]) if job_id.startswith("job-") else -1
            if not 0 <= index < self.jobs:
                continue
            status = self.state(index, now)
            job = {"jobId": job_id, "jobName": f"Polysync-{job_id}", "jobQueue": "arn:aws:batch:us-east-1:123456789012:job-queue/q",
                   "status": status, "jobDefinition": "arn:aws:batch:us-east-1:123456789012:job-definition/bench:1",
                   "createdAt": int(self.start * 1000), "parameters": {}}
            if status == "SUCCEEDED":
                job["container"] = {"exitCode": 0}
                job["stoppedAt"] = int(change_time(self.start, self.first, self.period, index, 2) * 1000)
            jobs.append(job)
        self.ids_described += len(ids)
        return {"jobs": jobs}

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                length = next((int(l.split(":", 1)[1]) for l in lines[1:] if l.lower().startswith("content-length:")), 0)
                body = await reader.readexactly(length) if length else b""
                operation = path.rstrip("/").rsplit("/", 1)[-1]
                self.calls[operation] = self.calls.get(operation, 0) + 1
                if operation == "describejobs":
                    payload = json.dumps(self.describe(json.loads(body)["jobs"])).encode()
                elif operation == "stats":
                    payload = json.dumps({"calls": self.calls, "ids_described": self.ids_described}).encode()
                else:
                    payload = b'{"message": "not faked"}'
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(payload) + payload)
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
    args = parser.parse_args()
    fake = FakeBatch(args.jobs, args.start, args.first, args.period)
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0, backlog=4096)
    print(f"ready {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
