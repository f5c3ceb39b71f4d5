"""PlatformService: thin translation proto → platform call → proto. No boto3 here."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import grpc
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync.platform.v1 import platform_service_pb2_grpc as pb_grpc

from polysync_batch import convert
from polysync_batch.aws.connection_check import test_connection
from polysync_batch.aws.platform import MAX_BATCH_GET
from polysync_batch.domain import errors
from polysync_batch.domain.errors import Violations
from polysync_batch.domain.submit import validate_job_queue, validate_run_id
from polysync_batch.logs import stream_logs
from polysync_batch.platforms import PlatformRuntime, Platforms
from polysync_batch.rpc_errors import handle_errors
from polysync_batch.stream_limits import StreamLimiter, caller_of
from polysync_batch.watch.subscription import WatchEvent


def _check_run_id(run_id: str) -> None:
    violations = Violations()
    validate_run_id(run_id, violations)
    violations.raise_if_any()


def _check_run_ids(run_ids: list[str]) -> None:
    violations = Violations()
    if not 1 <= len(run_ids) <= MAX_BATCH_GET:
        violations.add("run_ids", f"must hold 1 to {MAX_BATCH_GET} run ids ({len(run_ids)} given)")
    for index, run_id in enumerate(run_ids):
        validate_run_id(run_id, violations, f"run_ids[{index}]")
    violations.raise_if_any()


class PlatformServicer(pb_grpc.PlatformServiceServicer):
    def __init__(self, platforms: Platforms, streams: StreamLimiter) -> None:
        self._platforms = platforms
        self._streams = streams

    @handle_errors
    async def TestConnection(self, request: pb.TestConnectionRequest, context: grpc.aio.ServicerContext) -> pb.TestConnectionResponse:
        violations = Violations()
        validate_job_queue(request.job_queue, violations)
        violations.raise_if_any()
        runtime = self._platforms.get(request.platform)
        report = await test_connection(runtime.info, runtime.gateway, request.job_queue)
        return convert.connection_to_proto(report)

    @handle_errors
    async def ListPipelines(self, request: pb.ListPipelinesRequest, context: grpc.aio.ServicerContext) -> pb.ListPipelinesResponse:
        platform = self._platforms.get(request.platform).platform
        pipelines, token = await platform.list_pipelines(request.page_size, request.page_token, request.name_prefix)
        return pb.ListPipelinesResponse(pipelines=[convert.pipeline_to_proto(p) for p in pipelines], next_page_token=token)

    @handle_errors
    async def GetPipeline(self, request: pb.GetPipelineRequest, context: grpc.aio.ServicerContext) -> pb.GetPipelineResponse:
        if not request.pipeline:
            Violations([errors.FieldViolation("pipeline", "is required: a job definition name, name:revision, or ARN")]).raise_if_any()
        platform = self._platforms.get(request.platform).platform
        return pb.GetPipelineResponse(pipeline=convert.pipeline_to_proto(await platform.get_pipeline(request.pipeline)))

    @handle_errors
    async def ExecutePipeline(self, request: pb.ExecutePipelineRequest, context: grpc.aio.ServicerContext) -> pb.ExecutePipelineResponse:
        runtime = self._platforms.get(request.platform)
        run, deduplicated = await runtime.platform.execute(convert.submit_request_from_proto(request))
        runtime.poller.prime(run)
        return pb.ExecutePipelineResponse(run=convert.run_to_proto(run), deduplicated=deduplicated)

    @handle_errors
    async def GetPipelineRun(self, request: pb.GetPipelineRunRequest, context: grpc.aio.ServicerContext) -> pb.GetPipelineRunResponse:
        _check_run_id(request.run_id)
        poller = self._platforms.get(request.platform).poller
        return pb.GetPipelineRunResponse(run=convert.run_to_proto(await poller.get(request.run_id)))

    @handle_errors
    async def BatchGetPipelineRuns(self, request: pb.BatchGetPipelineRunsRequest, context: grpc.aio.ServicerContext) -> pb.BatchGetPipelineRunsResponse:
        _check_run_ids(list(request.run_ids))
        poller = self._platforms.get(request.platform).poller
        found = await poller.get_many(list(request.run_ids))
        return pb.BatchGetPipelineRunsResponse(
            runs=[convert.run_to_proto(run) for run in found.values() if run is not None],
            missing_run_ids=[run_id for run_id, run in found.items() if run is None])

    @handle_errors
    async def ListPipelineRuns(self, request: pb.ListPipelineRunsRequest, context: grpc.aio.ServicerContext) -> pb.ListPipelineRunsResponse:
        violations = Violations()
        validate_job_queue(request.job_queue, violations)
        if request.array_parent_run_id:
            validate_run_id(request.array_parent_run_id, violations, "array_parent_run_id")
        statuses = []
        for status in request.statuses:
            if status not in convert.RUN_STATUS_FROM_PROTO:
                violations.add("statuses", "must hold RUN_STATUS_RUNNING, _SUCCEEDED, _FAILED or _CANCELLED")
            else:
                statuses.append(convert.RUN_STATUS_FROM_PROTO[status])
        violations.raise_if_any()
        platform = self._platforms.get(request.platform).platform
        runs, token = await platform.list_runs(request.job_queue, statuses, request.name_prefix,
                                               request.array_parent_run_id, request.page_size, request.page_token)
        return pb.ListPipelineRunsResponse(runs=[convert.run_to_proto(r) for r in runs], next_page_token=token)

    @handle_errors
    async def CancelPipelineRun(self, request: pb.CancelPipelineRunRequest, context: grpc.aio.ServicerContext) -> pb.CancelPipelineRunResponse:
        _check_run_id(request.run_id)
        if len(request.reason) > 1000:
            Violations([errors.FieldViolation("reason", "must be at most 1000 characters")]).raise_if_any()
        runtime = self._platforms.get(request.platform)
        run, already_terminal = await runtime.platform.cancel(request.run_id, request.reason)
        runtime.poller.prime(run)
        return pb.CancelPipelineRunResponse(run=convert.run_to_proto(run), already_terminal=already_terminal)

    @handle_errors
    async def WatchPipelineRun(self, request: pb.WatchPipelineRunRequest, context: grpc.aio.ServicerContext) -> AsyncIterator[pb.WatchPipelineRunResponse]:
        _check_run_id(request.run_id)
        runtime = self._platforms.get(request.platform)
        async with self._subscribed(runtime, [request.run_id], context) as events:
            async for event in events:
                yield pb.WatchPipelineRunResponse(
                    run=convert.shared_run_proto(event.run), sequence=event.sequence, heartbeat=event.heartbeat,
                    stale_since=convert.timestamp(event.stale_since))

    @handle_errors
    async def WatchPipelineRuns(self, request: pb.WatchPipelineRunsRequest, context: grpc.aio.ServicerContext) -> AsyncIterator[pb.WatchPipelineRunsResponse]:
        _check_run_ids(list(request.run_ids))
        runtime = self._platforms.get(request.platform)
        async with self._subscribed(runtime, list(request.run_ids), context) as events:
            async for event in events:
                yield pb.WatchPipelineRunsResponse(
                    run=convert.shared_run_proto(event.run) if event.run is not None else None,
                    sequence=event.sequence, heartbeat=event.heartbeat, stale_since=convert.timestamp(event.stale_since))

    @contextlib.asynccontextmanager
    async def _subscribed(self, runtime: PlatformRuntime, run_ids: list[str],
                          context: grpc.aio.ServicerContext) -> AsyncIterator[AsyncIterator[WatchEvent]]:
        """A watch stream's events through the platform's shared poller, holding one of the
        caller's stream slots until the stream ends."""
        caller = caller_of(context)
        with self._streams.hold(caller):
            poller = runtime.poller
            subscription = await poller.subscribe(run_ids)
            try:
                yield subscription.events(poller.clock, poller.settings.heartbeat_seconds)
            finally:
                poller.unsubscribe(subscription)

    @handle_errors
    async def StreamPipelineRunLogs(self, request: pb.StreamPipelineRunLogsRequest, context: grpc.aio.ServicerContext) -> AsyncIterator[pb.StreamPipelineRunLogsResponse]:
        _check_run_id(request.run_id)
        violations = Violations()
        for name in ("attempt", "array_index"):
            if request.HasField(name) and getattr(request, name) < 0:
                violations.add(name, "must be 0 or more")
        violations.raise_if_any()
        runtime = self._platforms.get(request.platform)
        run_id = f"{request.run_id}:{request.array_index}" if request.HasField("array_index") else request.run_id
        pages = stream_logs(run_id, runtime.poller, runtime.gateway, follow=request.follow,
                            start_from_head=request.start_from_head,
                            attempt=request.attempt if request.HasField("attempt") else None)
        async for stream, events in pages:
            yield pb.StreamPipelineRunLogsResponse(log_stream_name=stream, events=[
                pb.LogEvent(time=convert.timestamp(e.time), message=e.message) for e in events])
