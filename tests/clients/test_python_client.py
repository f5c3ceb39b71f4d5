"""The Python client package against a live server: watch_run across a restart, error_reason,
and the README's quickstart."""

import asyncio
import subprocess
import sys
import uuid
from pathlib import Path

import grpc
import pytest
from polysync.platform.v1 import pipeline_run_pb2 as runs_pb, platform_service_pb2 as pb, platform_service_pb2_grpc
from polysync_platform_client import error_reason, watch_run

from polysync_batch.api.server import build_server
from polysync_batch.config import ServerConfig
from polysync_batch.bootstrap import demo_platforms
from tests.support import FAST_WATCH

QUICKSTART = Path(__file__).parents[2] / "clients" / "python" / "examples" / "quickstart.py"


@pytest.fixture(scope="module")
def emulator():
    from polysync_batch.emulator import Lifecycle, start_emulator

    with start_emulator(Lifecycle(submitted=0.1, pending=0.1, runnable=0.1, starting=0.1, running=0.5)) as running:
        yield running


async def start(emulator, address="127.0.0.1:0"):
    return await build_server(demo_platforms(emulator, None, FAST_WATCH),
                              ServerConfig(address=address, health_check_interval_seconds=0))


async def test_watch_run_follows_a_run_across_a_server_restart(emulator):
    server = await start(emulator)
    address = f"127.0.0.1:{server.port}"
    reconnects = []
    async with grpc.aio.insecure_channel(address) as channel:
        stub = platform_service_pb2_grpc.PlatformServiceStub(channel)
        run = (await stub.ExecutePipeline(pb.ExecutePipelineRequest(
            pipeline="hello", parameters={"duration_seconds": "2"}))).run
        states = []
        async for state in watch_run(stub, run.run_id, initial_backoff=0.05,
                                     on_reconnect=lambda n, delay, error: reconnects.append(error.code())):
            states.append(state)
            if len(states) == 1:  # restart the server under the open stream
                await server.stop(5)
                server = await start(emulator, address)
        await server.stop(None)
    assert reconnects and reconnects[0] == grpc.StatusCode.UNAVAILABLE
    assert states[-1].status == runs_pb.RUN_STATUS_SUCCEEDED and states[-1].terminal
    assert all(a != b for a, b in zip(states, states[1:]))  # nothing delivered twice in a row


async def test_error_reason_reads_the_error_info(emulator):
    server = await start(emulator)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = platform_service_pb2_grpc.PlatformServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id=str(uuid.uuid4())))
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            async for _ in watch_run(stub, str(uuid.uuid4())):
                pass
    await server.stop(None)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND and error_reason(caught.value) == "RUN_NOT_FOUND"
    assert error_reason(missing.value) == "RUN_NOT_FOUND"  # not retried: only UNAVAILABLE is


async def test_the_quickstart_runs_against_a_live_server(emulator):
    server = await start(emulator)
    try:
        result = await asyncio.to_thread(
            subprocess.run, [sys.executable, str(QUICKSTART), f"127.0.0.1:{server.port}"],
            capture_output=True, text=True, timeout=60)
    finally:
        await server.stop(None)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("submitted ") and lines[1] == "SUBMITTED"
    assert lines[-1] == "finished RUN_STATUS_SUCCEEDED Succeeded (exit code 0)"
