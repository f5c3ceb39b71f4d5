"""Constant cost at any age: two servers on one fake endpoint, one with an empty cache and one
filled to its bound (`watch.max_cached_runs`, 1,000,000 runs by default), measured call by call
alternately so machine noise hits both alike:

- quiet: Health/Check and a cached GetPipelineRun, p50/p99;
- churn: the same while another client keeps asking for runs the server has not seen (each one
  a run added to the cache: at the bound, one evicted);
- then 1,000 concurrent GetPipelineRun of distinct, never-seen ids on each: DescribeJobs calls
  (target ⌈1000/100⌉ + 1 = 11).

    python -m bench.cache_at_bound --runs 1000000 --calls 2000
"""

from __future__ import annotations

import argparse
import json
import threading
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync.platform.v1 import platform_service_pb2_grpc

from bench.harness import percentile, rss_kib, start, stop
from bench.unary import concurrent_misses, timed


def ms(values: list[float], p: float) -> float:
    return round(percentile(values, p) * 1000, 3)


class Target:
    def __init__(self, label: str, port: int) -> None:
        self.label, self.port = label, port
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = platform_service_pb2_grpc.PlatformServiceStub(self.channel)
        self.health = health_pb2_grpc.HealthStub(self.channel)
        self.times: dict[str, list[float]] = {}

    def measure(self, phase: str) -> None:
        self.times.setdefault(f"{phase} health", []).append(
            timed(lambda: self.health.Check(health_pb2.HealthCheckRequest()))
        )
        self.times.setdefault(f"{phase} cached get", []).append(
            timed(lambda: self.stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id="job-1")))
        )


def churn(port: int, first: int, stop_at: list[bool], added: list[int]) -> None:
    """GetPipelineRun of ids the server has not seen, one after another, until told to stop."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = platform_service_pb2_grpc.PlatformServiceStub(channel)
        index = first
        while not stop_at[0]:
            stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id=f"job-{index}"))
            index += 1
            added[0] += 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1_000_000, help="the cache bound, and the runs filled")
    parser.add_argument("--calls", type=int, default=2000, help="measured calls per phase and kind")
    parser.add_argument("--churn-seconds", type=float, default=60.0, help="at most this long measuring under churn")
    args = parser.parse_args()
    fake, fake_port = start("bench.fake_batch", "--jobs", "200000", "--start", str(time.time()), "--first", "3600")
    common = ["--endpoint", f"http://127.0.0.1:{fake_port}", "--interval", "3600", "--describe-per-second", "100000"]
    common += ["--max-cached-runs", str(args.runs)]
    servers = []
    try:
        filled_at = time.monotonic()
        full, full_port = start("bench.server", *common, "--prefill", str(args.runs))
        servers.append(full)
        fill_seconds = time.monotonic() - filled_at
        empty, empty_port = start("bench.server", *common)
        servers.append(empty)
        targets = [Target("empty cache", empty_port), Target(f"cache at its bound ({args.runs:,} runs)", full_port)]
        for target in targets:
            target.stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id="job-1"))  # cached from now on
        for _ in range(args.calls):
            for target in targets:
                target.measure("quiet")
        stop_at, added = [False], [[0], [0]]
        churners = [
            threading.Thread(target=churn, args=(target.port, 10 + 40_000 * n, stop_at, added[n]), daemon=True)
            for n, target in enumerate(targets)
        ]
        for thread in churners:
            thread.start()
        churn_started = time.monotonic()
        for _ in range(args.calls):
            for target in targets:
                target.measure("churn")
            if time.monotonic() - churn_started > args.churn_seconds:
                break
        churn_seconds = time.monotonic() - churn_started
        stop_at[0] = True
        for thread in churners:
            thread.join(60)
        rows = []
        for n, target in enumerate(targets):
            row = {"server": target.label, "rss_mib": round(rss_kib(servers[1 - n].pid) / 1024)}
            for kind, values in target.times.items():
                row[f"{kind} p50_ms"] = ms(values, 50)
                row[f"{kind} p99_ms"] = ms(values, 99)
            row["runs added during churn"] = added[n][0]
            row["runs added per second"] = round(added[n][0] / churn_seconds, 1)
            row["churn calls measured"] = len(target.times["churn health"])
            rows.append(row)
        empty_row, full_row = rows
        ratios = {
            key.replace(" p50_ms", "").replace(" p99_ms", "") + (" p50" if "p50" in key else " p99"): round(
                full_row[key] / empty_row[key], 2
            )
            for key in empty_row
            if key.endswith("_ms") and empty_row[key]
        }
        for row in rows:
            print(json.dumps(row))
        print(json.dumps({"at bound / empty": ratios, "target": "within 1.2x", "fill_seconds": round(fill_seconds)}))
        for target, port in ((targets[0], empty_port), (targets[1], full_port)):
            print(json.dumps({"server": target.label, **concurrent_misses(port, fake_port, 1000)}))
    finally:
        for process in servers:
            stop(process)
        stop(fake)


if __name__ == "__main__":
    main()
