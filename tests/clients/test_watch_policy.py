"""Every scenario of clients/watch-policy.json replayed against the Python client's watch helpers
(sync and asyncio) through a scripted server on 127.0.0.1:0; the other clients replay the same
file (docs/clients.md)."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import polysync_platform_client as client
import polysync_platform_client.aio as aio
import pytest
from polysync.platform.v1 import pipeline_run_pb2
from polysync_platform_client.policy import state_key

from tests.clients.scripted_server import Fail, Hang, ScriptedServer, event
from tests.clients.watch_policy import TABLE, describe

POLICY = TABLE["policy"]
SCENARIOS = {s["name"]: s for s in TABLE["scenarios"]}


def pipeline_run(spec: dict[str, Any], run_id: str = "r1") -> pipeline_run_pb2.PipelineRun:
    run = pipeline_run_pb2.PipelineRun(
        run_id=spec.get("run", run_id),
        native_status=spec["native"],
        status_reason=spec.get("reason", ""),
        terminal=spec.get("terminal", False),
        message=spec.get("message", ""),
    )
    if "exit_code" in spec:
        run.exit_code = spec["exit_code"]
    if "size" in spec:
        run.array.size = spec["size"]
    for status, count in spec.get("counts", {}).items():
        run.array.status_counts[status] = count
    return run


def step(spec: dict[str, Any], many: bool) -> Any:
    if "error" in spec:
        return Fail(getattr(grpc.StatusCode, spec["error"]), spec.get("reason", ""))
    if spec.get("hang"):
        return Hang()
    return event(
        pipeline_run(spec), heartbeat=spec.get("heartbeat", False), stale_since=spec.get("stale_since"), many=many
    )


class Replay:
    def __init__(self) -> None:
        self.events: list[str] = []
        self.reconnects: list[int] = []
        self.delays: list[float] = []
        self.error: BaseException | None = None
        self.now = 0.0


def replay(flavour: str, scenario: dict[str, Any], target: str) -> Replay:
    out = Replay()
    ids = scenario["watch"]
    kwargs: dict[str, Any] = {
        "timeout": scenario.get("timeout"),
        "idle_timeout": scenario.get("idle_timeout"),
        "on_reconnect": lambda attempt, delay, error: out.reconnects.append(attempt),
    }
    token_source = (lambda: "token") if scenario.get("token_source") else None

    def record(e: client.RunEvent) -> None:
        out.events.append(describe(e.run.run_id, e.run.native_status, heartbeat=e.heartbeat, stale=bool(e.stale_since)))

    def slept(delay: float) -> None:
        out.delays.append(delay)
        out.now += delay

    if flavour == "sync":
        with client.connect(target, token_source=token_source) as c:
            c._sleep, c._clock = slept, lambda: out.now
            events = c.watch_run(ids[0], **kwargs) if len(ids) == 1 else c.watch_runs(ids, **kwargs)
            try:
                for e in events:
                    record(e)
            except (grpc.RpcError, client.StreamEndedEarly) as error:
                out.error = error
        return out

    async def main() -> None:
        async def sleep(delay: float) -> None:
            slept(delay)

        async with aio.connect(target, token_source=token_source) as c:
            c._sleep, c._clock = sleep, lambda: out.now
            events = c.watch_run(ids[0], **kwargs) if len(ids) == 1 else c.watch_runs(ids, **kwargs)
            try:
                async for e in events:
                    record(e)
            except (grpc.RpcError, client.StreamEndedEarly) as error:
                out.error = error

    asyncio.run(main())
    return out


def backoff_bounds(attempt: int) -> tuple[float, float]:
    base = min(POLICY["max_backoff_seconds"], POLICY["initial_backoff_seconds"] * POLICY["multiplier"] ** (attempt - 1))
    return base * (1 - POLICY["jitter"]), base * (1 + POLICY["jitter"])


@pytest.mark.parametrize("flavour", ["sync", "aio"])
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario(name, flavour):
    scenario = SCENARIOS[name]
    expect = scenario["expect"]
    many = len(scenario["watch"]) > 1
    with ScriptedServer() as server:
        method = "WatchPipelineRuns" if many else "WatchPipelineRun"
        for stream in scenario["streams"]:
            server.script(method, *[step(s, many) for s in stream])
        out = replay(flavour, scenario, server.target)
        opened = server.calls_of(method)
    assert out.events == expect["events"]
    if "reconnects" in expect:
        assert out.reconnects == expect["reconnects"]
    else:
        low, high = expect["reconnects_between"]
        assert low <= len(out.reconnects) <= high and out.reconnects == list(range(1, len(out.reconnects) + 1))
    assert len(out.delays) == len(out.reconnects)  # every reported reconnect was waited for
    for attempt, delay in zip(out.reconnects, out.delays, strict=True):
        low, high = backoff_bounds(attempt)
        assert low <= delay <= high, (attempt, delay)
    if "streams_opened" in expect:
        assert len(opened) == expect["streams_opened"]
    if "requested" in expect:
        assert [list(c.request.run_ids) for c in opened] == expect["requested"]
    if "timeout" in scenario:
        assert sum(out.delays) < scenario["timeout"]
    end = expect["end"]
    if end == "OK":
        assert out.error is None
    elif end == "STREAM_ENDED_EARLY":
        assert isinstance(out.error, client.StreamEndedEarly)
    else:
        assert isinstance(out.error, grpc.RpcError) and out.error.code().name == end, out.error
        assert client.reason(out.error) == expect.get("end_reason", "")


def test_the_backoff_table_is_the_policy():
    policy = client.DEFAULT_POLICY
    for row in TABLE["backoff"]:
        assert policy.backoff(row["attempt"], lambda lo, hi: lo) == pytest.approx(row["min"])
        assert policy.backoff(row["attempt"], lambda lo, hi: hi) == pytest.approx(row["max"])
    assert (policy.initial_backoff, policy.max_backoff, policy.jitter, policy.max_reconnects) == (
        POLICY["initial_backoff_seconds"],
        POLICY["max_backoff_seconds"],
        POLICY["jitter"],
        POLICY["max_reconnects"],
    )


@pytest.mark.parametrize("case", TABLE["same_state"], ids=lambda c: c["name"])
def test_same_state(case):
    def key(spec: dict[str, Any]) -> tuple[object, ...]:
        stale = spec.get("stale_since")
        return state_key(
            pipeline_run(spec),
            None if stale is None else event(pipeline_run(spec), stale_since=stale).stale_since.ToDatetime(),
        )

    assert (key(case["a"]) == key(case["b"])) == case["same"]
