"""Exactly-once submit under faults, and what the idempotency ledger costs. Prints one JSON line
per figure.

    .venv/bin/python -m bench.submit_faults --submits 100

For each fault (injected by tests/faults/proxy.py between the service and the emulator), N
ExecutePipeline calls with distinct request_ids, each retried by the caller with the same
request_id on UNAVAILABLE / DEADLINE_EXCEEDED / RESOURCE_EXHAUSTED (at most 10 tries), as the
client helpers do; then, per request_id, the jobs AWS holds: `duplicates` counts request_ids
with more than one job, `lost_acks` those whose caller never got the id of the one job. Then
ExecutePipeline latency with the DynamoDB ledger off and on, call by call alternately.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
import uuid

import grpc
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync_batch.emulator import start_emulator

from tests.faults.conftest import LIFECYCLE, jobs_for, platforms_via
from tests.faults.proxy import Action, Fault, FaultProxy
from tests.support import serve

RETRYABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED}


def faults() -> dict:
    """Name → rule. Each rule fires on roughly half the SubmitJobs, at random."""

    def sometimes(action: Action):
        return lambda e: action if e.operation == "SubmitJob" and random.random() < 0.5 else None

    def mixed(exchange):
        if exchange.operation == "SubmitJob" and random.random() < 0.6:
            return random.choice(
                [
                    Action(Fault.LOSE_ANSWER),
                    Action(Fault.ERROR_AFTER, status=500),
                    Action(Fault.ERROR, status=429),
                    Action(Fault.DELAY, seconds=1.5),
                    Action(Fault.RESET),
                ]
            )
        if exchange.operation == "ListJobs" and random.random() < 0.2:
            return Action(Fault.RESET)
        return None

    return {
        "answer_lost": sometimes(Action(Fault.LOSE_ANSWER)),
        "5xx_after_accept": sometimes(Action(Fault.ERROR_AFTER, status=500)),
        "throttled_429": sometimes(Action(Fault.ERROR, status=429)),
        "slower_than_deadline": sometimes(Action(Fault.DELAY, seconds=1.5)),
        "mixed": mixed,
    }


async def submit_with_retries(stub, request_id: str) -> str | None:
    request = pb.ExecutePipelineRequest(pipeline="hello", request_id=request_id)
    for attempt in range(10):
        try:
            return (await stub.ExecutePipeline(request, timeout=1.0)).run.run_id
        except grpc.aio.AioRpcError as error:
            if error.code() not in RETRYABLE:
                raise
            await asyncio.sleep(min(2.0, 0.1 * 2**attempt))
    return None


async def under_fault(emulator, proxy, name: str, rule, submits: int) -> dict:
    proxy.rule = rule
    async with serve(platforms_via(emulator, proxy.endpoint_url)) as served:
        request_ids = [f"{name}-{uuid.uuid4()}" for _ in range(submits)]
        semaphore = asyncio.Semaphore(10)

        async def one(request_id: str) -> str | None:
            async with semaphore:
                return await submit_with_retries(served.stub, request_id)

        answers = await asyncio.gather(*(one(r) for r in request_ids))
    proxy.rule = lambda exchange: None
    held = [jobs_for(emulator, r) for r in request_ids]
    return {
        "figure": "submits_under_fault",
        "fault": name,
        "submits": submits,
        "jobs_created": sum(len(jobs) for jobs in held),
        "duplicates": sum(1 for jobs in held if len(jobs) > 1),
        "lost_acks": sum(1 for jobs, answer in zip(held, answers, strict=False) if jobs and answer not in jobs),
        "unanswered": sum(1 for answer in answers if answer is None),
    }


async def ledger_latency(emulator, proxy, calls: int) -> dict:
    table = f"bench-idempotency-{uuid.uuid4().hex[:8]}"
    dynamodb = emulator.client("dynamodb")
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    proxy.rule = lambda exchange: None
    timings: dict[str, list[float]] = {"off": [], "on": []}
    async with (
        serve(platforms_via(emulator, proxy.endpoint_url)) as off,
        serve(platforms_via(emulator, proxy.endpoint_url, idempotency_table=table)) as on,
    ):
        for _ in range(calls):
            for label, served in (("off", off), ("on", on)):
                started = time.perf_counter()
                await served.stub.ExecutePipeline(
                    pb.ExecutePipelineRequest(pipeline="hello", request_id=str(uuid.uuid4())), timeout=30
                )
                timings[label].append((time.perf_counter() - started) * 1000)

    def pct(values: list[float], q: float) -> float:
        return round(statistics.quantiles(values, n=100)[int(q) - 1], 2)

    return {
        "figure": "execute_latency_ms",
        "calls_each": calls,
        "ledger_off": {"p50": round(statistics.median(timings["off"]), 2), "p99": pct(timings["off"], 99)},
        "ledger_on": {"p50": round(statistics.median(timings["on"]), 2), "p99": pct(timings["on"], 99)},
        "p50_ratio_on_over_off": round(statistics.median(timings["on"]) / statistics.median(timings["off"]), 2),
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--submits", type=int, default=100, help="per fault")
    parser.add_argument("--latency-calls", type=int, default=200)
    parser.add_argument("--faults", nargs="*", help="only these faults (default: all)")
    args = parser.parse_args()
    random.seed(20261201)
    with start_emulator(LIFECYCLE) as emulator, FaultProxy(emulator.endpoint_url) as proxy:
        totals = {"submits": 0, "duplicates": 0, "lost_acks": 0}
        for name, rule in faults().items():
            if args.faults and name not in args.faults:
                continue
            before = len([e for e in proxy.of("SubmitJob") if e.fault is not None])
            result = await under_fault(emulator, proxy, name, rule, args.submits)
            result["faults_injected"] = len([e for e in proxy.of("SubmitJob") if e.fault is not None]) - before
            print(json.dumps(result), flush=True)
            for key in totals:
                totals[key] += result[key]
        print(json.dumps({"figure": "submits_under_faults_total", **totals}), flush=True)
        print(json.dumps(await ledger_latency(emulator, proxy, args.latency_calls)), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
