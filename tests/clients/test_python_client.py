"""The Python client package against a live server (the embedded emulator): the async watch
across a server restart, the sync helpers end to end, and the README's examples."""

import asyncio
import subprocess
import sys
import uuid
from pathlib import Path

import grpc
import polysync_platform_client as client
import polysync_platform_client.aio as aio
import pytest
from polysync.platform.v1 import pipeline_run_pb2 as runs_pb
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync_batch.api.server import build_server
from polysync_batch.bootstrap import demo_platforms
from polysync_batch.config import ServerConfig
from polysync_platform_client import reasons

from tests.support import FAST_WATCH

EXAMPLES = Path(__file__).parents[2] / "clients" / "python" / "examples"


@pytest.fixture(scope="module")
def emulator():
    from polysync_batch.emulator import Lifecycle, start_emulator

    with start_emulator(Lifecycle(submitted=0.1, pending=0.1, runnable=0.1, starting=0.1, running=0.5)) as running:
        yield running


async def start(emulator, address="127.0.0.1:0"):
    return await build_server(
        demo_platforms(emulator, None, FAST_WATCH), ServerConfig(address=address, health_check_interval_seconds=0)
    )


async def test_the_async_watch_follows_a_run_across_a_server_restart(emulator):
    server = await start(emulator)
    address = f"127.0.0.1:{server.port}"
    reconnects = []
    async with aio.connect(address) as c:
        run = (
            await c.stub.ExecutePipeline(
                pb.ExecutePipelineRequest(pipeline="hello", parameters={"duration_seconds": "2"})
            )
        ).run
        states = []
        async for event in c.watch_run(
            run.run_id, timeout=60, on_reconnect=lambda n, delay, error: reconnects.append(error)
        ):
            if event.heartbeat:
                continue
            states.append(event.run)
            if len(states) == 1:  # restart the server under the open stream
                await server.stop(5)
                server = await start(emulator, address)
    await server.stop(None)
    assert reconnects and reconnects[0].code() == grpc.StatusCode.UNAVAILABLE
    assert states[-1].status == runs_pb.RUN_STATUS_SUCCEEDED and states[-1].terminal
    keys = [(s.native_status, s.status_reason, s.exit_code) for s in states]
    assert all(a != b for a, b in zip(keys, keys[1:], strict=False))  # nothing delivered twice in a row


async def test_errors_are_not_retried_and_carry_their_reason(emulator):
    server = await start(emulator)
    async with aio.connect(f"127.0.0.1:{server.port}") as c:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await c.stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id=str(uuid.uuid4())))
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            async for _ in c.watch_run(str(uuid.uuid4())):
                pass
    await server.stop(None)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND and client.reason(caught.value) == reasons.RUN_NOT_FOUND
    assert client.reason(missing.value) == reasons.RUN_NOT_FOUND


def sync_scenario(target: str) -> dict:
    """Every sync helper against the live server, as a Flask or Celery worker would call them."""
    seen: dict = {}
    with client.connect(target) as c:
        seen["pipelines"] = sorted(p.name for p in c.list_pipelines(page_size=1))
        with pytest.raises(grpc.RpcError) as refused:
            c.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="greet"), timeout=30)
        seen["refused"] = (refused.value.code(), client.reason(refused.value), client.missing_parameters(refused.value))
        request = pb.ExecutePipelineRequest(pipeline="greet", parameters={"name": "Ada"}, request_id=str(uuid.uuid4()))
        first, again = (c.stub.ExecutePipeline(request, timeout=30) for _ in range(2))
        seen["dedupe"] = (first.run.run_id == again.run.run_id, first.deduplicated, again.deduplicated)
        long = c.stub.ExecutePipeline(
            pb.ExecutePipelineRequest(pipeline="hello", parameters={"duration_seconds": "60"}), timeout=30
        ).run
        for event in c.watch_run(long.run_id, timeout=60):
            if event.run.native_status == "RUNNING":
                c.stub.CancelPipelineRun(pb.CancelPipelineRunRequest(run_id=long.run_id), timeout=30)
        seen["cancelled"] = (runs_pb.RunStatus.Name(event.run.status), event.run.status_reason)
        events = list(c.watch_runs([first.run.run_id, long.run_id], timeout=60))
        seen["watched_many"] = {e.run.run_id: e.run.terminal for e in events if not e.heartbeat}
        done = c.execute(pb.ExecutePipelineRequest(pipeline="greet", parameters={"name": "Grace"}), timeout=60)
        seen["executed"] = (runs_pb.RunStatus.Name(done.status), done.terminal)
        seen["logs"] = [line.message for line in c.stream_logs(done.run_id, follow=True, timeout=60)]
        seen["listed"] = {r.run_id for r in c.list_runs(page_size=1, timeout=30)}
        seen["ids"] = (first.run.run_id, long.run_id, done.run_id)
    return seen


async def test_the_sync_helpers_against_a_live_server(emulator):
    server = await start(emulator)
    try:
        seen = await asyncio.to_thread(sync_scenario, f"127.0.0.1:{server.port}")
    finally:
        await server.stop(None)
    assert "greet" in seen["pipelines"] and "hello" in seen["pipelines"]
    assert seen["refused"] == (grpc.StatusCode.INVALID_ARGUMENT, reasons.MISSING_PARAMETERS, ["name"])
    assert seen["dedupe"] == (True, False, True)
    assert seen["cancelled"] == ("RUN_STATUS_CANCELLED", "Cancelled by Polysync")
    assert seen["watched_many"] == {seen["ids"][0]: True, seen["ids"][1]: True}
    assert seen["executed"] == ("RUN_STATUS_SUCCEEDED", True)
    assert any("Hello Grace" in line for line in seen["logs"]), seen["logs"]
    assert set(seen["ids"]) <= seen["listed"]  # paged one run at a time


async def run_example(emulator, name: str) -> list[str]:
    server = await start(emulator)
    try:
        result = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, str(EXAMPLES / name), f"127.0.0.1:{server.port}"],
            capture_output=True,
            text=True,
            timeout=90,
        )
    finally:
        await server.stop(None)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


async def test_the_quickstart_runs_against_a_live_server(emulator):
    lines = await run_example(emulator, "quickstart.py")
    assert lines[0].startswith("submitted ")
    # Each state once, in lifecycle order (the watch starts from the current one, which on a
    # loaded machine may already be past SUBMITTED), up to SUCCEEDED.
    states = lines[1 : lines.index("finished RUN_STATUS_SUCCEEDED Succeeded (exit code 0)")]
    lifecycle = ["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"]
    assert states and states[-1] == "SUCCEEDED", lines
    assert [lifecycle.index(state) for state in states] == sorted({lifecycle.index(state) for state in states}), lines


async def test_the_async_quickstart_runs_against_a_live_server(emulator):
    lines = await run_example(emulator, "quickstart_async.py")
    assert lines[0].startswith("pipelines ") and "greet" in lines[0].split()
    assert "finished RUN_STATUS_SUCCEEDED Succeeded (exit code 0)" in lines
    assert "log Hello Ada" in lines


# --- TLS and caller auth (SPEC §8.1/§8.2), against tests/live_stack.py as other languages use it ---

import secrets  # noqa: E402

LIVE_TOKEN = secrets.token_urlsafe(24)
READER_TOKEN = secrets.token_urlsafe(24)


SENT_JWTS: list[str] = []


@pytest.fixture(scope="module")
def secured_stack(tmp_path_factory):
    """`python -m tests.live_stack --mtls --jwt --token … --reader-token …`, as a client test of any
    language starts it; its log (stderr) is kept in files["log"]."""
    log = tmp_path_factory.mktemp("stack") / "stderr.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.live_stack",
            "--mtls",
            "--jwt",
            f"--token={LIVE_TOKEN}",
            f"--reader-token={READER_TOKEN}",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
        cwd=Path(__file__).parents[2],
    )
    files = {"log": log}
    try:
        for line in process.stdout:
            name, _, value = line.strip().partition(" ")
            if name == "ready":
                files["target"] = f"127.0.0.1:{value}"
                break
            files[name] = Path(value) if name.startswith("tls-") or name == "jwt-key" else value
        assert "target" in files, "live_stack did not start"
        yield files
    finally:
        process.stdin.close()
        process.wait(timeout=20)


def connect(stack, token: str | None, client_certificate: bool = True, **options) -> aio.PlatformClient:
    """The client's own connect: TLS with the stack's CA, its client certificate, a bearer token."""
    certificate = (
        {
            "certificate_chain": stack["tls-client-cert"].read_bytes(),
            "private_key": stack["tls-client-key"].read_bytes(),
        }
        if client_certificate
        else {}
    )
    return aio.connect(
        stack["target"], root_certificates=stack["tls-ca"].read_bytes(), token=token, **certificate, **options
    )


async def test_a_watch_outlives_its_short_jwts_by_resuming_with_fresh_ones_from_the_token_source(secured_stack):
    import time

    import jwt

    key, issued = secured_stack["jwt-key"].read_bytes(), []

    def fresh_token() -> str:  # each token lives 2 s; the run takes about 5 s
        now = time.time()
        issued.append(now)
        SENT_JWTS.append(
            jwt.encode(
                {
                    "iss": secured_stack["jwt-issuer"],
                    "aud": secured_stack["jwt-audience"],
                    "sub": "jwt-client",
                    "iat": int(now),
                    "exp": int(now) + 2,
                },
                key,
                algorithm="RS256",
                headers={"kid": "live"},
            )
        )
        return SENT_JWTS[-1]

    reconnects = []
    async with connect(
        secured_stack, None, token_source=fresh_token, policy=client.ReconnectPolicy(initial_backoff=0.05)
    ) as c:
        run = (
            await c.stub.ExecutePipeline(
                pb.ExecutePipelineRequest(pipeline="hello", parameters={"duration_seconds": "4"})
            )
        ).run
        events = [
            event
            async for event in c.watch_run(
                run.run_id, on_reconnect=lambda n, delay, error: reconnects.append(error.code())
            )
        ]
    assert events[-1].run.status == runs_pb.RUN_STATUS_SUCCEEDED
    assert grpc.StatusCode.UNAUTHENTICATED in reconnects  # the server cut a stream at exp
    assert len(issued) >= 3


async def test_tls_and_a_token_submit_and_watch_a_run_to_its_end(secured_stack):
    async with connect(secured_stack, LIVE_TOKEN) as c:
        run = (await c.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello"))).run
        events = [event async for event in c.watch_run(run.run_id)]
    assert events[-1].run.status == runs_pb.RUN_STATUS_SUCCEEDED


async def test_a_refused_caller_gets_its_reason(secured_stack):
    async with connect(secured_stack, READER_TOKEN) as c:
        assert (await c.stub.ListPipelines(pb.ListPipelinesRequest())).pipelines  # a reader may read
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await c.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello"))
    async with connect(secured_stack, "not-a-token") as c:
        with pytest.raises(grpc.aio.AioRpcError) as unknown:
            await c.stub.ListPipelines(pb.ListPipelinesRequest())
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert client.reason(denied.value) == reasons.CALLER_NOT_ALLOWED
    assert unknown.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert client.reason(unknown.value) == reasons.CALLER_UNAUTHENTICATED


async def test_mutual_tls_alone_names_the_caller_and_no_certificate_cannot_connect(secured_stack):
    async with connect(secured_stack, None) as c:
        run = (await c.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello"))).run  # "cert-client" submits
    assert run.run_id
    async with connect(secured_stack, LIVE_TOKEN, client_certificate=False) as c:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await c.stub.ListPipelines(pb.ListPipelinesRequest(), timeout=5)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


def test_the_secured_stacks_log_holds_no_token_or_jwt(secured_stack):
    """Last in this module: every token and JWT the tests above sent, grepped for in the server's log."""
    text = secured_stack["log"].read_text()
    assert "rpc" in text and "caller" in text  # the access log lines are there, naming callers
    assert SENT_JWTS, "the JWT test did not run before this one"
    for secret in [LIVE_TOKEN, READER_TOKEN, *SENT_JWTS, *(t.rsplit(".", 1)[1] for t in SENT_JWTS)]:
        assert secret not in text, f"a secret reached the server log: {secret[:6]}…"
