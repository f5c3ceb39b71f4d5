"""The run changes feed (SPEC §12) under the fan-out bench's wave: M runs each changing three
times (RUNNABLE → STARTING → RUNNING → SUCCEEDED), the M changes of each step within one second,
delivered by events (the fake endpoint's SQS queue) to K WatchRunChanges consumers. Prints, per
K: change → consumer delay (p50, p99), messages per change, server CPU per delivered change.
Every `--sample`-th consumer (default 10) times each change it gets; the others only count what
they get, reading each message as a skeleton whose changes are left encoded (`Skeleton`: ~7 µs
a message of 280 changes against ~85 µs to decode it), so this process's own decoding does not
hold the streams back (`--sample 1` times all).
`--floor N` adds the bare grpc.aio floor (bench/grpc_floor.py, N streams) measured in the same
run; `--quiet S` the AWS calls of a quiet platform of M runs over S seconds without and with a
feed consumer (`--watched`: every run also watched by WatchPipelineRuns streams); `--before DIR`
runs every case a second time with the server's code taken from DIR (a checkout of the code
before a change: DIR/server goes first on PYTHONPATH), so before and after come from one run.

    python -m bench.feed --runs 10000 --consumers 1,100 --floor 1000 --quiet 60 --before /tmp/main
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
import urllib.request

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync.platform.v1 import platform_service_pb2_grpc

from bench import grpc_floor
from bench.fake_batch import STATES, change_time
from bench.harness import children_cpu_seconds, cpu_seconds, percentile, start, stop

CHANNELS = 10
METHOD = "/polysync.platform.v1.PlatformService/WatchRunChanges"


def _skeleton() -> type:
    """WatchRunChangesResponse with its changes left as bytes (field 1) and its heartbeat (3):
    what a consumer that only counts needs, without decoding ~800 bytes per change."""
    file = descriptor_pb2.FileDescriptorProto(name="bench_feed_skeleton.proto", package="bench", syntax="proto3")
    message = file.message_type.add(name="Skeleton")
    field = descriptor_pb2.FieldDescriptorProto
    message.field.add(name="changes", number=1, type=field.TYPE_BYTES, label=field.LABEL_REPEATED)
    message.field.add(name="heartbeat", number=3, type=field.TYPE_BOOL, label=field.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("bench.Skeleton"))


Skeleton = _skeleton()


def fake_calls(port: int) -> dict[str, int]:
    """The fake endpoint's call counts by operation."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/stats", data=b"{}", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())["calls"]


async def run(
    runs: int, consumers: int, first: float, period: float, code: str, env: dict[str, str], sample: int = 1
) -> dict:
    """`sample`: every sample-th consumer times each change it receives; the others only count
    them (decoding and timing 3,000,000 changes in this one process would slow the consumers
    down to where they, not the server, set the delay)."""
    start_at = time.time()
    fake, fake_port = start(
        "bench.fake_batch", "--jobs", str(runs), "--start", str(start_at), "--first", str(first),
        "--period", str(period), "--events",
    )  # fmt: skip
    server, port = start(
        "bench.server", "--endpoint", f"http://127.0.0.1:{fake_port}", "--events", "--interval", "5", env=env
    )
    channels = [grpc.aio.insecure_channel(f"127.0.0.1:{port}") for _ in range(CHANNELS)]
    delays: list[float] = []
    messages = changes = 0
    done = asyncio.Event()
    terminal: list[set[str]] = [set() for _ in range(consumers)]

    sampled = range(0, consumers, sample)
    counted = [0] * consumers  # changes received by each consumer not sampled
    base = [0] * consumers  # … before the first wave: each run's first state, not a change of it

    def finished() -> bool:
        return all(len(terminal[n]) >= runs for n in sampled) and all(
            counted[n] - base[n] >= 3 * runs for n in range(consumers) if n % sample
        )

    async def consume(n: int) -> None:
        nonlocal messages, changes
        request = pb.WatchRunChangesRequest(platform="bench")
        if n % sample:  # not sampled: count only (the bench's own CPU must not be the bottleneck)
            serialize, deserialize = pb.WatchRunChangesRequest.SerializeToString, Skeleton.FromString
            call = channels[n % CHANNELS].unary_stream(METHOD, serialize, deserialize)(request)
        else:
            call = platform_service_pb2_grpc.PlatformServiceStub(channels[n % CHANNELS]).WatchRunChanges(request)
        async for message in call:
            received = time.time()
            if message.heartbeat:
                continue
            messages += 1
            if n % sample:
                counted[n] += len(message.changes)
                if counted[n] - base[n] >= 3 * runs and finished():
                    done.set()
                continue
            for change in message.changes:
                status = change.run.native_status
                if status not in STATES[1:]:
                    continue
                changes += 1
                index = int(change.run.run_id.split("-")[1])
                delays.append(received - change_time(start_at, first, period, index, STATES.index(status) - 1))
                if status == "SUCCEEDED":
                    terminal[n].add(change.run.run_id)
            if finished():
                done.set()

    try:
        tasks = [asyncio.ensure_future(consume(n)) for n in range(consumers)]
        await asyncio.sleep(max(0.0, start_at + first - time.time()))
        cpu_before, window_start, client_before = cpu_seconds(server.pid), time.time(), time.process_time()
        ingest_before, fake_before = children_cpu_seconds(server.pid), cpu_seconds(fake.pid)
        base[:] = counted
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), 2 * period + 30)
        cpu = cpu_seconds(server.pid) - cpu_before
        ingest_cpu = children_cpu_seconds(server.pid) - ingest_before
        fake_cpu = cpu_seconds(fake.pid) - fake_before
        window = time.time() - window_start
        client_cpu = time.process_time() - client_before
        for task in tasks:
            task.cancel()
        delivered = changes + sum(counted) - sum(base)
        return {
            "bench": "feed",
            "code": code,
            "runs": runs,
            "consumers": consumers,
            "changes_delivered": delivered,
            "timed_consumers": len(sampled),
            "changes_timed": len(delays),
            "changes_expected": 3 * runs * consumers,
            "messages": messages,
            "messages_per_change": round(messages / max(1, delivered), 4),
            "delay_p50_s": round(percentile(delays, 50), 2),
            "delay_p99_s": round(percentile(delays, 99), 2),
            "cpu_us_per_change": round(cpu / max(1, delivered) * 1e6, 1),
            "window_s": round(window, 1),
            "server_cpu_s": round(cpu, 1),
            "ingest_processes_cpu_s": round(ingest_cpu, 1),  # events.ingest_processes', not in the above
            "fake_endpoint_cpu_s": round(fake_cpu, 1),
            "client_cpu_s": round(client_cpu, 1),  # this process: the consumers on the same cores
        }
    finally:
        for channel in channels:
            await channel.close()
        stop(server)
        stop(fake)


async def quiet(runs: int, seconds: float, code: str, env: dict[str, str], watched: bool = False) -> dict:
    """A platform of `runs` non-terminal runs that do not change: the server's AWS calls over
    `seconds` with no feed consumer, then over `seconds` after a consumer's snapshot (the
    first discovery round) with one. Reconcile interval 60 s, events flowing. `watched`: every
    run is also watched (WatchPipelineRuns, 1,000 ids a stream) from the start, so the watch
    core's own reconcile reads them."""
    fake, fake_port = start("bench.fake_batch", "--jobs", str(runs), "--first", "1e9", "--events")
    server, port = start(
        "bench.server", "--endpoint", f"http://127.0.0.1:{fake_port}", "--events", "--interval", "5", env=env
    )
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    watches: list[asyncio.Task] = []
    try:
        if watched:
            watches = [
                asyncio.ensure_future(drain_watch(channel, [f"job-{i}" for i in range(start, min(start + 1000, runs))]))
                for start in range(0, runs, 1000)
            ]
        await asyncio.sleep(5)
        before = fake_calls(fake_port)
        await asyncio.sleep(seconds)
        without = fake_calls(fake_port)
        stub = platform_service_pb2_grpc.PlatformServiceStub(channel)
        stream = stub.WatchRunChanges(pb.WatchRunChangesRequest(platform="bench", snapshot=True))
        snapshot = 0
        async for message in stream:
            snapshot += len(message.changes)
            if message.snapshot_complete:
                break
        first_round = fake_calls(fake_port)
        await asyncio.sleep(seconds)
        with_feed = fake_calls(fake_port)
        stream.cancel()

        def grown(after: dict[str, int], earlier: dict[str, int]) -> dict[str, int]:
            return {k: v - earlier.get(k, 0) for k, v in after.items() if k != "stats" and v > earlier.get(k, 0)}

        def per_minute(after: dict[str, int], earlier: dict[str, int]) -> dict[str, float]:
            return {k: round(v * 60 / seconds, 1) for k, v in grown(after, earlier).items()}

        return {
            "bench": "feed-quiet",
            "code": code,
            "runs": runs,
            "watched": runs if watched else 0,
            "snapshot_runs": snapshot,
            "calls_per_min_without_feed": per_minute(without, before),
            "calls_first_round": grown(first_round, without),
            "calls_per_min_with_feed": per_minute(with_feed, first_round),
            "window_s": seconds,
        }
    finally:
        for task in watches:
            task.cancel()
        await channel.close()
        stop(server)
        stop(fake)


async def drain_watch(channel: grpc.aio.Channel, run_ids: list[str]) -> None:
    stub = platform_service_pb2_grpc.PlatformServiceStub(channel)
    async for _ in stub.WatchPipelineRuns(pb.WatchPipelineRunsRequest(platform="bench", run_ids=run_ids)):
        pass


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10000)
    parser.add_argument("--consumers", default="1,100")
    parser.add_argument("--first", type=float, default=20.0, help="seconds before the first wave")
    parser.add_argument("--period", type=float, default=8.0, help="seconds between waves")
    parser.add_argument("--floor", type=int, default=0, help="also the bare grpc.aio floor with this many streams")
    parser.add_argument("--quiet", type=float, default=0, help="also a quiet platform's AWS calls over this window")
    parser.add_argument("--before", default="", help="a checkout of the code before: its cases run too")
    parser.add_argument("--ingest-processes", default="", help="also each case with these events.ingest_processes")
    parser.add_argument("--watched", action="store_true", help="--quiet: every run is also watched")
    parser.add_argument("--sample", type=int, default=10, help="time the changes of every Nth consumer only")
    args = parser.parse_args()
    codes = [("after", {})]
    for processes in [int(n) for n in args.ingest_processes.split(",") if n]:  # events.ingest_processes
        codes.append((f"after-ingest-processes-{processes}", {"BENCH_INGEST_PROCESSES": str(processes)}))
    if args.before:
        codes.insert(0, ("before", {"PYTHONPATH": f"{args.before}/server"}))
    for consumers in [int(c) for c in args.consumers.split(",") if c]:
        for code, env in codes:
            result = await run(args.runs, consumers, args.first, args.period, code, env, args.sample)
            print(json.dumps(result), flush=True)
    if args.quiet:
        for code, env in codes:
            print(json.dumps(await quiet(args.runs, args.quiet, code, env, args.watched)), flush=True)
    if args.floor:
        print(json.dumps(await grpc_floor.drive(args.floor)), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
