"""DynamoDB write units per change of the feed's history table (aws/history.py), from the items
the service writes: N runs submitted straight to the emulator (the service never sees the
submits), one replica on a table of its own, until every run's terminal state is recorded; then
every item's size by DynamoDB's rules (attribute names + values) gives the units each write
cost: a change item and the head update in a transaction (2 units per KB each), the latest-run
item by BatchWriteItem (1 per KB). The emulator's lifecycle gives each run ~7 changes.

    python -m bench.history_units --runs 200
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import time
import uuid

import boto3
from polysync_batch.bootstrap import build_platform
from polysync_batch.config import PlatformConfig
from polysync_batch.domain.models import PlatformInfo
from polysync_batch.emulator import Lifecycle, start_emulator
from polysync_batch.emulator.seed import seed_history_table
from polysync_batch.service.registry import PlatformRegistry

from tests.support import FAST_WATCH, serve


def size(item: dict) -> int:
    """An item's size as DynamoDB bills it (close enough: numbers ~ digits/2 + 1 bytes)."""
    total = 0
    for name, value in item.items():
        total += len(name.encode())
        ((kind, data),) = value.items()
        total += {"S": lambda d: len(d.encode()), "B": len, "N": lambda d: len(d) // 2 + 1}[kind](data)
    return total


async def measure(runs: int) -> dict:
    with start_emulator(Lifecycle(submitted=0.1, pending=0.1, runnable=0.1, starting=0.1, running=0.3)) as emulator:
        dynamodb = emulator.client("dynamodb")
        description = dynamodb.describe_table(TableName=seed_history_table(dynamodb))["Table"]
        table = f"units-{uuid.uuid4().hex[:8]}"
        dynamodb.create_table(
            TableName=table,
            AttributeDefinitions=description["AttributeDefinitions"],
            KeySchema=description["KeySchema"],
            BillingMode="PAY_PER_REQUEST",
        )
        session = boto3.Session(
            aws_access_key_id=emulator.access_key_id,
            aws_secret_access_key=emulator.secret_access_key,
            region_name=emulator.region,
        )
        info = PlatformInfo("demo", emulator.region, emulator.job_queue, None, 600.0)
        aws = PlatformConfig(region=emulator.region, max_attempts=3, history_table=table)
        platform = build_platform(info, session, None, endpoint_url=emulator.endpoint_url, watch=FAST_WATCH, aws=aws)
        async with serve(PlatformRegistry({"demo": platform}, "demo")) as served:
            history = served.platforms.get("demo").feed._history
            end = time.monotonic() + 30
            while not history.leader and time.monotonic() < end:
                await asyncio.sleep(0.1)
            batch = emulator.client("batch")
            ids = [
                batch.submit_job(jobName=f"units-{i}", jobQueue=emulator.job_queue, jobDefinition="hello")["jobId"]
                for i in range(runs)
            ]
            end = time.monotonic() + 120
            while time.monotonic() < end:
                jobs = [j for k in range(0, runs, 100) for j in batch.describe_jobs(jobs=ids[k : k + 100])["jobs"]]
                items = dynamodb.scan(TableName=table)["Items"]
                latest = {i["sk"]["S"]: i for i in items if "#r#" in i["pk"]["S"]}
                if all(j["status"] in ("SUCCEEDED", "FAILED") for j in jobs) and all(
                    latest.get(j["jobId"], {}).get("active", {}).get("N") == "0" for j in jobs
                ):
                    break
                await asyncio.sleep(1)
            transactions = history.writes
        items = dynamodb.scan(TableName=table)["Items"]
    changes = [i for i in items if "#c#" in i["pk"]["S"]]
    latest = [i for i in items if "#r#" in i["pk"]["S"]]
    (head,) = [i for i in items if i["pk"]["S"].endswith("#head")]
    change_units = sum(2 * math.ceil(size(i) / 1024) for i in changes)
    head_units = transactions * 2 * math.ceil(size(head) / 1024)
    # One latest-run put per run per transaction it changed in: at most one per change.
    run_puts = len(changes)
    run_units = run_puts * max(math.ceil(size(i) / 1024) for i in latest)
    sizes = sorted(size(i) for i in changes)
    return {
        "bench": "history-units",
        "runs": runs,
        "changes": len(changes),
        "transactions": transactions,
        "change_item_bytes_p50": sizes[len(sizes) // 2],
        "change_item_bytes_max": sizes[-1],
        "write_units_per_change": round((change_units + head_units + run_units) / len(changes), 2),
        "of_which_change_items": round(change_units / len(changes), 2),
        "of_which_head": round(head_units / len(changes), 3),
        "of_which_latest_run_items_at_most": round(run_units / len(changes), 2),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    print(json.dumps(asyncio.run(measure(parser.parse_args().runs))))
