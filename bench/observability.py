"""What observability costs per RPC, side by side in one run: three servers on the same fake
endpoint — plain (metrics and tracing off, the default), metrics on, tracing on — called in
turn, call by call, so machine noise hits all alike. Then, in-process, what stays on the path
when both are off: the context copy per AWS call (aws/calls.py) and the botocore attempt hook.

    python -m bench.observability --calls 3000
    python -m bench.observability --baseline ../main   # also a server from another checkout
                                                       # (e.g. before observability), as "baseline"
"""

from __future__ import annotations

import argparse
import contextvars
import json
import os
import random
import subprocess
import sys
import time
import timeit

import boto3
import grpc
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync.platform.v1 import platform_service_pb2_grpc

from bench.harness import ROOT, cpu_seconds, percentile, start, stop


def start_server(*args: str, tree: str | None = None) -> tuple[subprocess.Popen, list[int]]:
    """bench.server (of this checkout, or of another one: its server/ and bench/ on the path);
    returns it and the ports it reports."""
    tree = os.path.abspath(tree) if tree else str(ROOT)
    env = (
        {**os.environ, "PYTHONPATH": f"{tree}/server:{tree}", "PYTHONDONTWRITEBYTECODE": "1"}
        if tree != str(ROOT)
        else dict(os.environ)
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.server", *args], cwd=tree, env=env, stdout=subprocess.PIPE, text=True
    )
    line = process.stdout.readline()
    if not line.startswith("ready "):
        process.kill()
        raise RuntimeError(f"bench.server in {tree} did not start: {line!r}")
    return process, [int(port) for port in line.split()[1:]]


from polysync_batch.aws.clients import count_attempts  # noqa: E402 — the server package is put on sys.path above
from polysync_batch.observability.metrics import AwsCallMetrics  # noqa: E402 — as above

# "off" and "metrics" are two servers in one process and event loop (so neither gets a quieter
# core than the other); tracing patches botocore process-wide, so it runs in a process of its own.
TWINS = ["--twin-with-metrics"]
TRACING = ["--tracing"]


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def side_by_side(stubs: dict, pids: dict, ids: list[str], label: str) -> dict:
    times: dict[str, list[float]] = {mode: [] for mode in stubs}
    cpu = {mode: cpu_seconds(pid) for mode, pid in pids.items()}
    shuffle = random.Random(7).shuffle
    order = list(stubs)
    for run_id in ids:
        shuffle(order)  # no server always follows the same other one (or goes first)
        for mode in order:
            times[mode].append(
                timed(
                    lambda mode=mode, run_id=run_id: stubs[mode].GetPipelineRun(pb.GetPipelineRunRequest(run_id=run_id))
                )
            )
    # server CPU per call of each process (the off+metrics process serves two calls per id)
    cpu_us = {
        mode: (cpu_seconds(pid) - cpu[mode]) / len(ids) / (2 if "+" in mode else 1) * 1e6 for mode, pid in pids.items()
    }
    p50 = {mode: percentile(values, 50) * 1000 for mode, values in times.items()}
    p99 = {mode: percentile(values, 99) * 1000 for mode, values in times.items()}
    return {
        "case": label,
        "calls_each": len(ids),
        **{f"{mode}_p50_ms": round(value, 3) for mode, value in p50.items()},
        **{f"{mode}_p99_ms": round(value, 3) for mode, value in p99.items()},
        **{f"{mode}_server_cpu_us_per_call": round(value) for mode, value in cpu_us.items()},
        **({"off_vs_baseline_p50_us": round((p50["off"] - p50["baseline"]) * 1000, 1)} if "baseline" in p50 else {}),
        "metrics_overhead_p50_us": round((p50["metrics"] - p50["off"]) * 1000, 1),
        "tracing_overhead_p50_us": round((p50["tracing"] - p50["off"]) * 1000, 1),
    }


def always_on_costs(fake_port: int, calls: int) -> dict:
    """Per AWS call, what runs with metrics and tracing off: copying the call's context into the
    executor thread, and the attempt hook (two event handlers) against a real endpoint."""

    def noop() -> None:
        pass

    number = 200_000
    copy = min(timeit.repeat(lambda: contextvars.copy_context().run(noop), number=number, repeat=5)) / number
    bare = min(timeit.repeat(noop, number=number, repeat=5)) / number
    handlers = {}

    class Events:
        def register(self, event: str, handler) -> None:
            handlers[event] = handler

    class Client:
        meta = type("Meta", (), {"events": Events()})()

    count_attempts(Client(), AwsCallMetrics("bench"))

    def attempt() -> None:
        handlers["before-send"]()
        handlers["response-received"](
            event_name="response-received.batch.DescribeJobs",
            parsed_response={"jobs": []},
            response_dict={"status_code": 200},
        )

    hook = min(timeit.repeat(attempt, number=20_000, repeat=5)) / 20_000
    plain, hooked = (
        boto3.client(
            "batch",
            region_name="us-east-1",
            endpoint_url=f"http://127.0.0.1:{fake_port}",
            aws_access_key_id="AKIDBENCH",
            aws_secret_access_key="bench",
        )
        for _ in range(2)
    )
    count_attempts(hooked, AwsCallMetrics("bench"))
    for client in (plain, hooked):
        client.describe_jobs(jobs=["job-1"])
    times = {"plain": [], "hooked": []}
    for i in range(calls):
        for name, client in (
            (("plain", plain), ("hooked", hooked)) if i % 2 == 0 else (("hooked", hooked), ("plain", plain))
        ):
            times[name].append(timed(lambda client=client: client.describe_jobs(jobs=["job-1"])))
    return {
        "case": "always on (metrics and tracing off)",
        "context_copy_per_aws_call_us": round((copy - bare) * 1e6, 2),
        "hook_per_attempt_us": round(hook * 1e6, 2),
        "boto3_describe_jobs_p50_ms": round(percentile(times["plain"], 50) * 1000, 3),
        "boto3_describe_jobs_with_hook_p50_ms": round(percentile(times["hooked"], 50) * 1000, 3),
        "hook_overhead_p50_us_measured_end_to_end": round(
            (percentile(times["hooked"], 50) - percentile(times["plain"], 50)) * 1e6, 1
        ),
    }


def interceptor_cost(calls: int = 20_000) -> dict:
    """The metrics step alone, in-process: the call chain with metrics against the same chain
    without, intercept + one unary call each (the server's other work excluded)."""
    import asyncio

    from polysync_batch.api.chain.access_log import AccessLog
    from polysync_batch.api.chain.deadline import Deadline
    from polysync_batch.api.chain.errors import ErrorMapping
    from polysync_batch.api.chain.metrics import Metrics
    from polysync_batch.api.chain.runner import CallChain
    from polysync_batch.observability.metrics import ServerMetrics

    class Context:
        def code(self) -> None:
            return None

        def time_remaining(self) -> None:
            return None

    class Details:
        method = "/polysync.platform.v1.PlatformService/GetPipelineRun"

    async def behavior(request, context):
        return request

    handler = grpc.unary_unary_rpc_method_handler(behavior)

    async def continuation(details):
        return handler

    async def run() -> dict:
        steps = [AccessLog(), ErrorMapping(), Deadline()]
        chains = {"off": CallChain(steps), "metrics": CallChain([Metrics(ServerMetrics([]).rpc), *steps])}
        context = Context()
        best = {mode: float("inf") for mode in chains}
        for _ in range(5):
            for mode, chain in chains.items():
                started = time.perf_counter()
                for _ in range(calls):
                    await (await chain.intercept_service(continuation, Details)).unary_unary(1, context)
                best[mode] = min(best[mode], (time.perf_counter() - started) / calls)
        return {
            "case": "metrics step alone, in-process (best of 5)",
            "per_call_us": round((best["metrics"] - best["off"]) * 1e6, 2),
        }

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--baseline", help="a checkout whose bench.server runs as mode 'baseline'")
    parser.add_argument(
        "--cpu",
        type=int,
        default=-1,
        help="pin client, servers and endpoint to this CPU (-1: no pinning), so no server "
        "gets a quieter core than another on a shared machine",
    )
    args = parser.parse_args()
    if args.cpu >= 0:
        os.sched_setaffinity(0, {args.cpu})  # the processes started below inherit it
    fake, fake_port = start("bench.fake_batch", "--jobs", "100000", "--start", str(time.time()), "--first", "3600")
    server_args = [
        "--endpoint",
        f"http://127.0.0.1:{fake_port}",
        "--interval",
        "3600",
        "--describe-per-second",
        "100000",
    ]
    twins, (off_port, metrics_port) = start_server(*server_args, *TWINS)
    traced, (tracing_port,) = start_server(*server_args, *TRACING)
    processes = [twins, traced]
    ports = {"off": off_port, "metrics": metrics_port, "tracing": tracing_port}
    pids = {"off+metrics": twins.pid, "tracing": traced.pid}
    if args.baseline:
        baseline, (ports["baseline"],) = start_server(*server_args, tree=args.baseline)
        processes.append(baseline)
        pids["baseline"] = baseline.pid
    channels = {mode: grpc.insecure_channel(f"127.0.0.1:{port}") for mode, port in ports.items()}
    try:
        stubs = {mode: platform_service_pb2_grpc.PlatformServiceStub(channel) for mode, channel in channels.items()}
        for stub in stubs.values():  # warm every path
            for _ in range(50):
                stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id="job-1"))
        print(
            json.dumps(side_by_side(stubs, pids, ["job-1"] * args.calls, "cached GetPipelineRun (no AWS call)")),
            flush=True,
        )
        print(
            json.dumps(
                side_by_side(
                    stubs,
                    pids,
                    [f"job-{i}" for i in range(10, 10 + args.calls)],
                    "uncached GetPipelineRun (one DescribeJobs each)",
                )
            ),
            flush=True,
        )
        print(json.dumps(always_on_costs(fake_port, args.calls)), flush=True)
        print(json.dumps(interceptor_cost()), flush=True)
    finally:
        for channel in channels.values():
            channel.close()
        for process in processes:
            stop(process)
        stop(fake)


if __name__ == "__main__":
    main()
