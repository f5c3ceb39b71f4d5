"""SPEC §8.5 rows about callers reaching each other: idempotency keys that belong to their
caller, platforms isolated by their queues, tamper-proof page tokens and the GetLogEvents
budget. Each asserts on the world afterwards: jobs at the emulator, AWS calls, log lines."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
import uuid

import grpc
import pytest
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync.platform.v1 import platform_service_pb2_grpc
from polysync_batch.bootstrap import demo_platforms

from tests.hostile.conftest import TEAM_QUEUE, as_caller, jobs_at, serve_callers, two_platforms
from tests.support import error_details, reason_of, serve, start_serve, wait_for_port


def ledger(emulator) -> str:
    name = f"polysync-idempotency-{uuid.uuid4().hex[:8]}"
    dynamodb = emulator.client("dynamodb")
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def submit(platform: str, request_id: str, pipeline: str = "hello", **fields: object) -> pb.ExecutePipelineRequest:
    return pb.ExecutePipelineRequest(platform=platform, pipeline=pipeline, request_id=request_id, **fields)


@pytest.mark.parametrize("with_ledger", [False, True], ids=["job-name-look-up", "ledger"])
async def test_a_request_id_belongs_to_its_caller(emulator, proxy, with_ledger):
    """bob's request_id never returns, reveals or blocks his run for alice; bob reusing it for a
    different request is ALREADY_EXISTS REQUEST_ID_REUSED and nothing is submitted."""
    settings = {"idempotency_table": ledger(emulator)} if with_ledger else {}
    request_id = f"nightly-{uuid.uuid4().hex[:8]}"
    async with serve_callers(two_platforms(emulator, proxy.endpoint_url, **settings)) as served:
        bob = await served.stub.ExecutePipeline(submit("team", request_id), metadata=as_caller("bob"))
        alice = await served.stub.ExecutePipeline(
            submit("team", request_id, "greet", parameters={"name": "alice"}), metadata=as_caller("alice")
        )
        assert not alice.deduplicated and alice.run.run_id != bob.run.run_id
        assert alice.run.pipeline == "greet"
        again = await served.stub.ExecutePipeline(submit("team", request_id), metadata=as_caller("bob"))
        assert again.deduplicated and again.run.run_id == bob.run.run_id

        submits = len(proxy.of("SubmitJob"))
        for different in (
            submit("team", request_id, "greet", parameters={"name": "bob"}),  # another pipeline
            submit("team", request_id, parameters={"exit_code": "1"}),  # other parameters
            submit("team", request_id, timeout_seconds=600),  # an override
        ):
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await served.stub.ExecutePipeline(different, metadata=as_caller("bob"))
            assert refused.value.code() == grpc.StatusCode.ALREADY_EXISTS
            assert reason_of(refused.value) == "REQUEST_ID_REUSED"
            assert bob.run.run_id not in refused.value.details()
        assert len(proxy.of("SubmitJob")) == submits  # nothing submitted

    # Afterwards, at AWS: one job per caller's key, nothing else.
    jobs = jobs_at(emulator, TEAM_QUEUE)
    assert jobs[bob.run.job_name] == [bob.run.run_id]
    assert jobs[alice.run.job_name] == [alice.run.run_id]


async def test_request_id_reuse_is_refused_by_another_replica_after_a_restart(emulator, proxy):
    """The fingerprint travels with the job (the look-up by job name finds it), so a replica
    that never saw the first call refuses a different request under the same request_id."""
    request_id = f"restart-{uuid.uuid4().hex[:8]}"
    async with serve_callers(two_platforms(emulator, proxy.endpoint_url)) as first:
        original = await first.stub.ExecutePipeline(submit("team", request_id), metadata=as_caller("bob"))
    async with serve_callers(two_platforms(emulator, proxy.endpoint_url)) as second:
        same = await second.stub.ExecutePipeline(submit("team", request_id), metadata=as_caller("bob"))
        assert same.deduplicated and same.run.run_id == original.run.run_id
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await second.stub.ExecutePipeline(submit("team", request_id, "fan-out"), metadata=as_caller("bob"))
        assert reason_of(refused.value) == "REQUEST_ID_REUSED"
    assert jobs_at(emulator, TEAM_QUEUE)[original.run.job_name] == [original.run.run_id]


async def test_platforms_on_one_account_are_isolated_by_their_queues(emulator, proxy):
    """bob may use only `team`: through it he cannot read, watch, follow, cancel or list prod's
    runs, nor submit into prod's queue; AWS sees no TerminateJob, ListJobs or SubmitJob of his."""
    async with serve_callers(two_platforms(emulator, proxy.endpoint_url)) as served:
        victim = (
            await served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello"), metadata=as_caller("alice"))
        ).run
        parent = (
            await served.stub.ExecutePipeline(
                pb.ExecutePipelineRequest(pipeline="fan-out", array_size=2), metadata=as_caller("alice")
            )
        ).run
        await asyncio.sleep(0.3)  # DescribeJobs knows it now
        bob = as_caller("bob")
        before = {op: len(proxy.of(op)) for op in ("SubmitJob", "TerminateJob", "ListJobs")}

        async def refused(call) -> grpc.aio.AioRpcError:
            with pytest.raises(grpc.aio.AioRpcError) as failure:
                await call
            return failure.value

        async def drain(stream) -> None:
            async for _ in stream:
                pass

        for call in (
            served.stub.GetPipelineRun(pb.GetPipelineRunRequest(platform="team", run_id=victim.run_id), metadata=bob),
            served.stub.CancelPipelineRun(
                pb.CancelPipelineRunRequest(platform="team", run_id=victim.run_id, reason="mine now"), metadata=bob
            ),
            drain(
                served.stub.WatchPipelineRun(
                    pb.WatchPipelineRunRequest(platform="team", run_id=victim.run_id), metadata=bob, timeout=10
                )
            ),
            drain(
                served.stub.StreamPipelineRunLogs(
                    pb.StreamPipelineRunLogsRequest(platform="team", run_id=victim.run_id, follow=True),
                    metadata=bob,
                    timeout=10,
                )
            ),
        ):
            error = await refused(call)
            assert (error.code(), reason_of(error)) == (grpc.StatusCode.NOT_FOUND, "RUN_NOT_FOUND")
            assert victim.pipeline not in error.details()
        for call in (
            served.stub.ExecutePipeline(
                pb.ExecutePipelineRequest(platform="team", pipeline="hello", depends_on=[victim.run_id]), metadata=bob
            ),
            served.stub.ListPipelineRuns(
                pb.ListPipelineRunsRequest(platform="team", array_parent_run_id=parent.run_id), metadata=bob
            ),
        ):
            error = await refused(call)
            assert (error.code(), reason_of(error)) == (grpc.StatusCode.NOT_FOUND, "RUN_NOT_FOUND")
        found = await served.stub.BatchGetPipelineRuns(
            pb.BatchGetPipelineRunsRequest(platform="team", run_ids=[victim.run_id]), metadata=bob
        )
        assert list(found.missing_run_ids) == [victim.run_id] and not found.runs

        for call in (
            served.stub.ListPipelineRuns(
                pb.ListPipelineRunsRequest(platform="team", job_queue=emulator.job_queue), metadata=bob
            ),
            served.stub.ExecutePipeline(
                pb.ExecutePipelineRequest(platform="team", pipeline="hello", job_queue=emulator.job_queue), metadata=bob
            ),
        ):
            error = await refused(call)
            assert (error.code(), reason_of(error)) == (grpc.StatusCode.PERMISSION_DENIED, "JOB_QUEUE_NOT_ALLOWED")
        assert {op: len(proxy.of(op)) for op in before} == before

        # alice still reads her own run through prod, and bob lists his own queue.
        own = await served.stub.GetPipelineRun(
            pb.GetPipelineRunRequest(run_id=victim.run_id), metadata=as_caller("alice")
        )
        assert own.run.run_id == victim.run_id
        await served.stub.ListPipelineRuns(pb.ListPipelineRunsRequest(platform="team"), metadata=bob)

    batch = emulator.client("batch")
    job = batch.describe_jobs(jobs=[victim.run_id])["jobs"][0]
    assert "mine now" not in job.get("statusReason", "")
    assert victim.job_name in jobs_at(emulator, emulator.job_queue)
    assert all(victim.run_id not in ids for ids in jobs_at(emulator, TEAM_QUEUE).values())


def forged(state: object, filters: object) -> str:
    """A page token as the service wrote them before they were signed: base64url JSON."""
    raw = json.dumps({"s": state, "f": filters}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


async def test_forged_page_tokens_are_invalid_argument_on_the_field(emulator, proxy, caplog):
    """Altered, forged, or issued for another platform or other filters: INVALID_ARGUMENT with a
    BadRequest violation on page_token, no AWS call, nothing logged at ERROR."""
    caplog.set_level(logging.INFO)
    async with serve_callers(two_platforms(emulator, proxy.endpoint_url)) as served:
        alice = as_caller("alice")
        for _ in range(3):
            await served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello"), metadata=alice)
        genuine_runs = (
            await served.stub.ListPipelineRuns(pb.ListPipelineRunsRequest(page_size=1), metadata=alice)
        ).next_page_token
        genuine_pipelines = (
            await served.stub.ListPipelines(pb.ListPipelinesRequest(page_size=1), metadata=alice)
        ).next_page_token
        assert genuine_runs and genuine_pipelines
        runs_filters = {"a": "", "p": "", "q": emulator.job_queue, "s": []}
        bad_runs = [forged({"i": "x", "t": ""}, runs_filters), forged(0.5, runs_filters)]
        bad_runs += [forged({"i": -99, "t": ""}, runs_filters), forged({}, runs_filters), forged(-99, runs_filters)]
        bad_runs += [genuine_runs[:-2] + ("AA" if genuine_runs[-2:] != "AA" else "BB"), "not a token", "e30"]
        bad_pipelines = [forged({"after": 5}, {"prefix": ""}), forged(0.5, {"prefix": ""}), forged({}, {"prefix": ""})]
        listed = len(proxy.of("ListJobs"))
        refusals = []
        for token in bad_runs:
            with pytest.raises(grpc.aio.AioRpcError) as failure:
                await served.stub.ListPipelineRuns(pb.ListPipelineRunsRequest(page_token=token), metadata=alice)
            refusals.append(failure.value)
        for platform, token, prefix in [("prod", t, "") for t in bad_pipelines] + [
            ("team", genuine_pipelines, ""),  # another platform's token
            ("prod", genuine_pipelines, "he"),  # other filters
        ]:
            with pytest.raises(grpc.aio.AioRpcError) as failure:
                await served.stub.ListPipelines(
                    pb.ListPipelinesRequest(platform=platform, page_token=token, name_prefix=prefix), metadata=alice
                )
            refusals.append(failure.value)
        for error in refusals:
            assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, (error.code(), error.details())
            violations = error_details(error)["BadRequest"].field_violations
            assert [v.field for v in violations] == ["page_token"]
        assert len(proxy.of("ListJobs")) == listed  # refused before any AWS call
        # The genuine tokens still page on.
        await served.stub.ListPipelineRuns(
            pb.ListPipelineRunsRequest(page_size=1, page_token=genuine_runs), metadata=alice
        )
        await served.stub.ListPipelines(
            pb.ListPipelinesRequest(page_size=1, page_token=genuine_pipelines), metadata=alice
        )
    ours = [r for r in caplog.records if r.name.startswith("polysync_batch")]
    assert not [r for r in ours if r.levelno >= logging.ERROR or r.exc_info], "an ERROR was logged"


async def test_a_follow_log_flood_stays_within_the_get_log_events_budget(emulator, proxy):
    """30 follow-log streams of one caller for 2 s: GetLogEvents stays within the platform's
    get_log_events_per_second (10: at most 10 a second after a burst of 10)."""
    async with serve_callers(two_platforms(emulator, proxy.endpoint_url)) as served:
        alice = as_caller("alice")
        run = (
            await served.stub.ExecutePipeline(
                pb.ExecutePipelineRequest(pipeline="greet", parameters={"name": "x"}), metadata=alice
            )
        ).run
        before = len(proxy.of("GetLogEvents"))
        started = time.monotonic()

        async def follow() -> None:
            request = pb.StreamPipelineRunLogsRequest(run_id=run.run_id, follow=True)
            try:
                async for _ in served.stub.StreamPipelineRunLogs(request, metadata=alice, timeout=2):
                    pass
            except grpc.aio.AioRpcError as error:
                assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED

        await asyncio.gather(*(follow() for _ in range(30)))
        elapsed = time.monotonic() - started
        calls = len(proxy.of("GetLogEvents")) - before
    assert calls <= 10 + 10 * elapsed + 2, f"{calls} GetLogEvents in {elapsed:.1f} s"


async def test_replicas_sharing_server_token_key_file_accept_each_others_page_tokens(tmp_path, emulator):
    """Two `polysync-batch serve` processes with one server.token_key_file accept each other's
    page tokens; a server without it (a random key per process) refuses them; the secret is in
    no log line."""
    key = tmp_path / "token.key"
    secret = uuid.uuid4().hex + uuid.uuid4().hex
    key.write_text(secret)
    shared = {"POLYSYNC_BATCH_CONFIG": "", "POLYSYNC_BATCH_SERVER__TOKEN_KEY_FILE": str(key)}
    processes = [start_serve("--address", "127.0.0.1:0", env=shared) for _ in range(2)]
    channels = []
    try:
        for process in processes:
            channels.append(grpc.aio.insecure_channel(f"127.0.0.1:{await asyncio.to_thread(wait_for_port, process)}"))
        first, replica = [platform_service_pb2_grpc.PlatformServiceStub(channel) for channel in channels]
        token = (await first.ListPipelines(pb.ListPipelinesRequest(page_size=1), timeout=30)).next_page_token
        assert token
        await replica.ListPipelines(pb.ListPipelinesRequest(page_size=1, page_token=token), timeout=30)
        async with serve(demo_platforms(emulator, None, events=False)) as stranger:  # this process's own key
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stranger.stub.ListPipelines(pb.ListPipelinesRequest(page_size=1, page_token=token))
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    finally:
        for channel in channels:
            await channel.close()
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)
    assert not [line for process in processes for line in process.lines if secret in line]
