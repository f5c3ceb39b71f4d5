"""Fan-out and burst: N watch streams over M runs, with the shared poller polling, with the
shared hub fed by the event queue (polling only as reconciliation), and with the naive
per-stream baseline, side by side in one run against the fake endpoint.

    python -m bench.watch_fanout --runs 1000 --streams 10000 --interval 5
    python -m bench.watch_fanout --runs 10000 --streams 10000 --modes shared,events --first 100 --burst ""
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
import urllib.request

import grpc
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync.platform.v1 import platform_service_pb2_grpc

from bench import grpc_floor
from bench.fake_batch import STATES, change_time
from bench.harness import cpu_seconds, percentile, rss_kib, start, stop

CHANNELS = 20  # separate HTTP/2 connections, as many clients would use


def stats(fake_port: int) -> dict:
    with urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{fake_port}/v1/stats", data=b"{}")) as r:
        return json.load(r)


def channels(port: int) -> list[grpc.aio.Channel]:
    options = [("grpc.use_local_subchannel_pool", 1)]  # one connection per channel, not shared
    return [grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=options) for _ in range(CHANNELS)]


class Streams:
    """`count` watch streams opened at once over CHANNELS connections; job-(n % runs) each."""

    def __init__(self, port: int, runs: int, count: int, on_event) -> None:
        self.channels = channels(port)
        stubs = [platform_service_pb2_grpc.PlatformServiceStub(c) for c in self.channels]
        self.errors: list[str] = []
        self.answered = 0  # streams that got their first message or failed
        self.all_answered = asyncio.Event()
        self.count = count

        self.failed_after_first: list[str] = []  # streams that got their first message, then an error

        async def follow(n: int) -> None:
            request = pb.WatchPipelineRunRequest(run_id=f"job-{n % runs}")
            answered = False
            try:
                async for event in stubs[n % CHANNELS].WatchPipelineRun(request):
                    if not answered:
                        answered = True
                        self._answer()
                    on_event(n % runs, event, time.time())
            except grpc.aio.AioRpcError as error:
                (self.failed_after_first if answered else self.errors).append(error.code().name)
                if not answered:
                    self._answer()

        self.tasks = [asyncio.ensure_future(follow(n)) for n in range(count)]

    def _answer(self) -> None:
        self.answered += 1
        if self.answered == self.count:
            self.all_answered.set()

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for channel in self.channels:
            await channel.close()


async def fanout(
    mode: str, runs: int, streams: int, interval: float, first: float, period: float, max_pending: int = 20000
) -> dict:
    """`mode`: shared (polling), naive (per-stream polling) or events (shared, fed by the event
    queue, polling only as reconciliation)."""
    start_at = time.time()
    events = ["--events"] if mode.startswith("events") else []
    fake, fake_port = start(
        "bench.fake_batch",
        "--jobs",
        str(runs),
        "--start",
        str(start_at),
        "--first",
        str(first),
        "--period",
        str(period),
        *events,
    )
    # "shared+metrics": the product with [metrics] on (one more wrapper per stream)
    base, _, extra = mode.partition("+")
    server, port = start(
        "bench.server",
        "--endpoint",
        f"http://127.0.0.1:{fake_port}",
        "--mode",
        "naive" if base == "naive" else "shared",
        "--interval",
        str(interval),
        "--max-pending-requests",
        str(max_pending),
        *events,
        *([f"--{extra}"] if extra else []),
    )
    try:
        await asyncio.sleep(1)
        rss_before = rss_kib(server.pid)
        delays: list[float] = []
        changes = 0

        def on_event(index: int, event, received: float) -> None:
            nonlocal changes
            if event.heartbeat or event.sequence == 1:
                return
            changes += 1
            change = STATES.index(event.run.native_status) - 1  # STARTING is change 0
            delays.append(received - change_time(start_at, first, period, index, change))

        opened_at = time.time()
        opened = Streams(port, runs, streams, on_event)
        # the naive baseline may not get every stream answered before the first change
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(opened.all_answered.wait(), timeout=first - 2)
        open_seconds = time.time() - opened_at
        answered_before_changes = opened.answered
        quiet_calls, quiet_start = stats(fake_port)["calls"].get("describejobs", 0), time.time()
        await asyncio.sleep(1)
        rss_open = rss_kib(server.pid)
        # Steady state: from the first change to the last terminal state.
        await asyncio.sleep(max(0.0, start_at + first - time.time()))
        calls_before, cpu_before, window_start = (
            stats(fake_port)["calls"].get("describejobs", 0),
            cpu_seconds(server.pid),
            time.time(),
        )
        # Before any change: only the poll (or reconcile) schedule calls DescribeJobs.
        quiet_per_minute = (calls_before - quiet_calls) / max(1.0, window_start - quiet_start) * 60
        changes_before = changes
        done, pending = await asyncio.wait(
            opened.tasks, timeout=first + 2 * period + 3 * interval + 10 - (time.time() - start_at)
        )
        window = time.time() - window_start
        calls = stats(fake_port)["calls"].get("describejobs", 0) - calls_before
        cpu = cpu_seconds(server.pid) - cpu_before
        delivered = changes - changes_before
        await opened.close()
        final = stats(fake_port)
        return {
            "mode": mode,
            "streams": streams,
            "runs": runs,
            "interval_s": interval,
            "rejected": len(opened.errors),
            "rejected_codes": sorted(set(opened.errors)),
            "open_s": round(open_seconds, 1),
            "failed_after_first": len(opened.failed_after_first),
            "failed_after_first_codes": sorted(set(opened.failed_after_first)),
            "answered_before_first_change": answered_before_changes,
            "unfinished_streams": len(pending),
            "describe_calls_per_interval": round(calls / (window / interval), 1),
            "describe_calls_per_minute_changing": round(calls / window * 60, 1),
            "describe_calls_per_minute_quiet": round(quiet_per_minute, 1),
            "queue_left": final.get("queue", {}),
            "sqs_receives": final["calls"].get("ReceiveMessage", 0),
            "rss_per_stream_kib": round((rss_open - rss_before) / streams, 1),
            "rss_before_mib": round(rss_before / 1024, 1),
            "rss_open_mib": round(rss_open / 1024, 1),
            "cpu_us_per_event": round(cpu / max(1, delivered) * 1e6, 1),
            "events_delivered": delivered,
            "server_cpu_s": round(cpu, 1),
            "window_s": round(window, 1),
            "delay_p50_s": round(percentile(delays, 50), 2),
            "delay_p99_s": round(percentile(delays, 99), 2),
            "delay_max_s": round(max(delays) if delays else float("nan"), 2),
        }
    finally:
        stop(server)
        stop(fake)


async def burst(streams: int, max_pending: int) -> dict:
    """Opens `streams` watches at once on long-running runs; counts those rejected."""
    fake, fake_port = start("bench.fake_batch", "--jobs", "100", "--start", str(time.time()), "--first", "3600")
    server, port = start(
        "bench.server", "--endpoint", f"http://127.0.0.1:{fake_port}", "--max-pending-requests", str(max_pending)
    )
    try:
        started = time.time()
        opened = Streams(port, 100, streams, lambda *a: None)
        await asyncio.wait_for(opened.all_answered.wait(), timeout=120)
        seconds = time.time() - started
        await opened.close()
        return {
            "max_pending_requests": max_pending,
            "streams": streams,
            "rejected": len(opened.errors),
            "codes": sorted(set(opened.errors)),
            "all_answered_s": round(seconds, 1),
        }
    finally:
        stop(server)
        stop(fake)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--streams", type=int, default=10000)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--first", type=float, default=40.0, help="seconds until the first state change")
    parser.add_argument("--period", type=float, default=15.0, help="seconds between state changes")
    parser.add_argument(
        "--modes", default="shared,events,naive", help="shared (polling), events, naive; shared+metrics, shared+tracing"
    )
    parser.add_argument("--burst", default="1000,20000", help="max_pending_requests values to burst against")
    parser.add_argument("--max-pending-requests", type=int, default=20000, help="server.max_pending_requests")
    parser.add_argument(
        "--floor",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also measure the bare grpc.aio floor at the same stream count",
    )
    args = parser.parse_args()
    for mode in args.modes.split(","):
        print(
            json.dumps(
                await fanout(
                    mode, args.runs, args.streams, args.interval, args.first, args.period, args.max_pending_requests
                )
            ),
            flush=True,
        )
    for max_pending in filter(None, args.burst.split(",")):
        print(json.dumps(await burst(args.streams, int(max_pending))), flush=True)
    if args.floor:
        print(json.dumps(await grpc_floor.drive(args.streams)), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
