"""Watches under faults: DescribeJobs lagging SubmitJob, and AWS unreachable for 30 s under open
watch streams. Every stream must stay open and end at the terminal state."""

from __future__ import annotations

import asyncio
import os
import time

from polysync.platform.v1 import pipeline_run_pb2 as runs_pb
from polysync.platform.v1 import platform_service_pb2 as pb

from tests.faults.conftest import WATCH, jobs_for, platforms_via
from tests.faults.proxy import Action, Fault
from tests.support import serve

# The outage is 30 s; POLYSYNC_FAULT_OUTAGE_SECONDS shortens it when iterating locally.
OUTAGE_SECONDS = max(6.0, float(os.environ.get("POLYSYNC_FAULT_OUTAGE_SECONDS", "30")))


async def test_a_watch_right_after_submit_survives_describe_jobs_lagging_by_4_s(emulator, proxy):
    submitted_at: dict[str, float] = {}

    def rule(exchange):  # DescribeJobs does not know a job for 4 s after SubmitJob answered
        if exchange.operation == "SubmitJob":
            submitted_at[exchange.job_name] = exchange.at
        if exchange.operation == "DescribeJobs" and any(exchange.at - t < 4 for t in submitted_at.values()):
            return Action(Fault.ANSWER, body={"jobs": []})
        return None

    proxy.rule = rule
    watch = WATCH.model_copy(
        update={"poll_interval_seconds": 1.0, "max_poll_interval_seconds": 1.0, "not_found_after_polls": 3}
    )
    async with serve(platforms_via(emulator, proxy.endpoint_url, watch=watch)) as served:
        answer = await served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello", request_id="lag-1"))
        events = [
            e
            async for e in served.stub.WatchPipelineRun(
                pb.WatchPipelineRunRequest(run_id=answer.run.run_id), timeout=30
            )
        ]
        got = await served.stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id=answer.run.run_id))
    assert events[0].run.native_status == "SUBMITTED"  # the submit-time state while AWS lagged
    assert events[-1].run.status == runs_pb.RUN_STATUS_SUCCEEDED and events[-1].run.terminal
    assert got.run.terminal
    assert sum(e.fault is Fault.ANSWER for e in proxy.of("DescribeJobs")) >= 3  # the lag outlasted 3 polls
    assert jobs_for(emulator, "lag-1") == [answer.run.run_id]


async def test_aws_unreachable_for_30_s_keeps_every_stream_which_ends_at_the_terminal_state(emulator, proxy):
    async with serve(platforms_via(emulator, proxy.endpoint_url, max_attempts=2)) as served:
        answers = await asyncio.gather(
            *(
                served.stub.ExecutePipeline(
                    pb.ExecutePipelineRequest(
                        pipeline="hello", request_id=f"outage-{i}", parameters={"duration_seconds": "4"}
                    )
                )
                for i in range(20)
            )
        )
        runs = [answer.run for answer in answers]  # each RUNNING for 4 s: done at AWS during the outage

        async def follow(run_id: str) -> list:
            return [
                e
                async for e in served.stub.WatchPipelineRun(
                    pb.WatchPipelineRunRequest(run_id=run_id), timeout=OUTAGE_SECONDS + 60
                )
            ]

        watchers = [asyncio.ensure_future(follow(run.run_id)) for run in runs]
        await asyncio.sleep(1.0)  # every stream is open and has its first state
        assert not any(w.done() for w in watchers)
        proxy.unreachable = True
        started = time.monotonic()
        await asyncio.sleep(OUTAGE_SECONDS)  # the jobs finish at AWS meanwhile
        assert not any(w.done() for w in watchers), "a stream ended during the outage"
        proxy.unreachable = False
        streams = await asyncio.wait_for(asyncio.gather(*watchers), 30)
    assert time.monotonic() - started >= OUTAGE_SECONDS
    for events in streams:
        assert any(e.HasField("stale_since") for e in events), "the outage was not visible on the stream"
        assert events[-1].run.status == runs_pb.RUN_STATUS_SUCCEEDED and not events[-1].HasField("stale_since")
        assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    assert all(len(jobs_for(emulator, f"outage-{i}")) == 1 for i in range(20))
