"""A tiny scripted PlatformService on 127.0.0.1:0 for the client helper tests: each call of a
method plays the next script given for it (messages to send, then an optional error with a
reason), and every call's request and metadata are recorded. It lets the tests make the server
fail exactly when the reconnect policy says something must happen."""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status
from polysync.platform.v1 import pipeline_run_pb2
from polysync.platform.v1 import platform_service_pb2 as pb

SERVICE = "polysync.platform.v1.PlatformService"


@dataclass
class Fail:
    """End the call with this status, an ErrorInfo `reason` and optional BadRequest/RetryInfo."""

    code: grpc.StatusCode
    reason: str = ""
    violations: tuple[tuple[str, str], ...] = ()
    retry_seconds: int | None = None


class Hang:
    """Keep the stream open until the client cancels it (records that it did)."""


@dataclass
class Call:
    method: str
    request: Any
    metadata: dict[str, str]
    time_remaining: float | None
    ended: threading.Event = field(default_factory=threading.Event)


def run(
    run_id: str = "r1",
    native: str = "RUNNING",
    *,
    terminal: bool = False,
    exit_code: int | None = None,
    reason: str = "",
) -> pipeline_run_pb2.PipelineRun:
    status = {"SUCCEEDED": pipeline_run_pb2.RUN_STATUS_SUCCEEDED, "FAILED": pipeline_run_pb2.RUN_STATUS_FAILED}
    message = pipeline_run_pb2.PipelineRun(
        run_id=run_id,
        native_status=native,
        terminal=terminal,
        status_reason=reason,
        status=status.get(native, pipeline_run_pb2.RUN_STATUS_RUNNING),
    )
    if exit_code is not None:
        message.exit_code = exit_code
    return message


def event(
    state: pipeline_run_pb2.PipelineRun,
    *,
    heartbeat: bool = False,
    stale_since: float | None = None,
    many: bool = False,
) -> Any:
    kind = pb.WatchPipelineRunsResponse if many else pb.WatchPipelineRunResponse
    message = kind(run=state, heartbeat=heartbeat)
    if stale_since is not None:
        message.stale_since.FromSeconds(int(stale_since))
    return message


def _abort(context: grpc.ServicerContext, fail: Fail) -> None:
    status = status_pb2.Status(code=fail.code.value[0], message=f"scripted {fail.code.name}")
    details: list[Any] = []
    if fail.violations:
        details.append(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field=f, description=d) for f, d in fail.violations
                ]
            )
        )
    if fail.retry_seconds is not None:
        details.append(error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=fail.retry_seconds)))
    if fail.reason:
        details.append(error_details_pb2.ErrorInfo(reason=fail.reason, domain="polysync.platform"))
    for detail in details:
        packed = any_pb2.Any()
        packed.Pack(detail)
        status.details.append(packed)
    context.abort_with_status(rpc_status.to_status(status))


class ScriptedServer:
    def __init__(self, credentials: grpc.ServerCredentials | None = None) -> None:
        self.scripts: dict[str, collections.deque[list[Any]]] = collections.defaultdict(collections.deque)
        self.calls: list[Call] = []
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        handlers = {}
        for name, (request_type, response_type, streaming) in {
            "ListPipelines": (pb.ListPipelinesRequest, pb.ListPipelinesResponse, False),
            "ListPipelineRuns": (pb.ListPipelineRunsRequest, pb.ListPipelineRunsResponse, False),
            "BatchGetPipelineRuns": (pb.BatchGetPipelineRunsRequest, pb.BatchGetPipelineRunsResponse, False),
            "ExecutePipeline": (pb.ExecutePipelineRequest, pb.ExecutePipelineResponse, False),
            "WatchPipelineRun": (pb.WatchPipelineRunRequest, pb.WatchPipelineRunResponse, True),
            "WatchPipelineRuns": (pb.WatchPipelineRunsRequest, pb.WatchPipelineRunsResponse, True),
            "StreamPipelineRunLogs": (pb.StreamPipelineRunLogsRequest, pb.StreamPipelineRunLogsResponse, True),
            "WatchRunChanges": (pb.WatchRunChangesRequest, pb.WatchRunChangesResponse, True),
        }.items():
            make = grpc.unary_stream_rpc_method_handler if streaming else grpc.unary_unary_rpc_method_handler
            handler = self._stream(name) if streaming else self._unary(name)
            handlers[name] = make(
                handler,
                request_deserializer=request_type.FromString,
                response_serializer=response_type.SerializeToString,
            )
        self._server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
        address = "127.0.0.1:0"
        self.port = (
            self._server.add_secure_port(address, credentials)
            if credentials
            else self._server.add_insecure_port(address)
        )
        self.target = f"127.0.0.1:{self.port}"

    def script(self, method: str, *steps: Any) -> ScriptedServer:
        self.scripts[method].append(list(steps))
        return self

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def _record(self, name: str, request: Any, context: grpc.ServicerContext) -> tuple[Call, list[Any]]:
        call = Call(
            name,
            request,
            {k: v for k, v in context.invocation_metadata() if isinstance(v, str)},
            context.time_remaining(),
        )
        context.add_callback(call.ended.set)  # on any end; a Hang() ends only when cancelled
        self.calls.append(call)
        steps = self.scripts[name].popleft() if self.scripts[name] else [Fail(grpc.StatusCode.UNIMPLEMENTED)]
        return call, steps

    def _unary(self, name: str) -> Any:
        def handle(request: Any, context: grpc.ServicerContext) -> Any:
            _, steps = self._record(name, request, context)
            step = steps[0]
            if isinstance(step, Fail):
                _abort(context, step)
            return step

        return handle

    def _stream(self, name: str) -> Any:
        def handle(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            call, steps = self._record(name, request, context)
            for step in steps:
                if isinstance(step, Fail):
                    _abort(context, step)
                elif isinstance(step, Hang):
                    while context.is_active():
                        time.sleep(0.01)
                    return
                else:
                    yield step

        return handle

    def __enter__(self) -> ScriptedServer:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop(None)
