"""`make hostile`: the probes of SPEC §8.5 (issue 17's table) against a live server, printing per
probe what it cost the server and what the prober saw.

    .venv/bin/python -m bench.hostile            # about two minutes
    .venv/bin/python -m bench.hostile --only squat,pages

The server is `polysync-batch serve --log-format text` (a process of its own) with two platforms
on one emulator account (`prod` on the demo queue, `team` on a second queue), static caller
tokens (alice may submit on both; bob only on `team`), a JWKS URL served by this process, and
AWS reached through a counting proxy on loopback (tests/faults/proxy.py). Columns:

    log_bytes   bytes the server wrote to its log during the probe
    rss_mb      the server's peak RSS during the probe minus its RSS before (MB)
    aws         AWS calls the server made during the probe (SQS event polls not counted)
    by_p50/max  latency (ms) of a bystander's GetPipelineRun, every 100 ms during the probe
    seen        what the prober saw
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import contextlib
import hashlib
import http.server
import json
import logging
import os
import re
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync.platform.v1 import platform_service_pb2_grpc as pb_grpc
from polysync_batch.config import PlatformConfig
from polysync_batch.emulator import Lifecycle, start_emulator

from tests.faults.proxy import Action, Fault, FaultProxy
from tests.security_support import AUDIENCE, ISSUER, Signer
from tests.support import EXECUTABLE

TOKENS = {"alice": "alice-secret-token-0001", "bob": "bob-secret-token-0002"}
TEAM_QUEUE = "polysync-team"
# An 8 s job, like the issue's: long enough to follow its log and to watch it through an SQS hang.
LIFECYCLE = Lifecycle(submitted=0.2, pending=0.2, runnable=0.3, starting=0.3, running=8.0)
EVENT_OPERATIONS = {"ReceiveMessage", "DeleteMessageBatch", "DeleteMessage"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def metadata(caller: str | None) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {TOKENS[caller]}"),) if caller else ()


def describe(error: grpc.aio.AioRpcError) -> str:
    """CODE/REASON of a failed call ("RESOURCE_EXHAUSTED/-" when it has no ErrorInfo)."""
    reason = "-"
    with contextlib.suppress(Exception):
        status = rpc_status.from_call(error)
        from google.rpc import error_details_pb2

        for detail in status.details if status else []:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                reason = info.reason
    return f"{error.code().name}/{reason}"


async def outcome(call: Awaitable) -> str:
    try:
        await call
        return "OK"
    except grpc.aio.AioRpcError as error:
        return describe(error)


def counted(outcomes: list[str]) -> str:
    return " ".join(f"{k}×{v}" for k, v in collections.Counter(outcomes).most_common())


class Jwks:
    """A JWKS endpoint on loopback that answers 503 until `up` is set."""

    def __init__(self, signer: Signer) -> None:
        self.up = False
        document = json.dumps({"keys": [signer.jwk()]}).encode()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if not outer.up:
                    self.send_response(503)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(document)))
                self.end_headers()
                self.wfile.write(document)

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/keys"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()


def write_config(directory: Path, emulator, proxy: FaultProxy, jwks_url: str, metrics_port: int) -> Path:
    hashes = ", ".join(
        f'{{ caller = "{c}", sha256 = "{hashlib.sha256(t.encode()).hexdigest()}" }}' for c, t in TOKENS.items()
    )
    confined = "job_queues" in PlatformConfig.model_fields  # §8.5's key, once the server has it
    platform = """
[platforms.{name}]
region = "{region}"
default_job_queue = "{queue}"
endpoint_url = "{endpoint}"
{queues}
[platforms.{name}.auth]
mode = "access_keys"
access_key_id_env = "HOSTILE_AWS_KEY"
secret_access_key_env = "HOSTILE_AWS_SECRET"
[platforms.{name}.access]
read = {users}
submit = {users}
"""
    text = f"""
default_platform = "prod"
[server]
max_streams_per_caller = 5
shutdown_grace_seconds = 10
[watch]
poll_interval_seconds = 1.0
max_poll_interval_seconds = 2.0
[metrics]
address = "127.0.0.1:{metrics_port}"
[auth]
tokens = [{hashes}]
[auth.jwt]
jwks_url = "{jwks_url}"
issuer = "{ISSUER}"
audience = "{AUDIENCE}"
"""
    prod, team = ("prod", emulator.job_queue, '["alice", "jwt-alice"]'), ("team", TEAM_QUEUE, '["alice", "bob"]')
    for name, queue, users in (prod, team):
        text += platform.format(
            name=name,
            region=emulator.region,
            queue=queue,
            endpoint=proxy.endpoint_url,
            users=users,
            queues=f'job_queues = ["{queue}"]' if confined else "",
        )
    text += f"""
[platforms.prod.events]
sqs_queue_url = "{emulator.events_queue_url}"
wait_time_seconds = 2
"""
    path = directory / "hostile.toml"
    path.write_text(text)
    return path


class Live:
    """The server process under test and what it costs."""

    def __init__(self, config: Path, directory: Path, emulator, proxy: FaultProxy, metrics_port: int) -> None:
        self.log_path = directory / "server.log"
        self.proxy = proxy
        self.metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
        env = {
            **os.environ,
            "HOSTILE_AWS_KEY": emulator.access_key_id,
            "HOSTILE_AWS_SECRET": emulator.secret_access_key,
            "POLYSYNC_BATCH_CONFIG": "",
        }
        self._log = open(self.log_path, "wb")  # noqa: SIM115 — open for the process's lifetime
        self.process = subprocess.Popen(
            [EXECUTABLE, "serve", "--config", str(config), "--address", "127.0.0.1:0", "--log-format", "text"],
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            env=env,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if match := re.search(r"serving on 127\.0\.0\.1:(\d+)", self.log_path.read_text(errors="replace")):
                self.target = f"127.0.0.1:{match.group(1)}"
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise SystemExit("server did not start:\n" + self.log_path.read_text(errors="replace")[-3000:])

    def log_bytes(self) -> int:
        return self.log_path.stat().st_size

    def log_since(self, offset: int) -> str:
        with open(self.log_path, "rb") as log:
            log.seek(offset)
            return log.read(2_000_000).decode("utf-8", "replace")

    def rss(self) -> int:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def aws_calls(self) -> collections.Counter[str]:
        with self.proxy._lock:
            return collections.Counter(e.operation for e in self.proxy.exchanges if e.operation not in EVENT_OPERATIONS)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=20)
        self._log.close()


class Bench:
    def __init__(self, live: Live, emulator, jwks: Jwks, signer: Signer, directory: Path) -> None:
        self.live = live
        self.emulator = emulator
        self.jwks = jwks
        self.signer = signer
        self.directory = directory
        self.rows: list[dict] = []

    async def __aenter__(self) -> Bench:
        options = [("grpc.max_send_message_length", 8 << 20), ("grpc.max_receive_message_length", 4 << 20)]
        self.channel = grpc.aio.insecure_channel(self.live.target, options=options)
        self.stub = pb_grpc.PlatformServiceStub(self.channel)
        self.bystander_channel = grpc.aio.insecure_channel(self.live.target)
        self.bystander_stub = pb_grpc.PlatformServiceStub(self.bystander_channel)
        self.bystander_run = await self.submit("alice", "prod")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.channel.close()
        await self.bystander_channel.close()

    async def submit(self, caller: str, platform: str, **fields: object) -> str:
        request = pb.ExecutePipelineRequest(platform=platform, pipeline=fields.pop("pipeline", "hello"), **fields)
        answer = await self.stub.ExecutePipeline(request, metadata=metadata(caller), timeout=20)
        return answer.run.run_id

    async def measure(self, name: str, probe: Callable[[], Awaitable[str]]) -> None:
        live = self.live
        log_before, rss_before, calls_before = live.log_bytes(), live.rss(), live.aws_calls()
        peak = [rss_before]
        latencies: list[float] = []
        stop = asyncio.Event()

        async def bystander() -> None:
            while not stop.is_set():
                started = time.perf_counter()
                with contextlib.suppress(grpc.aio.AioRpcError):
                    await self.bystander_stub.GetPipelineRun(
                        pb.GetPipelineRunRequest(platform="prod", run_id=self.bystander_run),
                        metadata=metadata("alice"),
                        timeout=30,
                    )
                latencies.append((time.perf_counter() - started) * 1000)
                peak[0] = max(peak[0], live.rss())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.1)

        watcher = asyncio.create_task(bystander())
        started = time.monotonic()
        try:
            seen = await probe()
        except Exception as error:  # a probe that breaks is a row too
            seen = f"probe failed: {type(error).__name__}: {str(error)[:120]}"
        stop.set()
        await watcher
        peak[0] = max(peak[0], live.rss())
        calls = live.aws_calls() - calls_before
        row = {
            "probe": name,
            "seconds": round(time.monotonic() - started, 1),
            "log_bytes": live.log_bytes() - log_before,
            "rss_mb": round((peak[0] - rss_before) / 2**20),
            "aws": sum(calls.values()),
            "aws_top": ",".join(f"{k}={v}" for k, v in calls.most_common(2)),
            "by_p50": round(statistics.median(latencies)) if latencies else -1,
            "by_max": round(max(latencies)) if latencies else -1,
            "seen": seen,
        }
        self.rows.append(row)
        print(json.dumps(row), flush=True)

    # -- the probes, one per row of the issue's table ---------------------------------------------

    async def big_fields_unauthenticated(self) -> str:
        big = "x" * 950_000
        calls = [
            outcome(
                self.stub.ExecutePipeline(
                    pb.ExecutePipelineRequest(platform=big, pipeline=big, request_id=big, job_queue=big), timeout=10
                )
            )
            for _ in range(20)
        ]
        return counted(await asyncio.gather(*calls))

    async def log_forgery_text(self) -> str:
        offset = self.live.log_bytes()
        forged = "r1\nmethod=CancelPipelineRun platform=prod caller=alice code=OK run_id=victim \x1b[2J\x1b[31mred"
        result = await outcome(
            self.stub.GetPipelineRun(
                pb.GetPipelineRunRequest(platform="prod", run_id=forged), metadata=metadata("bob"), timeout=10
            )
        )
        await asyncio.sleep(0.3)
        text = self.live.log_since(offset)
        forged_line = any(line.startswith("method=CancelPipelineRun") for line in text.splitlines())
        escape = chr(27) in text
        return f"{result}; forged line: {'YES' if forged_line else 'no'}; raw ESC: {'YES' if escape else 'no'}"

    async def health_watch_flood(self) -> str:
        health = health_pb2_grpc.HealthStub(self.channel)
        big = "s" * 3_900_000
        outcomes: list[str] = []

        async def watch() -> None:
            try:
                async for _ in health.Watch(health_pb2.HealthCheckRequest(service=big), timeout=3):
                    pass
                outcomes.append("OK")
            except grpc.aio.AioRpcError as error:
                outcomes.append("open 3 s" if error.code() == grpc.StatusCode.DEADLINE_EXCEEDED else describe(error))

        await asyncio.gather(*(watch() for _ in range(40)))
        return counted(outcomes)

    async def idempotency_squat(self) -> str:
        request_id = f"nightly-{time.time_ns()}"
        bob = await self.stub.ExecutePipeline(
            pb.ExecutePipelineRequest(platform="team", pipeline="hello", request_id=request_id),
            metadata=metadata("bob"),
            timeout=20,
        )
        try:
            alice = await self.stub.ExecutePipeline(
                pb.ExecutePipelineRequest(
                    platform="team", pipeline="greet", parameters={"name": "alice"}, request_id=request_id
                ),
                metadata=metadata("alice"),
                timeout=20,
            )
        except grpc.aio.AioRpcError as error:
            return f"alice: {describe(error)}"
        same = alice.run.run_id == bob.run.run_id
        return f"alice: OK deduplicated={alice.deduplicated} {'got BOB’s run' if same else 'her own run'}"

    async def two_platforms(self) -> str:
        victim = await self.submit("alice", "prod")
        bob = metadata("bob")
        seen = {
            "get": await outcome(
                self.stub.GetPipelineRun(pb.GetPipelineRunRequest(platform="team", run_id=victim), metadata=bob)
            ),
            "list": await outcome(
                self.stub.ListPipelineRuns(
                    pb.ListPipelineRunsRequest(platform="team", job_queue=self.emulator.job_queue), metadata=bob
                )
            ),
            "submit": await outcome(
                self.stub.ExecutePipeline(
                    pb.ExecutePipelineRequest(platform="team", pipeline="hello", job_queue=self.emulator.job_queue),
                    metadata=bob,
                )
            ),
            "cancel": await outcome(
                self.stub.CancelPipelineRun(
                    pb.CancelPipelineRunRequest(platform="team", run_id=victim, reason="bob"), metadata=bob
                )
            ),
        }
        return " ".join(f"{k}={v}" for k, v in seen.items())

    async def forged_page_tokens(self) -> str:
        offset = self.live.log_bytes()

        def token(state: object, filters: object) -> str:
            raw = json.dumps({"s": state, "f": filters}, separators=(",", ":"), sort_keys=True)
            return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

        runs = {"a": "", "p": "", "q": self.emulator.job_queue, "s": []}
        run_tokens = [token({"i": "x", "t": ""}, runs), token(0.5, runs), token({"i": -99, "t": ""}, runs)]
        run_tokens += [token({}, runs), "bm90IGEgdG9rZW4"]
        pipe_tokens = [token({"after": 5}, {"prefix": ""}), token(0.5, {"prefix": ""}), token({}, {"prefix": ""})]
        alice = metadata("alice")
        seen = [
            await outcome(
                self.stub.ListPipelineRuns(pb.ListPipelineRunsRequest(platform="prod", page_token=t), metadata=alice)
            )
            for t in run_tokens
        ]
        seen += [
            await outcome(
                self.stub.ListPipelines(pb.ListPipelinesRequest(platform="prod", page_token=t), metadata=alice)
            )
            for t in pipe_tokens
        ]
        # A genuine token of prod's listing, replayed on team's.
        page = await self.stub.ListPipelines(pb.ListPipelinesRequest(platform="prod", page_size=1), metadata=alice)
        seen.append(
            await outcome(
                self.stub.ListPipelines(
                    pb.ListPipelinesRequest(platform="team", page_size=1, page_token=page.next_page_token),
                    metadata=alice,
                )
            )
        )
        await asyncio.sleep(0.3)
        tracebacks = self.live.log_since(offset).count("Traceback")
        return f"{counted(seen)}; tracebacks in log: {tracebacks}"

    async def follow_log_flood(self) -> str:
        run_id = await self.submit("alice", "prod")
        before = self.live.aws_calls()["GetLogEvents"]
        outcomes: list[str] = []

        async def follow() -> None:
            try:
                request = pb.StreamPipelineRunLogsRequest(platform="prod", run_id=run_id, follow=True)
                async for _ in self.stub.StreamPipelineRunLogs(request, metadata=metadata("alice"), timeout=6):
                    pass
                outcomes.append("OK")
            except grpc.aio.AioRpcError as error:
                outcomes.append("open 6 s" if error.code() == grpc.StatusCode.DEADLINE_EXCEEDED else describe(error))

        await asyncio.gather(*(follow() for _ in range(100)))
        calls = self.live.aws_calls()["GetLogEvents"] - before
        return f"{counted(outcomes)}; GetLogEvents in 6 s: {calls}"

    async def big_error_details(self) -> str:
        ids = [f"bad id {i} " + "!" * 400 for i in range(150)]
        many_ids = await outcome(
            self.stub.BatchGetPipelineRuns(
                pb.BatchGetPipelineRunsRequest(platform="prod", run_ids=ids), metadata=metadata("alice")
            )
        )
        params = {f"bad key {i} " + "!" * 40: "v" for i in range(300)}
        many_fields = await outcome(
            self.stub.ExecutePipeline(
                pb.ExecutePipelineRequest(platform="prod", pipeline="no such pipeline!", parameters=params),
                metadata=metadata("alice"),
            )
        )
        return f"150 bad ids: {many_ids}; 300 bad fields: {many_fields}"

    async def big_response(self) -> str:
        parameters = {f"p{i:05d}": "v" * 20 for i in range(3000)}
        ids = [await self.submit("alice", "team", parameters=parameters) for _ in range(70)]
        return "BatchGet of 70 runs of 3,000 parameters: " + await outcome(
            self.stub.BatchGetPipelineRuns(
                pb.BatchGetPipelineRunsRequest(platform="team", run_ids=ids), metadata=metadata("alice"), timeout=30
            )
        )

    async def sqs_hang(self) -> str:
        hang = Action(Fault.HOLD, seconds=3600)
        self.live.proxy.rule = lambda exchange: hang if exchange.operation == "ReceiveMessage" else None
        try:
            await asyncio.sleep(3)  # the receivers in flight end their long polls and hang on the next
            run_id = await self.submit("alice", "prod")
            started = time.monotonic()
            try:
                request = pb.WatchPipelineRunRequest(platform="prod", run_id=run_id)
                async for _ in self.stub.WatchPipelineRun(request, metadata=metadata("alice"), timeout=25):
                    pass
                return f"the ~10 s job's watch ended after {time.monotonic() - started:.1f} s"
            except grpc.aio.AioRpcError as error:
                return f"the ~10 s job's watch: {describe(error)} after {time.monotonic() - started:.1f} s"
        finally:
            self.live.proxy.rule = lambda exchange: None

    async def jwks_down_then_back(self) -> str:
        token = self.signer.token(sub="jwt-alice")
        jwt_metadata = (("authorization", f"Bearer {token}"),)
        request = pb.GetPipelineRunRequest(platform="prod", run_id=self.bystander_run)
        first = await outcome(self.stub.GetPipelineRun(request, metadata=jwt_metadata))  # a fetch fails
        self.jwks.up = True
        started = time.monotonic()
        while time.monotonic() - started < 20:
            if await outcome(self.stub.GetPipelineRun(request, metadata=jwt_metadata)) == "OK":
                return f"while down: {first}; accepted {time.monotonic() - started:.1f} s after the JWKS returned"
            await asyncio.sleep(0.5)
        return f"while down: {first}; still refused 20 s after the JWKS returned"

    async def jwks_url_http(self) -> str:
        config = self.directory / "http-jwks.toml"
        config.write_text(
            f'[auth.jwt]\njwks_url = "http://idp.example.com/keys"\nissuer = "{ISSUER}"\naudience = "{AUDIENCE}"\n'
            f'[platforms.p]\nregion = "us-east-1"\nendpoint_url = "http://127.0.0.1:9"\n'
        )
        process = subprocess.Popen(
            [EXECUTABLE, "serve", "--config", str(config), "--address", "127.0.0.1:0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            output, _ = await asyncio.to_thread(process.communicate, timeout=8)
            return f"refused at start-up (exit {process.returncode}): {output.strip().splitlines()[-1][:90]}"
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            return "ACCEPTED: the server started with an http:// jwks_url"

    async def metrics_after_not_found(self) -> str:
        pattern = re.compile(
            r'grpc_server_handled_total\{[^}]*grpc_code="NotFound"[^}]*grpc_method="GetPipelineRun"[^}]*\} (\S+)'
        )

        def scrape() -> float:
            text = urllib.request.urlopen(self.live.metrics_url, timeout=5).read().decode()
            found = pattern.search(text)
            return float(found.group(1)) if found else 0.0

        missing = 0
        for i in range(30):
            before = await asyncio.to_thread(scrape)
            await outcome(
                self.stub.GetPipelineRun(
                    pb.GetPipelineRunRequest(platform="prod", run_id=f"0000{i:04d}-aaaa-bbbb-cccc-{i:012d}"),
                    metadata=metadata("alice"),
                )
            )
            if await asyncio.to_thread(scrape) < before + 1:
                missing += 1
        return f"NotFound not yet counted in {missing} of 30 scrapes"

    async def sigterm_streams(self) -> str:
        run_id = await self.submit("alice", "prod")
        results: dict[str, str] = {}
        sent = [0.0]

        async def hold(name: str, stream) -> None:
            try:
                async for _ in stream:
                    pass
                results[name] = f"OK after {time.monotonic() - sent[0]:.1f} s"
            except grpc.aio.AioRpcError as error:
                results[name] = f"{describe(error)} after {time.monotonic() - sent[0]:.1f} s"

        logs = self.stub.StreamPipelineRunLogs(
            pb.StreamPipelineRunLogsRequest(platform="prod", run_id=run_id, follow=True),
            metadata=metadata("alice"),
            timeout=60,
        )
        health = health_pb2_grpc.HealthStub(self.channel).Watch(health_pb2.HealthCheckRequest(), timeout=60)
        tasks = [asyncio.create_task(hold("logs", logs)), asyncio.create_task(hold("health", health))]
        await asyncio.sleep(1.0)
        sent[0] = time.monotonic()
        self.live.process.send_signal(signal.SIGTERM)
        await asyncio.gather(*tasks)
        return f"follow-log: {results['logs']}; Health/Watch: {results['health']}"


PROBES = {
    "fields": ("20 unauthenticated calls, ~4 MB fields", Bench.big_fields_unauthenticated),
    "forge": ("log forgery (text format)", Bench.log_forgery_text),
    "health": ("40 Health/Watch, 4 MB names, no caller", Bench.health_watch_flood),
    "squat": ("idempotency squat (bob's request_id)", Bench.idempotency_squat),
    "platforms": ("bob (team only) at prod's run/queue", Bench.two_platforms),
    "pages": ("forged page tokens", Bench.forged_page_tokens),
    "follow": ("100 follow-log streams, one caller", Bench.follow_log_flood),
    "details": ("150 bad ids / 300 bad fields", Bench.big_error_details),
    "response": ("BatchGet of huge runs", Bench.big_response),
    "sqs": ("SQS ReceiveMessage that never answers", Bench.sqs_hang),
    "jwks": ("JWKS down at start, then back", Bench.jwks_down_then_back),
    "jwks_http": ("jwks_url = http://…", Bench.jwks_url_http),
    "metrics": ("scrape right after NOT_FOUND", Bench.metrics_after_not_found),
    "sigterm": ("SIGTERM with streams open", Bench.sigterm_streams),  # last: it stops the server
}


async def run(only: list[str]) -> list[dict]:
    with tempfile.TemporaryDirectory() as temp, start_emulator(LIFECYCLE) as emulator:
        directory = Path(temp)
        batch = emulator.client("batch")
        environment = batch.describe_job_queues(jobQueues=[emulator.job_queue])["jobQueues"][0]
        batch.create_job_queue(
            jobQueueName=TEAM_QUEUE,
            state="ENABLED",
            priority=1,
            computeEnvironmentOrder=environment["computeEnvironmentOrder"],
        )
        signer = Signer("hostile")
        jwks = Jwks(signer)
        metrics_port = _free_port()
        with FaultProxy(emulator.endpoint_url) as proxy:
            config = write_config(directory, emulator, proxy, jwks.url, metrics_port)
            live = Live(config, directory, emulator, proxy, metrics_port)
            try:
                async with Bench(live, emulator, jwks, signer, directory) as bench:
                    for key, (title, probe) in PROBES.items():
                        if key in only:
                            await bench.measure(title, lambda probe=probe: probe(bench))
                    return bench.rows
            finally:
                live.stop()
                jwks.stop()


def table(rows: list[dict]) -> str:
    head = f"{'probe':42} {'s':>5} {'log_bytes':>11} {'rss_mb':>6} {'aws':>5} {'by_p50':>6} {'by_max':>6}  seen"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['probe']:42} {r['seconds']:>5} {r['log_bytes']:>11,} {r['rss_mb']:>6} {r['aws']:>5} "
            f"{r['by_p50']:>6} {r['by_max']:>6}  {r['seen']}"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default=",".join(PROBES), help=f"comma-separated, of: {','.join(PROBES)}")
    args = parser.parse_args()
    # The proxy's hung ReceiveMessage calls are cancelled when it stops; asyncio would log each.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    rows = asyncio.run(run(args.only.split(",")))
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
