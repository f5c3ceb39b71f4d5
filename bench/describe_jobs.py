"""CPU per DescribeJobs of one job (and per ListJobs page) as the server makes them: the boto3
Batch client exactly as aws/clients.make_clients builds it (metrics and deadline handlers) against
aws/wire.BatchWire, over the same fake endpoint (bench/fake_batch.py), alternated in rounds so
machine noise hits both alike. CPU is this process's (time.process_time): the fake endpoint runs
in a process of its own. One thread, one call after another.

    python -m bench.describe_jobs --calls 2000

(5,000 jobs at the fake endpoint, all RUNNABLE; a ListJobs page is 100 job summaries.)
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import boto3
from polysync_batch.aws.clients import make_clients
from polysync_batch.aws.wire import BatchWire
from polysync_batch.observability.metrics import AwsCallMetrics

from bench.harness import start, stop

ROUND = 50  # calls per variant per round


def variants(endpoint: str) -> dict[str, Callable[[int], object]]:
    session = boto3.Session(aws_access_key_id="AKIDBENCH", aws_secret_access_key="bench", region_name="us-east-1")
    clients = make_clients(session, region="us-east-1", endpoint_url=endpoint, metrics=AwsCallMetrics("bench"))
    assert isinstance(clients.batch_wire, BatchWire)
    boto, wire = clients.batch, clients.batch_wire
    return {
        "DescribeJobs, boto3 client (before)": lambda i: boto.describe_jobs(jobs=[f"job-{i}"]),
        "DescribeJobs, aws/wire.py (after)": lambda i: wire.describe_jobs(jobs=[f"job-{i}"]),
        "ListJobs, boto3 client (before)": lambda i: boto.list_jobs(jobQueue="q", jobStatus="RUNNABLE", maxResults=100),
        "ListJobs, aws/wire.py (after)": lambda i: wire.list_jobs(jobQueue="q", jobStatus="RUNNABLE", maxResults=100),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000, help="calls per variant")
    args = parser.parse_args()
    fake, port = start("bench.fake_batch", "--jobs", "5000", "--start", str(time.time()), "--first", "3600")
    try:
        runs = variants(f"http://127.0.0.1:{port}")
        for call in runs.values():  # warm up: connections, lazy loading
            for i in range(20):
                call(i)
        cpu = dict.fromkeys(runs, 0.0)
        wall = dict.fromkeys(runs, 0.0)
        calls = dict.fromkeys(runs, 0)
        for r in range(max(1, args.calls // ROUND)):
            for name, call in runs.items():
                started, clock = time.process_time(), time.perf_counter()
                for i in range(ROUND):
                    call(r * ROUND + i)
                cpu[name] += time.process_time() - started
                wall[name] += time.perf_counter() - clock
                calls[name] += ROUND
    finally:
        stop(fake)
    for name in runs:
        print(
            json.dumps(
                {
                    "case": "describe_jobs",
                    "variant": name,
                    "calls": calls[name],
                    "cpu_us_per_call": round(cpu[name] / calls[name] * 1e6, 1),
                    "wall_us_per_call": round(wall[name] / calls[name] * 1e6, 1),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
