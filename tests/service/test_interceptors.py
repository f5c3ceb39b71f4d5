"""The interceptor chain, through a real server: every method maps errors the same way, bytes
that are not a message are INVALID_ARGUMENT (never UNKNOWN), and each RPC is logged once."""

from __future__ import annotations

import logging

import grpc
import pytest
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync_batch.api.health import SERVICE_NAME
from polysync_batch.bootstrap import demo_platforms

from tests.support import FAST_WATCH, error_details, reason_of, serve

METHODS = pb.DESCRIPTOR.services_by_name["PlatformService"].methods


@pytest.mark.parametrize("method", [m.name for m in METHODS])
async def test_undecodable_bytes_are_invalid_argument_on_every_method(served, method):
    descriptor = METHODS[[m.name for m in METHODS].index(method)]
    path = f"/{SERVICE_NAME}/{method}"
    garbage = b"\xff\xff\xff\xff"  # a field tag with no end: not any message
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        if descriptor.server_streaming:
            call = served.channel.unary_stream(path)(garbage)
            async for _ in call:
                pass
        else:
            await served.channel.unary_unary(path)(garbage)
    error = raised.value
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error
    assert reason_of(error) == "INVALID_ARGUMENT"
    assert "class" not in error.details() and "Decode" not in error.details()


async def test_an_unexpected_error_is_internal_with_a_generic_message(emulator, caplog):
    platforms = demo_platforms(emulator, None, FAST_WATCH)

    async def broken(*args, **kwargs):
        raise ValueError("secret internals")

    def broken_watch(*args, **kwargs):
        raise ValueError("secret internals")

    platforms.get("demo").runs.get = broken  # the use case fails in a way nobody planned for
    platforms.get("demo").runs.watch = broken_watch
    async with serve(platforms) as served:
        with pytest.raises(grpc.aio.AioRpcError) as unary:
            await served.stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id="x"))
        with pytest.raises(grpc.aio.AioRpcError) as stream:
            async for _ in served.stub.WatchPipelineRun(pb.WatchPipelineRunRequest(run_id="x")):
                pass
    for error in (unary.value, stream.value):
        assert error.code() == grpc.StatusCode.INTERNAL
        assert error_details(error)["ErrorInfo"].reason == "INTERNAL"
        assert "secret internals" not in error.details() and "ValueError" not in error.details()
    assert "secret internals" in caplog.text  # the detail goes to the log


async def test_each_rpc_is_logged_once_with_its_code(served, caplog):
    caplog.set_level(logging.INFO, logger="polysync_batch.rpc")
    await served.stub.ListPipelines(pb.ListPipelinesRequest())
    with pytest.raises(grpc.aio.AioRpcError):
        await served.stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id="no-such-run", platform="demo"))
    lines = [r.fields for r in caplog.records if r.name == "polysync_batch.rpc" and hasattr(r, "fields")]
    assert [(f["method"], f["code"]) for f in lines] == [("ListPipelines", "OK"), ("GetPipelineRun", "NOT_FOUND")]
    assert lines[1]["platform"] == "demo" and lines[1]["run_id"] == "no-such-run"
    assert lines[1]["reason"] == "RUN_NOT_FOUND" and lines[1]["duration_ms"] >= 0
