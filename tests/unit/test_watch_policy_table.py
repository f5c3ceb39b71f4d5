"""The server's side of clients/watch-policy.json: what one watch stream sends again is what every
client's duplicate suppression lets through. Each `same_state` pair is delivered to one
Subscription (the server's per-stream buffer) after the first state went out: a pair the table
calls the same must not go out again (the stream stays quiet until its heartbeat), any other
pair must. The clients replay the same pairs (docs/clients.md)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from polysync_batch.domain.models import ArrayInfo, Run
from polysync_batch.domain.status import RunStatus
from polysync_batch.watch.clock import SystemClock
from polysync_batch.watch.subscription import Subscription

from tests.clients.watch_policy import TABLE


def domain_run(spec: dict[str, Any]) -> Run:
    array = None
    if "size" in spec or "counts" in spec:
        array = ArrayInfo(size=spec.get("size", 0), index=None, status_counts=dict(spec.get("counts", {})))
    return Run(
        run_id="r1",
        platform="demo",
        pipeline="greet",
        pipeline_revision=1,
        pipeline_arn="arn:aws:batch:eu-west-1:000000000000:job-definition/greet:1",
        job_name="greet",
        job_queue="arn:aws:batch:eu-west-1:000000000000:job-queue/demo",
        status=RunStatus.RUNNING,
        native_status=spec["native"],
        status_reason=spec.get("reason", ""),
        exit_code=spec.get("exit_code"),
        message=spec.get("message", ""),
        console_url="",
        terminal=spec.get("terminal", False),
        array=array,
    )


def stale(spec: dict[str, Any]) -> datetime | None:
    return datetime.fromtimestamp(spec["stale_since"], UTC) if "stale_since" in spec else None


async def sent_again(a: dict[str, Any], b: dict[str, Any]) -> bool:
    subscription = Subscription(["r1"])
    events = subscription.events(SystemClock(), heartbeat_seconds=0.05)
    subscription.deliver(domain_run(a), stale(a))
    first = await anext(events)
    assert first.run is not None and not first.heartbeat
    subscription.deliver(domain_run(b), stale(b))
    following = await anext(events)
    await events.aclose()
    return not following.heartbeat


@pytest.mark.parametrize("case", TABLE["same_state"], ids=lambda case: case["name"])
def test_the_server_sends_a_state_again_only_when_the_table_says_it_changed(case):
    assert asyncio.run(sent_again(case["a"], case["b"])) is not case["same"]


def test_the_table_names_the_servers_state_key():
    """The table's state_key is the server's Run.change_key plus stale_since (subscription.py)."""
    run = domain_run({"native": "RUNNING", "reason": "r", "exit_code": 1, "size": 2, "counts": {"RUNNING": 2}})
    assert run.change_key() == ("RUNNING", "r", 1, (("RUNNING", 2),))
    assert TABLE["policy"]["state_key"] == [
        "native_status",
        "status_reason",
        "exit_code",
        "array.status_counts",
        "stale_since",
    ]
