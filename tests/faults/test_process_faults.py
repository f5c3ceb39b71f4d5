"""Faults that need real processes: kill -9 of the server while SubmitJob is in flight, and a
rolling restart (a second server on the same port, then SIGTERM to the first) under 200
watchers."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import uuid

import grpc
from polysync.platform.v1 import pipeline_run_pb2 as runs_pb
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync.platform.v1 import platform_service_pb2_grpc

from tests.faults.conftest import jobs_for, jobs_named
from tests.faults.proxy import Action, Fault
from tests.support import start_serve, wait_for_port


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_through(tmp_path, emulator, proxy, port: int) -> subprocess.Popen:
    """`polysync-batch serve` with the demo platform behind the proxy, as an operator runs it."""
    config = tmp_path / "polysync-batch.toml"
    config.write_text(f"""
[server]
address = "127.0.0.1:{port}"
health_check_interval_seconds = 0
shutdown_grace_seconds = 2
reuse_port = true  # the rolling restart binds a second server to the same port

[watch]
poll_interval_seconds = 0.2
max_poll_interval_seconds = 0.5

[platforms.demo]
region = "{emulator.region}"
default_job_queue = "{emulator.job_queue}"
endpoint_url = "{proxy.endpoint_url}"

[platforms.demo.auth]
mode = "access_keys"
access_key_id_env = "FAULT_TEST_KEY_ID"
secret_access_key_env = "FAULT_TEST_SECRET"
""")
    process = start_serve(
        "--config",
        str(config),
        env={"FAULT_TEST_KEY_ID": emulator.access_key_id, "FAULT_TEST_SECRET": emulator.secret_access_key},
    )
    assert wait_for_port(process) == port
    return process


async def test_kill_9_while_submit_job_is_in_flight_then_the_retry_finds_the_job(tmp_path, emulator, proxy):
    port = free_port()
    proxy.rule = lambda e: Action(Fault.DELAY, seconds=3) if e.operation == "SubmitJob" else None
    server = serve_through(tmp_path, emulator, proxy, port)
    request = pb.ExecutePipelineRequest(pipeline="hello", request_id=str(uuid.uuid4()))
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = platform_service_pb2_grpc.PlatformServiceStub(channel)
            call = asyncio.ensure_future(stub.ExecutePipeline(request, timeout=30))
            while not proxy.of("SubmitJob"):  # AWS has the request; its answer is on the way
                await asyncio.sleep(0.05)
            server.send_signal(signal.SIGKILL)
            server.wait(10)
            try:
                await call
                raise AssertionError("the call survived its server's kill -9")
            except grpc.aio.AioRpcError as error:
                assert error.code() == grpc.StatusCode.UNAVAILABLE
        proxy.rule = lambda exchange: None
        server = serve_through(tmp_path, emulator, proxy, port)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            retry = await platform_service_pb2_grpc.PlatformServiceStub(channel).ExecutePipeline(request, timeout=30)
    finally:
        server.kill()
        server.wait(10)
    assert retry.deduplicated
    assert jobs_for(emulator, request.request_id) == [retry.run.run_id]
    assert len(proxy.of("SubmitJob")) == 1


async def test_a_rolling_restart_under_200_watchers_loses_no_stream(tmp_path, emulator, proxy):
    port = free_port()
    first = serve_through(tmp_path, emulator, proxy, port)
    second = None
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = platform_service_pb2_grpc.PlatformServiceStub(channel)
            # Runs that outlast opening 200 streams and starting the second server on a loaded
            # machine (4 s did not in CI: a run ended first, and its watchers never moved).
            runs = [
                (
                    await stub.ExecutePipeline(
                        pb.ExecutePipelineRequest(
                            pipeline="hello",
                            request_id=f"rolling-{uuid.uuid4()}",
                            parameters={"duration_seconds": "20"},
                        ),
                        timeout=20,
                    )
                ).run
                for _ in range(10)
            ]
            reconnects = [0] * 200
            opened = asyncio.Event()
            open_streams = [0]

            async def watcher(index: int, run_id: str) -> runs_pb.PipelineRun:
                """Watches to the end, reconnecting on UNAVAILABLE as every client helper does."""
                counted = False
                while True:
                    try:
                        async for event in stub.WatchPipelineRun(pb.WatchPipelineRunRequest(run_id=run_id), timeout=60):
                            if not counted:
                                counted = True
                                open_streams[0] += 1
                                if open_streams[0] == len(reconnects):
                                    opened.set()
                            if event.run.terminal:
                                return event.run
                    except grpc.aio.AioRpcError as error:
                        assert error.code() == grpc.StatusCode.UNAVAILABLE, error
                        reconnects[index] += 1
                        await asyncio.sleep(0.1)

            watchers = [asyncio.ensure_future(watcher(i, runs[i % 10].run_id)) for i in range(200)]
            await asyncio.wait_for(opened.wait(), 30)
            second = serve_through(tmp_path, emulator, proxy, port)  # shares the port (SO_REUSEPORT)
            first.send_signal(signal.SIGTERM)
            assert first.wait(20) == 0
            finals = await asyncio.wait_for(asyncio.gather(*watchers), 60)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(10)
    assert all(run.status == runs_pb.RUN_STATUS_SUCCEEDED for run in finals)
    assert all(count >= 1 for count in reconnects), "every watcher was on the first server and moved"
    assert all(jobs_named(emulator, run.job_name) == [run.run_id] for run in runs)
