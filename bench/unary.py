"""GetPipelineRun through the service vs the same DescribeJobs made directly with boto3 against
the same fake endpoint, alternated call by call in one run so machine noise hits both alike;
then cached GetPipelineRun throughput with ghz (through reflection).

    python -m bench.unary --calls 2000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import time

import boto3
import grpc
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync.platform.v1 import platform_service_pb2_grpc

from bench.harness import ROOT, percentile, start, stop
from bench.watch_fanout import stats


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def compare(stub, batch, ids: list[str], label: str) -> dict:
    service, direct = [], []
    for run_id in ids:
        service.append(timed(lambda run_id=run_id: stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id=run_id))))
        direct.append(timed(lambda run_id=run_id: batch.describe_jobs(jobs=[run_id])))
    p50_service, p50_direct = percentile(service, 50), percentile(direct, 50)
    return {
        "case": label,
        "calls": len(ids),
        "service_p50_ms": round(p50_service * 1000, 3),
        "boto3_p50_ms": round(p50_direct * 1000, 3),
        "ratio_p50": round(p50_service / p50_direct, 2),
        "service_p99_ms": round(percentile(service, 99) * 1000, 3),
        "boto3_p99_ms": round(percentile(direct, 99) * 1000, 3),
    }


def concurrent_misses(port: int, fake_port: int, count: int) -> dict:
    """`count` concurrent GetPipelineRun on distinct, never-seen ids: DescribeJobs calls made."""

    async def burst() -> None:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = platform_service_pb2_grpc.PlatformServiceStub(channel)
            await asyncio.gather(
                *(stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id=f"job-{50000 + i}")) for i in range(count))
            )

    before = stats(fake_port)["calls"].get("describejobs", 0)
    asyncio.run(burst())
    calls = stats(fake_port)["calls"].get("describejobs", 0) - before
    return {"case": f"{count} concurrent GetPipelineRun, distinct ids", "describe_jobs_calls": calls}


def ghz(port: int, requests: int, concurrency: int) -> dict:
    binary = shutil.which("ghz") or str(ROOT / ".tools/go-bin/ghz")
    result = subprocess.run(
        [
            binary,
            "--insecure",
            "--call",
            "polysync.platform.v1.PlatformService/GetPipelineRun",
            "-d",
            '{"run_id": "job-1"}',
            "-n",
            str(requests),
            "-c",
            str(concurrency),
            "--connections",
            "4",
            "--format",
            "json",
            f"127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        return {"ghz_error": result.stderr.strip()[-500:]}
    report = json.loads(result.stdout)
    return {
        "ghz_requests": report["count"],
        "ghz_concurrency": concurrency,
        "ghz_rps": round(report["rps"]),
        "ghz_p50_ms": round(
            next(d["latency"] for d in report["latencyDistribution"] if d["percentage"] == 50) / 1e6, 2
        ),
        "ghz_p99_ms": round(
            next(d["latency"] for d in report["latencyDistribution"] if d["percentage"] == 99) / 1e6, 2
        ),
        "ghz_errors": sum(report.get("statusCodeDistribution", {}).values())
        - report["statusCodeDistribution"].get("OK", 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--ghz-requests", type=int, default=20000)
    parser.add_argument("--ghz-concurrency", type=int, default=50)
    args = parser.parse_args()
    # Jobs stay RUNNABLE for an hour; the service's poll interval is 5 s.
    fake, fake_port = start("bench.fake_batch", "--jobs", "100000", "--start", str(time.time()), "--first", "3600")
    # The budget is lifted so the uncached case measures the service's overhead; with the default
    # budget (50/s) back-to-back distinct look-ups are paced at 20 ms each, by design.
    server, port = start(
        "bench.server",
        "--endpoint",
        f"http://127.0.0.1:{fake_port}",
        "--interval",
        "3600",
        "--describe-per-second",
        "100000",
    )
    try:
        batch = boto3.client(
            "batch",
            region_name="us-east-1",
            endpoint_url=f"http://127.0.0.1:{fake_port}",
            aws_access_key_id="AKIDBENCH",
            aws_secret_access_key="bench",
        )
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = platform_service_pb2_grpc.PlatformServiceStub(channel)
            stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id="job-1"))  # warm both paths
            batch.describe_jobs(jobs=["job-1"])
            print(json.dumps(compare(stub, batch, ["job-1"] * args.calls, "cached run (polled within the interval)")))
            print(
                json.dumps(
                    compare(
                        stub,
                        batch,
                        [f"job-{i}" for i in range(10, 10 + args.calls)],
                        "uncached run (a DescribeJobs call each)",
                    )
                )
            )
        print(json.dumps(concurrent_misses(port, fake_port, 1000)))
        print(json.dumps(ghz(port, args.ghz_requests, args.ghz_concurrency)))
    finally:
        stop(server)
        stop(fake)


if __name__ == "__main__":
    main()
