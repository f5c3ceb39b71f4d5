"""The gRPC server under benchmark, against the fake endpoint: `--mode shared` is the product
(one poller per platform), `--mode naive` the per-stream baseline; `--events` adds the platform's event queue (the fake
endpoint's). Prints "ready PORT".

    python -m bench.server --endpoint http://127.0.0.1:PORT --mode shared --interval 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import boto3
from polysync_batch.api.server import build_server
from polysync_batch.bootstrap import build_platform
from polysync_batch.config import EventsConfig, MetricsConfig, PlatformConfig, ServerConfig, WatchConfig
from polysync_batch.domain.models import PlatformInfo
from polysync_batch.observability.tracing import Tracing

try:
    from polysync_batch.service.budget import AdaptiveBudget
except ImportError:  # the code before the watch core moved it (bench/cache_at_bound.py runs both)
    from polysync_batch.watch.budget import AdaptiveBudget
from polysync_batch.service.registry import PlatformRegistry
from polysync_batch.service.runs import RunService

from bench.fake_batch import QUEUE_URL
from bench.naive import NaiveHub


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--mode", choices=["shared", "naive"], default="shared")
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--max-pending-requests", type=int, default=20000)
    parser.add_argument("--describe-per-second", type=float, default=50.0, help="the DescribeJobs budget")
    parser.add_argument("--metrics", action="store_true", help="serve /metrics on a port of its own")
    parser.add_argument("--tracing", action="store_true", help="a span per RPC and AWS call, kept in memory")
    parser.add_argument(
        "--twin-with-metrics",
        action="store_true",
        help="also serve a second server, metrics on, in this process and loop (its own "
        'platform and cache); prints "ready PORT TWIN_PORT"',
    )
    parser.add_argument("--events", action="store_true", help="consume the fake endpoint's SQS event queue")
    parser.add_argument("--reconcile", type=float, default=60.0, help="events.reconcile_interval_seconds")
    parser.add_argument("--max-cached-runs", type=int, default=100_000, help="watch.max_cached_runs")
    parser.add_argument("--prefill", type=int, default=0, help="runs put in the cache before serving")
    args = parser.parse_args()
    tracing = None
    if args.tracing:  # the real SDK path with an exporter that only keeps the spans
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(InMemorySpanExporter()))
        tracing = Tracing(provider)
        tracing.start()
    # Fixed intervals (no growth) so both modes poll at the same rate and the counts compare.
    watch = WatchConfig.model_construct(
        poll_interval_seconds=args.interval,
        max_poll_interval_seconds=args.interval,
        heartbeat_seconds=30,
        describe_jobs_per_second=args.describe_per_second,
        describe_jobs_burst=max(1, int(args.describe_per_second)),
        max_cached_runs=args.max_cached_runs,
    )
    session = boto3.Session(aws_access_key_id="AKIDBENCH", aws_secret_access_key="bench", region_name="us-east-1")
    info = PlatformInfo(
        name="bench", region="us-east-1", default_job_queue="q", console_domain=None, runnable_warning_seconds=600
    )
    executor = ThreadPoolExecutor(max_workers=32)
    processes = os.environ.get("BENCH_INGEST_PROCESSES")  # set: events.ingest_processes
    ingest = {"ingest_processes": int(processes)} if processes else {}
    events = (
        EventsConfig(sqs_queue_url=QUEUE_URL, reconcile_interval_seconds=args.reconcile, **ingest)
        if args.events
        else None
    )

    def platforms() -> PlatformRegistry:
        platform = build_platform(
            info,
            session,
            executor,
            endpoint_url=args.endpoint,
            watch=watch,
            aws=PlatformConfig(region="us-east-1", max_attempts=3, events=events),
        )
        if args.mode == "naive":  # the same use cases over a hub that polls per stream
            hub = NaiveHub("bench", platform.batch.describe_runs, watch)
            platform = replace(
                platform,
                hub=hub,
                runs=RunService(
                    info,
                    platform.batch,
                    platform.pipelines,
                    hub,
                    AdaptiveBudget(20, 20, hub.clock),
                    hub.clock,
                    submit_attempts=3,
                ),
            )
        return PlatformRegistry({"bench": platform}, "bench")

    settings = ServerConfig(
        address="127.0.0.1:0",
        health_check_interval_seconds=0,
        max_streams_per_caller=1_000_000,
        max_pending_requests=args.max_pending_requests,
    )
    metrics_on = MetricsConfig(address="127.0.0.1:0")
    registry = platforms()
    if args.prefill:
        prefill(registry.get("bench").hub, args.prefill)
    servers = [await build_server(registry, settings, metrics_on if args.metrics else None, tracing)]
    if args.twin_with_metrics:
        servers.append(await build_server(platforms(), settings, metrics_on, tracing))
    print("ready " + " ".join(str(running.port) for running in servers), flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    for running in servers:
        await running.stop(1)


def prefill(hub, count: int) -> None:
    """`count` runs in the cache, as reads of them would leave them (ids fill-0 …, unknown to the
    fake endpoint, so they never change)."""
    from polysync_batch.aws.translate import RunContext, to_run
    from polysync_batch.watch.source import Source

    template = to_run(
        {"jobId": "fill", "status": "RUNNABLE", "jobDefinition": "arn:aws:batch:us-east-1:1:job-definition/d:1"},
        RunContext("bench", "us-east-1", None, 600),
    )
    for i in range(count):
        hub.observe(replace(template, run_id=f"fill-{i}"), Source.READ)


def process_settings() -> None:
    """The process-wide settings `polysync-batch serve` makes (cli.main), where the code under
    test has them (`--before` code may predate them)."""
    try:
        from polysync_batch.collector import collect_less_often
        from polysync_batch.malloc import return_large_blocks_to_os
    except ImportError:
        return
    if not os.environ.get("BENCH_DEFAULT_GC"):  # set: CPython's collector thresholds, to compare
        collect_less_often()
    return_large_blocks_to_os()


def gc_stats(path: str) -> None:
    """Writes to `path`, at exit, each collector generation's collections and seconds."""
    import atexit
    import gc

    spent = {0: [0, 0.0], 1: [0, 0.0], 2: [0, 0.0]}
    began = [0.0]

    def timed(phase: str, info: dict) -> None:
        if phase == "start":
            began[0] = time.perf_counter()
        else:
            entry = spent[info["generation"]]
            entry[0] += 1
            entry[1] += time.perf_counter() - began[0]

    gc.callbacks.append(timed)

    def write() -> None:
        with open(path, "w") as out:
            json.dump({f"gen{g}": {"collections": n, "seconds": round(s, 3)} for g, (n, s) in spent.items()}, out)

    atexit.register(write)


if __name__ == "__main__":
    process_settings()
    if os.environ.get("BENCH_GC_STATS"):  # where to write the collector's collections and time
        gc_stats(os.environ["BENCH_GC_STATS"])
    if os.environ.get("BENCH_PROFILE"):  # where to write a cProfile of the server
        import cProfile

        cProfile.run("asyncio.run(main())", os.environ["BENCH_PROFILE"])
    else:
        asyncio.run(main())
