"""Every scenario of clients/feed-policy.json replayed against the Python client's feed helper,
`follow_changes` (sync and asyncio), through a scripted server on 127.0.0.1:0; the other
clients replay the same file (docs/clients.md, "The feed helper")."""

from __future__ import annotations

import asyncio
import json
import pathlib
from typing import Any

import grpc
import polysync_platform_client as client
import polysync_platform_client.aio as aio
import pytest
from polysync.platform.v1 import pipeline_run_pb2
from polysync.platform.v1 import platform_service_pb2 as pb

from tests.clients.scripted_server import Fail, ScriptedServer
from tests.clients.watch_policy import TABLE as WATCH_TABLE

ROOT = pathlib.Path(__file__).resolve().parents[2]
TABLE: dict[str, Any] = json.loads((ROOT / "clients" / "feed-policy.json").read_text())
SCENARIOS = {s["name"]: s for s in TABLE["scenarios"]}
WATCH = WATCH_TABLE["policy"]


TERMINAL = {"SUCCEEDED", "FAILED"}  # the table's rule for the runs of its messages and answers


def scripted_run(run_id: str, native: str) -> pipeline_run_pb2.PipelineRun:
    return pipeline_run_pb2.PipelineRun(run_id=run_id, native_status=native, terminal=native in TERMINAL)


def batch_get(spec: dict[str, Any]) -> Any:
    """One scripted BatchGetPipelineRuns answer (or its error)."""
    if "error" in spec:
        return Fail(getattr(grpc.StatusCode, spec["error"]), spec.get("reason", ""))
    return pb.BatchGetPipelineRunsResponse(
        runs=[scripted_run(run_id, native) for run_id, native in spec["runs"]],
        missing_run_ids=spec["missing_run_ids"],
    )


def step(spec: dict[str, Any]) -> Any:
    """One item of a scripted stream: a WatchRunChangesResponse, or the error that ends it."""
    if "error" in spec:
        return Fail(getattr(grpc.StatusCode, spec["error"]), spec.get("reason", ""))
    message = pb.WatchRunChangesResponse(
        cursor=spec.get("cursor", ""),
        heartbeat=spec.get("heartbeat", False),
        snapshot_complete=spec.get("snapshot_complete", False),
    )
    for run_id, version, native in spec.get("changes", []):
        message.changes.add(run=scripted_run(run_id, native), version=version)
    if "stale_since" in spec:
        message.stale_since.FromJsonString(spec["stale_since"])
    return message


def describe(event: client.FeedEvent) -> str:
    """An event as the table's `expect.events` writes it: "change r1 3 RUNNING stale @c1"."""
    words = [event.kind]
    if event.kind == client.FeedEvent.CHANGE:
        words += [event.run.run_id, str(event.version), event.run.native_status]
    elif event.kind == client.FeedEvent.GONE:
        words.append(event.run.run_id)
    if event.stale:
        words.append("stale")
    return " ".join([*words, f"@{event.cursor}"])


class Replay:
    def __init__(self) -> None:
        self.events: list[str] = []
        self.reconnects: list[int] = []
        self.delays: list[float] = []
        self.error: BaseException | None = None
        self.cursor: str | None = None


def replay(flavour: str, scenario: dict[str, Any], target: str) -> Replay:
    out = Replay()
    start = scenario["start"]
    kwargs: dict[str, Any] = {
        "cursor": start.get("cursor", ""),
        "tags": start.get("tags"),
        "in_flight": start.get("in_flight", []),
        "on_reconnect": lambda attempt, delay, error: out.reconnects.append(attempt),
    }
    if flavour == "sync":
        with client.connect(target) as c:
            c._sleep = out.delays.append
            feed = c.follow_changes(**kwargs)
            try:
                for event in feed:
                    out.events.append(describe(event))
            except grpc.RpcError as error:
                out.error = error
            out.cursor = feed.cursor
        return out

    async def main() -> None:
        async def sleep(delay: float) -> None:
            out.delays.append(delay)

        async with aio.connect(target) as c:
            c._sleep = sleep
            feed = c.follow_changes(**kwargs)
            try:
                async for event in feed:
                    out.events.append(describe(event))
            except grpc.RpcError as error:
                out.error = error
            out.cursor = feed.cursor

    asyncio.run(main())
    return out


def backoff_bounds(attempt: int) -> tuple[float, float]:
    base = min(WATCH["max_backoff_seconds"], WATCH["initial_backoff_seconds"] * WATCH["multiplier"] ** (attempt - 1))
    return base * (1 - WATCH["jitter"]), base * (1 + WATCH["jitter"])


@pytest.mark.parametrize("flavour", ["sync", "aio"])
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario(name, flavour):
    scenario = SCENARIOS[name]
    expect = scenario["expect"]
    with ScriptedServer() as server:
        for stream in scenario["streams"]:
            server.script("WatchRunChanges", *[step(s) for s in stream])
        for answer in scenario.get("batch_gets", []):
            server.script("BatchGetPipelineRuns", batch_get(answer))
        out = replay(flavour, scenario, server.target)
        opened = server.calls_of("WatchRunChanges")
        reads = server.calls_of("BatchGetPipelineRuns")
    assert out.events == expect["events"]
    requests = [
        {"cursor": c.request.cursor, "snapshot": c.request.snapshot, "tags": dict(c.request.tags)} for c in opened
    ]
    assert requests == [{"tags": {}, **r} for r in expect["requests"]]
    assert all(c.request.platform == "" for c in opened)
    assert [list(c.request.run_ids) for c in reads] == [b["run_ids"] for b in scenario.get("batch_gets", [])]
    assert all(c.request.platform == "" for c in reads)
    assert out.reconnects == expect["reconnects"]
    assert len(out.delays) == len(out.reconnects)  # a relist is not waited for, every reconnect is
    for attempt, delay in zip(out.reconnects, out.delays, strict=True):
        low, high = backoff_bounds(attempt)
        assert low <= delay <= high, (attempt, delay)
    assert out.cursor == expect["cursor"]
    assert isinstance(out.error, grpc.RpcError), out.error
    assert out.error.code().name == expect["end"], out.error
    assert client.reason(out.error) == expect["end_reason"]


def test_every_scenario_ends_in_an_error_the_policy_names():
    """The feed has no end of its own: every scenario ends with an error (the replay checks it)."""
    assert all(s["expect"]["end"] != "OK" for s in TABLE["scenarios"])
