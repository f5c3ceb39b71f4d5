"""SPEC §8.5, the API layer, from outside: what a careless or hostile caller costs the server
(log bytes, RSS, open streams) and what it gets back, through a real server on 127.0.0.1
(in-process, or `polysync-batch serve` as a process where a signal or RSS is involved)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import http.server
import io
import json
import logging
import signal
import socket
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync.platform.v1 import platform_service_pb2_grpc as pb_grpc
from polysync_batch.api.server import build_server
from polysync_batch.bootstrap import demo_platforms
from polysync_batch.config import CallerAuthConfig, CallerTokenConfig, JwtConfig, ServerConfig
from polysync_batch.emulator import Lifecycle, start_emulator
from polysync_batch.observability.logging import JsonFormatter, TextFormatter
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError

from tests.security_support import AUDIENCE, ISSUER, Signer, bearer, sha256_hex
from tests.support import FAST_WATCH, error_details, start_serve, wait_for_port

TOKEN = "hostile-test-token"
MB = 1024 * 1024


@pytest.fixture(scope="module")
def emulator():
    with start_emulator(Lifecycle(submitted=0.05, pending=0.05, runnable=0.05, starting=0.05, running=30)) as running:
        yield running


@contextlib.asynccontextmanager
async def served(emulator, *, auth: CallerAuthConfig | None = None, metrics=None, **settings):
    settings = ServerConfig(address="127.0.0.1:0", health_check_interval_seconds=0, **settings)
    running = await build_server(demo_platforms(emulator, None, FAST_WATCH, events=False), settings, metrics, auth=auth)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{running.port}", options=[("grpc.max_send_message_length", 8 * MB)])
    try:
        yield running, channel, pb_grpc.PlatformServiceStub(channel)
    finally:
        await channel.close()
        await running.stop(None)


@contextlib.contextmanager
def log_output(formatter: logging.Formatter):
    """What the server writes to its log while the block runs, through the real formatter."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def failure(call) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        result = call()
        if hasattr(result, "__aiter__"):
            async for _ in result:
                pass
        else:
            await result
    return raised.value


# --- logs: bounded, escaped, nothing at length before the caller is identified ---------------


async def test_unauthenticated_calls_with_megabyte_fields_cost_a_short_log_line_each(emulator):
    auth = CallerAuthConfig(tokens=[CallerTokenConfig(caller="alice", sha256=sha256_hex(TOKEN))])
    huge = "x" * (MB * 19 // 10)  # two of them: just under the 4 MiB message limit
    async with served(emulator, auth=auth) as (_, _, stub):
        with log_output(JsonFormatter()) as log:
            for _ in range(20):
                error = await failure(lambda: stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id=huge, platform=huge)))
                assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert len(log.getvalue()) < 20 * 1024, f"{len(log.getvalue())} bytes of log for 20 refused calls"


async def test_an_identified_callers_fields_are_cut_to_256_characters_visibly(emulator):
    auth = CallerAuthConfig(tokens=[CallerTokenConfig(caller="alice", sha256=sha256_hex(TOKEN))])
    async with served(emulator, auth=auth) as (_, _, stub):
        with log_output(JsonFormatter()) as log:
            await failure(
                lambda: stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id="r" * MB), metadata=bearer(TOKEN))
            )
    [line] = [json.loads(text) for text in log.getvalue().splitlines() if '"rpc"' in text]
    assert line["caller"] == "alice" and line["run_id"].startswith("r" * 256 + "…[")
    assert len(line["run_id"]) < 300 and "cut" in line["run_id"]


@pytest.mark.parametrize("formatter", [TextFormatter, JsonFormatter])
async def test_a_field_cannot_forge_a_log_line_or_write_terminal_escapes(emulator, formatter):
    forged = "x\n2026-12-03 10:00:00,000 INFO polysync_batch.rpc rpc method=CancelPipelineRun code=OK caller=alice"
    async with served(emulator) as (_, _, stub):
        with log_output(formatter()) as log:
            await failure(lambda: stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id=forged + "\x1b[2J\x9b1m")))
    lines = log.getvalue().splitlines()
    assert not any("method=CancelPipelineRun" in line and "GetPipelineRun" not in line for line in lines), lines
    assert len([line for line in lines if "GetPipelineRun" in line]) == 1
    assert "\x1b" not in log.getvalue() and "\x9b" not in log.getvalue()


# --- streams: every server stream counts; streams without a caller are capped ----------------


async def test_log_streams_count_against_max_streams_per_caller(emulator):
    async with served(emulator, max_streams_per_caller=2) as (_, _, stub):
        run = (await stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello"))).run
        watches = [stub.WatchPipelineRun(pb.WatchPipelineRunRequest(run_id=run.run_id)) for _ in range(2)]
        for watch in watches:
            await watch.read()  # both open, holding the caller's two slots
        error = await failure(
            lambda: stub.StreamPipelineRunLogs(pb.StreamPipelineRunLogsRequest(run_id=run.run_id, follow=True))
        )
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, error
        assert error_details(error)["ErrorInfo"].reason == "TOO_MANY_STREAMS"
        for watch in watches:
            watch.cancel()


async def test_health_watch_streams_without_a_caller_are_capped_on_both_ports(emulator):
    async with served(emulator, max_unidentified_streams=3, health_address="127.0.0.1:0") as (running, channel, _):
        other = grpc.aio.insecure_channel(f"127.0.0.1:{running.health_port}")
        streams = []
        for health in (health_pb2_grpc.HealthStub(channel), health_pb2_grpc.HealthStub(other)):
            for _ in range(2):
                streams.append(health.Watch(health_pb2.HealthCheckRequest()))
                if len(streams) <= 3:
                    await streams[-1].read()  # open, holding a slot
        error = await failure(lambda: streams[3].read())
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, error
        assert error_details(error)["ErrorInfo"].reason == "TOO_MANY_STREAMS"
        for stream in streams:
            stream.cancel()
        await other.close()


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def serve_process(tmp_path: Path, extra: str = "", *args: str, port: int = 0):
    config = tmp_path / f"server-{uuid.uuid4().hex[:6]}.toml"
    config.write_text(f'[server]\naddress = "127.0.0.1:{port}"\nhealth_check_interval_seconds = 0\n{extra}\n')
    process = start_serve("--config", str(config), *args, env={"POLYSYNC_BATCH_CONFIG": ""})
    return process


async def test_health_watch_with_megabyte_service_names_costs_no_megabytes(tmp_path):
    process = serve_process(tmp_path)
    try:
        port = wait_for_port(process)
        async with grpc.aio.insecure_channel(
            f"127.0.0.1:{port}", options=[("grpc.max_send_message_length", 8 * MB)]
        ) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            await health.Check(health_pb2.HealthCheckRequest())
            streams, answers = [], []

            async def wave() -> None:  # 5 streams with a 4 MB name each, kept open (if the server keeps them)
                opened = [health.Watch(health_pb2.HealthCheckRequest(service="s" * (4 * MB - 64))) for _ in range(5)]
                answers.extend(await asyncio.gather(*(s.read() for s in opened), return_exceptions=True))
                streams.extend(opened)

            # The first wave pays for what receiving 4 MB messages costs in passing (grpc's buffers, the
            # allocator's arenas); later waves reuse it. Measured from there, a server that kept the streams
            # (or their names) would grow by the 60 MB the next three waves send.
            await wave()
            before = rss_bytes(process.pid)
            for _ in range(3):
                await wave()
            await asyncio.sleep(0.5)
            grown = rss_bytes(process.pid) - before
            for stream in streams:
                stream.cancel()
        # Measured over 14 runs on 2 busy cores: -9 to +24 MB (polysync_batch.malloc returns 4 MB blocks to the OS)
        assert grown < 32 * MB, f"RSS grew {grown / MB:.0f} MB for 15 more Health/Watch streams (60 MB sent)"
        assert all(isinstance(a, grpc.aio.AioRpcError) for a in answers), answers[:2]
        assert {a.code() for a in answers} == {grpc.StatusCode.INVALID_ARGUMENT}
    finally:
        process.terminate()
        process.wait(20)


# --- bounded answers ---------------------------------------------------------------------------


def trailer_bytes(error: grpc.aio.AioRpcError) -> int:
    details = dict(error.trailing_metadata() or ()).get("grpc-status-details-bin", b"")
    return len(error.details().encode()) + len(base64.b64encode(details))


async def test_an_error_with_hundreds_of_bad_fields_stays_under_8_kib_with_a_count(emulator):
    async with served(emulator) as (_, _, stub):
        bad_ids = [f"bad id {i} " + "!" * 200 for i in range(300)]
        error = await failure(lambda: stub.BatchGetPipelineRuns(pb.BatchGetPipelineRunsRequest(run_ids=bad_ids)))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error
        details = error_details(error)
        assert details["ErrorInfo"].reason == "INVALID_ARGUMENT"
        shown = len(details["BadRequest"].field_violations)
        assert 0 < shown < 300 and int(details["ErrorInfo"].metadata["omitted_violations"]) == 300 - shown
        assert trailer_bytes(error) < 8 * 1024
        long_id = await failure(lambda: stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id="i" * (2 * MB))))
        assert error_details(long_id)["ErrorInfo"].reason in ("INVALID_ARGUMENT", "RUN_NOT_FOUND")
        assert trailer_bytes(long_id) < 8 * 1024


async def test_an_answer_larger_than_a_message_is_refused_clearly(emulator):
    async with served(emulator, max_message_bytes=16 * 1024) as (_, _, stub):
        ids = []
        for _ in range(40):
            run = (await stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello"))).run
            ids.append(run.run_id)
        error = await failure(lambda: stub.BatchGetPipelineRuns(pb.BatchGetPipelineRunsRequest(run_ids=ids)))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error
        details = error_details(error)
        assert details["ErrorInfo"].reason == "INVALID_ARGUMENT"
        assert [v.field for v in details["BadRequest"].field_violations] == ["run_ids"]
        assert "max_message_bytes" in error.details()
        small = await stub.BatchGetPipelineRuns(pb.BatchGetPipelineRunsRequest(run_ids=ids[:5]))
        assert len(small.runs) == 5


# --- shutdown ends every stream at once --------------------------------------------------------


async def test_sigterm_ends_log_health_and_watch_streams_within_a_second(tmp_path):
    process = serve_process(tmp_path, "shutdown_grace_seconds = 10")
    try:
        port = wait_for_port(process)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.PlatformServiceStub(channel)
            run = (
                await stub.ExecutePipeline(
                    pb.ExecutePipelineRequest(pipeline="hello", parameters={"duration_seconds": "60"})
                )
            ).run
            health = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest())
            await health.read()
            watch = stub.WatchPipelineRun(pb.WatchPipelineRunRequest(run_id=run.run_id))
            await watch.read()
            logs = stub.StreamPipelineRunLogs(pb.StreamPipelineRunLogsRequest(run_id=run.run_id, follow=True))
            reading = asyncio.ensure_future(drain(logs))
            await asyncio.sleep(1.0)  # the log stream is open and following
            assert not reading.done(), reading
            process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            ended = await asyncio.gather(drain(health), drain(watch), reading)
            took = time.monotonic() - signalled
        for error in ended:
            assert isinstance(error, grpc.aio.AioRpcError) and error.code() == grpc.StatusCode.UNAVAILABLE, error
            assert error_details(error)["ErrorInfo"].reason == "SERVER_SHUTTING_DOWN"
        assert took < 1.5, f"streams ended {took:.1f} s after SIGTERM"
        assert process.wait(20) == 0
    finally:
        if process.poll() is None:
            process.kill()


async def drain(call) -> grpc.aio.AioRpcError | None:
    try:
        while await call.read() is not grpc.aio.EOF:
            pass
    except grpc.aio.AioRpcError as error:
        return error
    return None


# --- JWKS -----------------------------------------------------------------------------------------


def test_jwks_url_must_be_https_except_on_a_loopback_host():
    with pytest.raises(ValidationError, match="https"):
        JwtConfig(jwks_url="http://idp.example.com/keys", issuer=ISSUER, audience=AUDIENCE)
    JwtConfig(jwks_url="https://idp.example.com/keys", issuer=ISSUER, audience=AUDIENCE)
    JwtConfig(jwks_url="http://127.0.0.1:8080/keys", issuer=ISSUER, audience=AUDIENCE)


async def test_a_failed_jwks_fetch_is_retried_within_seconds_once_the_idp_is_back(emulator, tmp_path):
    signer = Signer("k1")
    document = json.dumps({"keys": [signer.jwk()]}).encode()
    up = threading.Event()

    class Keys(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if up.is_set() else 503)
            self.end_headers()
            self.wfile.write(document if up.is_set() else b"down")

        def log_message(self, *args):
            pass

    idp = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Keys)
    threading.Thread(target=idp.serve_forever, daemon=True).start()
    auth = CallerAuthConfig(
        jwt=JwtConfig(
            jwks_url=f"http://127.0.0.1:{idp.server_port}/keys",
            issuer=ISSUER,
            audience=AUDIENCE,
            jwks_refresh_seconds=60,
        )
    )
    try:
        async with served(emulator, auth=auth) as (_, _, stub):
            token = bearer(signer.token())
            refused = await failure(lambda: stub.ListPipelines(pb.ListPipelinesRequest(), metadata=token))
            assert "unknown key" in refused.details()
            up.set()  # the IdP is back
            deadline = time.monotonic() + 5
            while True:
                try:
                    await stub.ListPipelines(pb.ListPipelinesRequest(), metadata=token)
                    break
                except grpc.aio.AioRpcError as error:
                    assert time.monotonic() < deadline, f"still refused 5 s after the IdP returned: {error.details()}"
                    await asyncio.sleep(0.25)
    finally:
        idp.shutdown()


# --- metrics consistent with answers -------------------------------------------------------------


def handled(port: int, code: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "grpc_server_handled_total"
        and s.labels.get("grpc_method") == "GetPipelineRun"
        and s.labels.get("grpc_code") == code
    )


async def test_a_scrape_after_an_answer_counts_it(tmp_path):
    metrics_port = free_port()
    process = serve_process(tmp_path, f'[metrics]\naddress = "127.0.0.1:{metrics_port}"')
    try:
        port = wait_for_port(process)  # a server of its own: the answer crosses a real socket
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.PlatformServiceStub(channel)
            missed = []
            for attempt in range(1, 41):
                request = pb.GetPipelineRunRequest(run_id=f"no-such-run-{attempt}")
                await failure(lambda request=request: stub.GetPipelineRun(request))
                if await asyncio.to_thread(handled, metrics_port, "NotFound") != attempt:
                    missed.append(attempt)
        assert missed == [], f"scrapes right after the answer missed calls {missed}"
    finally:
        process.terminate()
        process.wait(20)


# --- ports ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_second_server_on_a_taken_port_exits_2_naming_the_address(tmp_path):
    port = free_port()
    first = serve_process(tmp_path, port=port)
    try:
        assert wait_for_port(first) == port
        second = start_serve("--address", f"127.0.0.1:{port}", env={"POLYSYNC_BATCH_CONFIG": ""})
        try:
            output, _ = second.communicate(timeout=60)
        finally:
            if second.poll() is None:
                second.kill()
        lines = [line for line in output.splitlines() if line.strip() and '"level"' not in line]
        assert second.returncode == 2, output[-2000:]
        assert len(lines) == 1 and "server.address" in lines[0] and "--address" in lines[0], lines
        assert "Traceback" not in output
    finally:
        first.terminate()
        first.wait(20)


def test_with_reuse_port_a_second_server_may_bind_the_same_port(tmp_path):
    port = free_port()
    first = serve_process(tmp_path, "reuse_port = true", port=port)
    try:
        assert wait_for_port(first) == port
        second = serve_process(tmp_path, "reuse_port = true", port=port)
        try:
            assert wait_for_port(second) == port
        finally:
            second.terminate()
            second.wait(20)
    finally:
        first.terminate()
        first.wait(20)
