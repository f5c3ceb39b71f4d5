"""The server's in-loop CPU per ingested event, stage by stage, in one process without gRPC or
AWS: N "Batch Job State Change" envelopes (SQS message bodies as EventBridge delivers them) for
M runs (SUBMITTED → PENDING → RUNNABLE → STARTING → RUNNING → SUCCEEDED/FAILED, a share of
them delivered twice: at-least-once) go through what the event consumer does with them on the
event loop, 10 messages per ReceiveMessage answer:

- `parse`: `SqsEventQueue.parse` (the envelope's JSON, aws/translate.to_run of its detail);
- `observe`: `RunHub.observe` of each run, wired as bootstrap wires it (the poller following,
  the blocked-queue hook, the feed's listener), with S watch streams subscribed (stream i
  watches run i % M);
- `watch`: each stream takes what it was given and encodes it (`convert.watch_event_bytes`:
  the run converted and encoded once per state, each stream's own fields);
- `feed`: every 100 messages (the feed's 50 ms batch), the history records the batch and one
  feed consumer's message is encoded (`convert.feed_message_bytes`).

Prints one JSON line per code tree: µs of CPU per ingested event per stage (best of
`--repeat` passes). `--before DIR` runs the same events with the server's code from DIR
(DIR/server first on PYTHONPATH) and with this tree, alternating, one pass each per round,
`--repeat` rounds; `--profile FILE` writes a cProfile of one more pass.

    git archive main server | tar -x -C /tmp/eventpath-before
    python -m bench.event_path --runs 2000 --streams 2000 --before /tmp/eventpath-before
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime

ACCOUNT = "123456789012"
REGION = "us-east-1"
QUEUE = f"arn:aws:batch:{REGION}:{ACCOUNT}:job-queue/bench-q"
DEFINITION = f"arn:aws:batch:{REGION}:{ACCOUNT}:job-definition/bench-pipeline:3"
LIFECYCLE = ["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING"]
CHUNK = 10  # messages per ReceiveMessage answer
FEED_EVERY = 100  # messages per feed batch (BATCH_SECONDS at ~2,000 events/s)
STAGES = ("parse", "observe", "watch", "feed")


def detail(index: int, status: str, created_ms: int, failed: bool) -> dict:
    """The job as a Batch Job State Change event's detail carries it (DescribeJobs' JobDetail)."""
    job_id = f"{index:08x}-0a82-49aa-ba5a-4727fcce14a8"
    stream = f"bench-pipeline/default/{index:032x}"
    container = {
        "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/bench:latest",
        "command": ["python", "-m", "pipeline", "--input", f"s3://bucket/in/{index}"],
        "jobRoleArn": f"arn:aws:iam::{ACCOUNT}:role/bench-job",
        "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/bench-exec",
        "volumes": [],
        "environment": [{"name": "STAGE", "value": "prod"}],
        "mountPoints": [],
        "ulimits": [],
        "networkInterfaces": [],
        "resourceRequirements": [{"value": "2", "type": "VCPU"}, {"value": "4096", "type": "MEMORY"}],
        "logConfiguration": {"logDriver": "awslogs", "options": {}, "secretOptions": []},
        "secrets": [],
    }
    job: dict = {
        "jobArn": f"arn:aws:batch:{REGION}:{ACCOUNT}:job/{job_id}",
        "jobName": f"Polysync-bench-{index}",
        "jobId": job_id,
        "jobQueue": QUEUE,
        "status": status,
        "attempts": [],
        "createdAt": created_ms,
        "retryStrategy": {"attempts": 2, "evaluateOnExit": []},
        "dependsOn": [],
        "jobDefinition": DEFINITION,
        "parameters": {"input": f"s3://bucket/in/{index}", "mode": "full"},
        "container": container,
        "tags": {"polysync:pipeline": "bench-pipeline", "team": "genomics"},
        "propagateTags": True,
        "platformCapabilities": ["EC2"],
        "eksAttempts": [],
    }
    if status in ("STARTING", "RUNNING", "SUCCEEDED", "FAILED"):
        container["logStreamName"] = stream
        container["taskArn"] = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/bench/{index:032x}"
        container["containerInstanceArn"] = f"arn:aws:ecs:{REGION}:{ACCOUNT}:container-instance/bench/{index:032x}"
    if status in ("RUNNING", "SUCCEEDED", "FAILED"):
        job["startedAt"] = created_ms + 40_123
    if status in ("SUCCEEDED", "FAILED"):
        code = 1 if failed else 0
        job["stoppedAt"] = created_ms + 95_456
        job["statusReason"] = "Essential container in task exited"
        container["exitCode"] = code
        if failed:
            container["reason"] = "OutOfMemoryError: Container killed due to memory usage"
        job["attempts"] = [
            {
                "container": {
                    "containerInstanceArn": container["containerInstanceArn"],
                    "taskArn": container["taskArn"],
                    "exitCode": code,
                    "logStreamName": stream,
                    "networkInterfaces": [],
                },
                "startedAt": created_ms + 40_123,
                "stoppedAt": created_ms + 95_456,
                "statusReason": "Essential container in task exited",
            }
        ]
    return job


def bodies(runs: int, duplicates: float, seed: int = 7) -> list[str]:
    """Each run's lifecycle, runs interleaved (a wave), a share of the events delivered twice."""
    rng = random.Random(seed)
    created = 1_764_000_000_000
    out: list[str] = []
    for step in range(len(LIFECYCLE) + 1):
        for index in range(runs):
            failed = index % 7 == 0
            status = LIFECYCLE[step] if step < len(LIFECYCLE) else ("FAILED" if failed else "SUCCEEDED")
            seconds = created // 1000 + 10 * step
            body = json.dumps(
                {
                    "version": "0",
                    "id": f"{index:08x}-{step:04x}-6b6c-5a38-8d1f2e3a4b5c",
                    "detail-type": "Batch Job State Change",
                    "source": "aws.batch",
                    "account": ACCOUNT,
                    "time": datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "region": REGION,
                    "resources": [f"arn:aws:batch:{REGION}:{ACCOUNT}:job/{index:08x}-0a82-49aa-ba5a-4727fcce14a8"],
                    "detail": detail(index, status, created + index, failed),
                }
            )
            out.append(body)
            if rng.random() < duplicates:
                out.append(body)
    return out


async def one_pass(events: list[str], runs: int, streams: int) -> dict[str, float]:
    """Seconds of CPU per stage for one pass of every event through a fresh hub."""
    from polysync_batch.api import convert
    from polysync_batch.aws.event_queue import SqsEventQueue
    from polysync_batch.aws.translate import RunContext
    from polysync_batch.bootstrap import build_watch
    from polysync_batch.config import WatchConfig
    from polysync_batch.feed.feed import FeedMessage, RunFeed
    from polysync_batch.feed.history import MemoryHistory
    from polysync_batch.service.blocked_queues import BlockedQueues
    from polysync_batch.service.ports import Source
    from polysync_batch.watch.clock import SystemClock

    ctx = RunContext("bench", REGION, None, 600.0)
    queue = SqsEventQueue(None, None, "https://sqs.invalid/q", ctx, ACCOUNT)
    settings = WatchConfig(poll_interval_seconds=3600, max_poll_interval_seconds=3600, heartbeat_seconds=3600)
    clock = SystemClock()

    async def describe(run_ids: list[str]) -> list:
        raise AssertionError("the bench reads nothing from AWS")

    watch = build_watch("bench", describe, settings, clock)
    hub = watch.hub
    watch.poller.reconcile_every(3600)
    blocked = BlockedQueues("bench", hub.get_many, hub.redeliver)
    hub.on_change(blocked.on_change)
    history = MemoryHistory("bench")
    feed = RunFeed("bench", history, lambda run: run.job_queue.endswith("/bench-q"), 3600, clock.wall)
    hub.on_change(feed.listener)
    hub.admit_events(lambda run: run.job_queue.endswith("/bench-q"))
    sent: list[list] = []
    history.subscribe(sent.append)

    # Every run known (its first event read as a poll would) and watched by its streams.
    first = list({run.run_id: run for run in (queue.parse("r", body).run for body in events[: 2 * runs])}.values())
    first = first[:runs]
    for run in first:
        hub.observe(run, Source.POLL)
    subscribed: dict[str, list] = {run.run_id: [] for run in first}
    for index in range(streams):
        run_id = first[index % runs].run_id
        subscription = await hub.subscribe([run_id])
        subscribed[run_id].append((subscription, subscription.events(clock, 3600)))
    for pairs in subscribed.values():
        for subscription, events_of in pairs:
            while subscription._pending:
                convert.watch_event_bytes(await anext(events_of))
    feed._flush()
    sent.clear()

    cpu = dict.fromkeys(STAGES, 0.0)
    collecting = [0.0, 0.0]  # the cyclic GC's CPU inside the stages (start of the current collection, total)

    def collection(phase: str, info: dict) -> None:
        if phase == "start":
            collecting[0] = time.process_time()
        else:
            collecting[1] += time.process_time() - collecting[0]

    gc.callbacks.append(collection)
    tick = time.process_time
    flushed = 0
    for start in range(0, len(events), CHUNK):
        t0 = tick()
        parsed = [queue.parse(f"r{start + i}", body) for i, body in enumerate(events[start : start + CHUNK])]
        t1 = tick()
        for message in parsed:
            hub.observe(message.run, Source.EVENT, message.time)
        t2 = tick()
        for message in parsed:
            for subscription, events_of in subscribed[message.run.run_id]:
                while subscription._pending:
                    convert.watch_event_bytes(await anext(events_of))
        t3 = tick()
        cpu["parse"] += t1 - t0
        cpu["observe"] += t2 - t1
        cpu["watch"] += t3 - t2
        if start + CHUNK - flushed >= FEED_EVERY or start + CHUNK >= len(events):
            flushed = start + CHUNK
            t4 = tick()
            feed._flush()
            for changes in sent:
                convert.feed_message_bytes(FeedMessage(changes, "cursor"))
            sent.clear()
            cpu["feed"] += tick() - t4
    gc.callbacks.remove(collection)
    hub.close(RuntimeError("done"))  # type: ignore[arg-type]
    cpu["gc"] = collecting[1]
    return cpu


def measure(runs: int, streams: int, duplicates: float, repeat: int, profile: str) -> dict:
    events = bodies(runs, duplicates)
    best: dict[str, float] = {}
    if profile:  # one pass more, profiled (not timed)
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
        asyncio.run(one_pass(events, runs, streams))
        profiler.disable()
        profiler.dump_stats(profile)
    for _ in range(repeat):
        gc.collect()
        cpu = asyncio.run(one_pass(events, runs, streams))
        best = cpu if not best else {stage: min(best[stage], cpu[stage]) for stage in (*STAGES, "gc")}
    per_event = {stage: round(best[stage] / len(events) * 1e6, 1) for stage in STAGES}
    return {
        "events": len(events),
        "runs": runs,
        "streams": streams,
        "us_per_event": per_event,
        "us_per_event_total": round(sum(per_event.values()), 1),
        "gc_us_per_event": round(best["gc"] / len(events) * 1e6, 1),  # inside the stages' figures
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--streams", type=int, default=2000, help="watch streams, stream i watching run i %% runs")
    parser.add_argument("--duplicates", type=float, default=0.2, help="share of events delivered twice")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before", default="", help="a checkout of the code before: the same events through it")
    parser.add_argument("--profile", default="", help="write a cProfile of one more pass here")
    parser.add_argument("--code", default="after", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.before:
        import polysync_batch

        result = measure(args.runs, args.streams, args.duplicates, max(1, args.repeat), args.profile)
        where = os.path.dirname(polysync_batch.__file__)
        print(json.dumps({"bench": "event_path", "code": args.code, "from": where, **result}), flush=True)
        return
    # Before and after alternate, one pass each per round (the machine's load moves between
    # rounds, not within one), and each stage's best round is kept.
    path = [f"{args.before}/server", os.environ.get("PYTHONPATH", "")]
    codes = {"before": dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, path))), "after": dict(os.environ)}
    best: dict[str, dict] = {}
    for _ in range(max(1, args.repeat)):
        for code, env in codes.items():
            command = [sys.executable, "-m", "bench.event_path", "--runs", str(args.runs)]
            command += ["--streams", str(args.streams), "--duplicates", str(args.duplicates), "--repeat", "1"]
            line = subprocess.run(command + ["--code", code], env=env, check=True, capture_output=True, text=True)
            result = json.loads(line.stdout.strip().splitlines()[-1])
            if code in best:
                stages = best[code]["us_per_event"]
                result["us_per_event"] = {s: min(stages[s], result["us_per_event"][s]) for s in STAGES}
                result["us_per_event_total"] = round(sum(result["us_per_event"].values()), 1)
                result["gc_us_per_event"] = min(best[code]["gc_us_per_event"], result["gc_us_per_event"])
            best[code] = result
    for code in codes:
        print(json.dumps({**best[code], "rounds": max(1, args.repeat)}), flush=True)
    ratio = best["after"]["us_per_event_total"] / best["before"]["us_per_event_total"]
    print(json.dumps({"bench": "event_path", "after_over_before": round(ratio, 3)}), flush=True)


if __name__ == "__main__":
    main()
