"""SPEC §8.3 from outside: /metrics scraped over HTTP from a real server after real calls, AWS
attempts counted against what the AWS endpoint received, the stream gauge going up and back
to 0, and a span per RPC with child spans per AWS call through a real server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import urllib.request
from collections.abc import AsyncIterator

import grpc
import pytest
import wrapt
from botocore.client import BaseClient
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync.platform.v1 import platform_service_pb2_grpc
from polysync_batch.bootstrap import demo_platforms
from polysync_batch.config import MetricsConfig, TracingConfig
from polysync_batch.observability.tracing import Tracing, tracing_from_config
from polysync_batch.service.registry import PlatformRegistry
from prometheus_client.parser import text_string_to_metric_families

from tests.fake_aws import FakeAws, json_error
from tests.support import FAST_WATCH, Served, fake_aws_runtime, serve, start_serve, wait_for_port

SERVICE = "polysync.platform.v1.PlatformService"
METRICS = MetricsConfig(address="127.0.0.1:0")


def scrape(served: Served) -> dict[tuple[str, frozenset], float]:
    """Every sample at /metrics, by name and labels."""
    port = served.running.metrics.endpoint.port
    assert port != served.running.port  # its own port, never the gRPC one
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def handled(samples: dict, method: str, code: str, grpc_type: str = "unary") -> float:
    return value(
        samples,
        "grpc_server_handled_total",
        grpc_type=grpc_type,
        grpc_service=SERVICE,
        grpc_method=method,
        grpc_code=code,
    )


@contextlib.asynccontextmanager
async def metered(platforms: PlatformRegistry) -> AsyncIterator[Served]:
    async with serve(platforms, metrics=METRICS) as served:
        yield served


async def test_handled_counts_per_method_and_code_and_the_stream_gauge(emulator):
    async with metered(demo_platforms(emulator, None, FAST_WATCH)) as served:
        for _ in range(2):
            await served.stub.ListPipelines(pb.ListPipelinesRequest())
        for bad in ("no-such-run-1", "no-such-run-2", "no-such-run-3"):
            with pytest.raises(grpc.aio.AioRpcError):
                await served.stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id=bad))
        with pytest.raises(grpc.aio.AioRpcError):
            await served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline=""))
        run = (await served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello"))).run

        messages, during = [], {}
        async for message in served.stub.WatchPipelineRun(pb.WatchPipelineRunRequest(run_id=run.run_id)):
            messages.append(message)
            if len(messages) == 1:
                during = scrape(served)
        await asyncio.sleep(0.05)  # the handler's finally runs just after the last message
        after = scrape(served)

    assert handled(after, "ListPipelines", "OK") == 2
    assert handled(after, "GetPipelineRun", "NotFound") == 3
    assert handled(after, "ExecutePipeline", "InvalidArgument") == 1
    assert handled(after, "ExecutePipeline", "OK") == 1
    assert (
        value(after, "grpc_server_started_total", grpc_type="unary", grpc_service=SERVICE, grpc_method="GetPipelineRun")
        == 3
    )
    # the stream: counted as server_stream, every message sent, ended OK after the terminal state
    assert value(during, "polysync_batch_watch_streams", platform="demo") == 1
    assert value(during, "polysync_batch_watched_runs", platform="demo") == 1
    assert value(after, "polysync_batch_watch_streams", platform="demo") == 0
    assert value(after, "polysync_batch_watched_runs", platform="demo") == 0
    assert handled(during, "WatchPipelineRun", "OK", "server_stream") == 0
    assert handled(after, "WatchPipelineRun", "OK", "server_stream") == 1
    assert value(
        after,
        "grpc_server_msg_sent_total",
        grpc_type="server_stream",
        grpc_service=SERVICE,
        grpc_method="WatchPipelineRun",
    ) == len(messages)
    assert (
        value(
            after,
            "grpc_server_handling_seconds_count",
            grpc_type="unary",
            grpc_service=SERVICE,
            grpc_method="ListPipelines",
        )
        == 2
    )
    # AWS attempts by operation, per platform; no run ids or callers in any label
    assert value(after, "polysync_batch_aws_calls_total", platform="demo", operation="SubmitJob", outcome="ok") == 1
    assert all(run.run_id not in str(labels) and "ipv4" not in str(labels) for _, labels in after)


async def test_a_cancelled_stream_is_canceled_and_leaves_the_gauge(emulator):
    async with metered(demo_platforms(emulator, None, FAST_WATCH)) as served:
        run = (
            await served.stub.ExecutePipeline(
                pb.ExecutePipelineRequest(pipeline="hello", parameters={"duration_seconds": "30"})
            )
        ).run
        stream = served.stub.WatchPipelineRun(pb.WatchPipelineRunRequest(run_id=run.run_id))
        await stream.read()
        assert value(scrape(served), "polysync_batch_watch_streams", platform="demo") == 1
        stream.cancel()
        for _ in range(100):
            after = scrape(served)
            if handled(after, "WatchPipelineRun", "Canceled", "server_stream"):
                break
            await asyncio.sleep(0.02)
        assert handled(after, "WatchPipelineRun", "Canceled", "server_stream") == 1
        assert value(after, "polysync_batch_watch_streams", platform="demo") == 0


async def test_aws_attempts_match_what_the_endpoint_received_retries_included(caplog):
    answers = iter(
        [
            json_error(429, "TooManyRequestsException", "slow down"),
            json_error(429, "TooManyRequestsException", "slow down"),
        ]
    )

    def respond(request):
        return next(answers, (200, {"Content-Type": "application/json"}, '{"jobs": []}'))

    with FakeAws(respond) as aws:
        platforms = PlatformRegistry({"prod": fake_aws_runtime(endpoint_url=aws.endpoint_url, max_attempts=3)}, "prod")
        async with metered(platforms) as served:
            for run_id in ("j-1", "j-2"):
                with pytest.raises(grpc.aio.AioRpcError):
                    await served.stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id=run_id))
            samples = scrape(served)
    received = [r for r in aws.requests if r.path == "/v1/describejobs"]
    assert len(received) == 4  # j-1: two throttled attempts and a third that answered; j-2: one
    counted = {labels: count for (name, labels), count in samples.items() if name == "polysync_batch_aws_calls_total"}
    assert counted == {
        frozenset({"platform": "prod", "operation": "DescribeJobs", "outcome": "ok"}.items()): 2,
        frozenset({"platform": "prod", "operation": "DescribeJobs", "outcome": "TooManyRequestsException"}.items()): 2,
    }
    assert sum(counted.values()) == len(received)
    assert value(samples, "polysync_batch_aws_call_seconds_count", platform="prod", operation="DescribeJobs") == 4
    assert handled(samples, "GetPipelineRun", "NotFound") == 2
    throttled = [r.fields for r in caplog.records if getattr(r, "fields", {}).get("event") == "aws_throttled"]
    assert (
        throttled
        == [
            {
                "event": "aws_throttled",
                "platform": "prod",
                "operation": "DescribeJobs",
                "aws_error_code": "TooManyRequestsException",
            }
        ]
        * 2
    )


async def test_no_answer_is_counted_as_network():
    with FakeAws(lambda r: (200, {}, "")) as aws:
        endpoint = aws.endpoint_url  # nobody listens here once the fake is gone
    platforms = PlatformRegistry({"prod": fake_aws_runtime(endpoint_url=endpoint, max_attempts=2)}, "prod")
    async with metered(platforms) as served:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await served.stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id="j-1"))
        samples = scrape(served)
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    assert (
        value(samples, "polysync_batch_aws_calls_total", platform="prod", operation="DescribeJobs", outcome="network")
        == 2
    )


async def test_servers_in_one_process_have_registries_of_their_own(emulator):
    async with (
        metered(demo_platforms(emulator, None, FAST_WATCH)) as one,
        metered(demo_platforms(emulator, None, FAST_WATCH)) as two,
    ):
        await one.stub.ListPipelines(pb.ListPipelinesRequest())
        assert handled(scrape(one), "ListPipelines", "OK") == 1
        assert handled(scrape(two), "ListPipelines", "OK") == 0


async def test_without_an_address_there_is_no_metrics_endpoint(served):
    assert served.running.metrics is None


# -- tracing -----------------------------------------------------------------------------------

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


async def test_a_span_per_rpc_continues_the_callers_trace_with_a_child_span_per_aws_call(emulator):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing = Tracing(provider)
    tracing.start()
    try:
        # Polling only: with the event queue its consumer's ReceiveMessage spans are roots of their own.
        async with serve(demo_platforms(emulator, None, FAST_WATCH, events=False), tracing=tracing) as served:
            metadata = (("traceparent", f"00-{TRACE_ID}-{PARENT_ID}-01"),)
            await served.stub.ListPipelines(pb.ListPipelinesRequest(), metadata=metadata)
            with pytest.raises(grpc.aio.AioRpcError):
                await served.stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id="no-such-run"), metadata=metadata)
        assert is_patched(BaseClient)
    finally:
        tracing.stop()
    assert not is_patched(BaseClient)
    spans = exporter.get_finished_spans()
    rpcs = {s.name: s for s in spans if s.kind == trace.SpanKind.SERVER}
    assert set(rpcs) == {f"/{SERVICE}/ListPipelines", f"/{SERVICE}/GetPipelineRun"}
    for span in rpcs.values():
        assert format(span.context.trace_id, "032x") == TRACE_ID
        assert format(span.parent.span_id, "016x") == PARENT_ID
    assert rpcs[f"/{SERVICE}/GetPipelineRun"].attributes["rpc.grpc.status_code"] == grpc.StatusCode.NOT_FOUND.value[0]
    aws = [s for s in spans if s.kind == trace.SpanKind.CLIENT]
    by_parent = {(s.name, s.parent.span_id) for s in aws}
    assert ("Batch.DescribeJobDefinitions", rpcs[f"/{SERVICE}/ListPipelines"].context.span_id) in by_parent
    assert ("Batch.DescribeJobs", rpcs[f"/{SERVICE}/GetPipelineRun"].context.span_id) in by_parent
    assert all(format(s.context.trace_id, "032x") == TRACE_ID for s in aws)


async def test_the_pollers_aws_calls_are_not_children_of_the_watch_that_started_it(emulator):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing = Tracing(provider)
    tracing.start()
    try:
        async with serve(demo_platforms(emulator, None, FAST_WATCH, events=False), tracing=tracing) as served:
            run = (await served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello"))).run
            watch = served.stub.WatchPipelineRun(pb.WatchPipelineRunRequest(run_id=run.run_id, platform="demo"))
            assert len([message async for message in watch]) >= 2
    finally:
        tracing.stop()
    spans = exporter.get_finished_spans()
    watch_span = next(s for s in spans if s.name == f"/{SERVICE}/WatchPipelineRun")
    polls = [s for s in spans if s.name == "Batch.DescribeJobs"]
    under_watch = [s for s in polls if s.parent is not None and s.parent.span_id == watch_span.context.span_id]
    roots = [s for s in polls if s.parent is None]
    assert len(under_watch) <= 1  # at most the watch's own first read
    assert roots and all(s.context.trace_id != watch_span.context.trace_id for s in roots)


def test_tracing_is_off_without_an_endpoint_and_on_with_one():
    assert tracing_from_config(TracingConfig(), {}) is None
    on = tracing_from_config(TracingConfig(), {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"})
    assert on is not None
    on.provider.shutdown()
    configured = tracing_from_config(TracingConfig(endpoint="http://127.0.0.1:4317"), {})
    assert configured is not None
    configured.provider.shutdown()


def test_tracing_off_adds_no_interceptor_and_leaves_botocore_unpatched(emulator):
    from polysync_batch.api.server import interceptors

    platforms = demo_platforms(emulator, None, FAST_WATCH)
    chain = [type(i).__name__ for i in interceptors(platforms)]
    assert chain == ["CallChain"], chain  # no tracing interceptor
    assert interceptors(platforms)[0].metrics is None  # and no metrics step
    assert not is_patched(BaseClient)


def is_patched(cls: type) -> bool:
    return isinstance(cls.__dict__["_make_api_call"], wrapt.FunctionWrapper)


# -- logs of a real `polysync-batch serve` -------------------------------------------------------


def test_serve_logs_one_json_object_per_line_on_stderr_with_one_line_per_rpc():
    process = start_serve(
        "--address",
        "127.0.0.1:0",
        stderr_only=True,
        env={"POLYSYNC_BATCH_CONFIG": "", "POLYSYNC_BATCH_METRICS__ADDRESS": "127.0.0.1:0"},
    )
    try:
        port = wait_for_port(process)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = platform_service_pb2_grpc.PlatformServiceStub(channel)
            stub.ListPipelines(pb.ListPipelinesRequest(), timeout=10)
            run = stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello", request_id="req-42"), timeout=10).run
            with pytest.raises(grpc.RpcError):
                stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id="no-such-run", platform="demo"), timeout=10)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        process.reader.join(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    lines = [json.loads(line) for line in process.lines]  # every line is one JSON object
    events = [line.get("event") for line in lines]
    assert events[-2:] == ["server_stopping", "server_stopped"]
    started = next(line for line in lines if line.get("event") == "server_started")
    assert started["message"].startswith(f"polysync-batch serving on 127.0.0.1:{port}")
    assert started["metrics_port"] not in (None, port)
    rpcs = [line for line in lines if line.get("event") == "rpc"]
    assert [(r["method"], r["code"]) for r in rpcs] == [
        ("ListPipelines", "OK"),
        ("ExecutePipeline", "OK"),
        ("GetPipelineRun", "NOT_FOUND"),
    ]
    for line in rpcs:
        assert line["platform"] == "demo" and line["duration_ms"] >= 0
        assert {"time", "level", "logger", "message"} <= set(line)
    assert rpcs[1]["request_id"] == "req-42" and rpcs[1]["pipeline"] == "hello"
    assert rpcs[2]["run_id"] == "no-such-run" and rpcs[2]["reason"] == "RUN_NOT_FOUND"
    assert run.run_id and "Traceback" not in "".join(process.lines)


def test_log_format_text_is_for_people():
    process = start_serve("--address", "127.0.0.1:0", "--log-format", "text", env={"POLYSYNC_BATCH_CONFIG": ""})
    try:
        wait_for_port(process)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
    output = "".join(process.lines)
    assert "event=emulator_started" in output and "event=server_started" in output, output
    assert not any(line.startswith("{") for line in process.lines), output


def test_every_grpc_status_has_its_go_name():
    from polysync_batch.observability.metrics import GO_CODE_NAMES

    go = {code.name: "".join(part.title() for part in code.name.split("_")) for code in grpc.StatusCode}
    go["CANCELLED"], go["OK"] = "Canceled", "OK"  # Go's spelling of both
    assert go == GO_CODE_NAMES


async def test_a_metrics_port_in_use_fails_start_up_naming_the_key(emulator):
    async with metered(demo_platforms(emulator, None, FAST_WATCH)) as first:
        taken = f"127.0.0.1:{first.running.metrics.endpoint.port}"
        with pytest.raises(OSError, match=f"metrics.address {taken}: cannot listen"):
            async with serve(demo_platforms(emulator, None, FAST_WATCH), metrics=MetricsConfig(address=taken)):
                pass


async def test_the_caller_set_on_the_call_record_is_in_the_rpc_line_and_in_no_label(emulator, caplog):
    import logging

    from polysync_batch.api.chain.call import current_call

    platforms = demo_platforms(emulator, None, FAST_WATCH)
    pipelines = platforms.get("demo").pipelines
    listed = pipelines.list

    async def as_scheduler(*args, **kwargs):
        current_call.get().fields["caller"] = "scheduler"  # what the auth interceptor does
        return await listed(*args, **kwargs)

    pipelines.list = as_scheduler
    caplog.set_level(logging.INFO, logger="polysync_batch.rpc")
    async with metered(platforms) as served:
        await served.stub.ListPipelines(pb.ListPipelinesRequest())
        samples = scrape(served)
    lines = [r.fields for r in caplog.records if getattr(r, "fields", {}).get("event") == "rpc"]
    assert [(line["method"], line["caller"]) for line in lines] == [("ListPipelines", "scheduler")]
    assert not any("scheduler" in str(labels) for _, labels in samples)
