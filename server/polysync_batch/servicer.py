"""PlatformService: thin translation proto → platform call → proto. No boto3 here."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync.platform.v1 import platform_service_pb2_grpc as pb_grpc

from polysync_batch import convert
from polysync_batch.aws.connection_test import test_connection
from polysync_batch.aws.platform import MAX_BATCH_GET
from polysync_batch.domain import errors
from polysync_batch.domain.errors import Violations
from polysync_batch.domain.submit import validate_job_queue, validate_run_id
from polysync_batch.platforms import Platforms
from polysync_batch.rpc_errors import handle_errors
from polysync_batch.watch.run_watcher import RunWatcher


def _check_run_id(run_id: str) -> None:
    violations = Violations()
    validate_run_id(run_id, violations)
    violations.raise_if_any()


class PlatformServicer(pb_grpc.PlatformServiceServicer):
    def __init__(self, platforms: Platforms, watcher: RunWatcher) -> None:
        self._platforms = platforms
        self._watcher = watcher

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
        platform = self._platforms.get(request.platform).platform
        run, deduplicated = await platform.execute(convert.submit_request_from_proto(request))
        return pb.ExecutePipelineResponse(run=convert.run_to_proto(run), deduplicated=deduplicated)

    @handle_errors
    async def GetPipelineRun(self, request: pb.GetPipelineRunRequest, context: grpc.aio.ServicerContext) -> pb.GetPipelineRunResponse:
        _check_run_id(request.run_id)
        platform = self._platforms.get(request.platform).platform
        return pb.GetPipelineRunResponse(run=convert.run_to_proto(await platform.get_run(request.run_id)))

    @handle_errors
    async def BatchGetPipelineRuns(self, request: pb.BatchGetPipelineRunsRequest, context: grpc.aio.ServicerContext) -> pb.BatchGetPipelineRunsResponse:
        violations = Violations()
        if not 1 <= len(request.run_ids) <= MAX_BATCH_GET:
            violations.add("run_ids", f"must hold 1 to {MAX_BATCH_GET} run ids ({len(request.run_ids)} given)")
        for index, run_id in enumerate(request.run_ids):
            validate_run_id(run_id, violations, f"run_ids[{index}]")
        violations.raise_if_any()
        platform = self._platforms.get(request.platform).platform
        runs, missing = await platform.batch_get_runs(list(request.run_ids))
        return pb.BatchGetPipelineRunsResponse(runs=[convert.run_to_proto(r) for r in runs], missing_run_ids=missing)

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
        platform = self._platforms.get(request.platform).platform
        run, already_terminal = await platform.cancel(request.run_id, request.reason)
        return pb.CancelPipelineRunResponse(run=convert.run_to_proto(run), already_terminal=already_terminal)

    @handle_errors
    async def WatchPipelineRun(self, request: pb.WatchPipelineRunRequest, context: grpc.aio.ServicerContext) -> AsyncIterator[pb.WatchPipelineRunResponse]:
        _check_run_id(request.run_id)
        platform = self._platforms.get(request.platform).platform
        sequence = 0
        async for run in self._watcher.watch(lambda: platform.get_run(request.run_id)):
            sequence += 1
            yield pb.WatchPipelineRunResponse(run=convert.run_to_proto(run), sequence=sequence)

    @handle_errors
    async def WatchPipelineRuns(self, request: pb.WatchPipelineRunsRequest, context: grpc.aio.ServicerContext) -> AsyncIterator[pb.WatchPipelineRunsResponse]:
        violations = Violations()
        if not 1 <= len(request.run_ids) <= MAX_BATCH_GET:
            violations.add("run_ids", f"must hold 1 to {MAX_BATCH_GET} run ids ({len(request.run_ids)} given)")
        for index, run_id in enumerate(request.run_ids):
            validate_run_id(run_id, violations, f"run_ids[{index}]")
        violations.raise_if_any()
        platform = self._platforms.get(request.platform).platform

        async def fetch(run_ids: list[str]):
            runs, missing = await platform.batch_get_runs(run_ids)
            if missing:
                raise errors.run_not_found(", ".join(missing), platform.name)
            return runs

        sequence = 0
        async for run in self._watcher.watch_many(list(request.run_ids), fetch):
            sequence += 1
            yield pb.WatchPipelineRunsResponse(run=convert.run_to_proto(run), sequence=sequence)

    @handle_errors
    async def StreamPipelineRunLogs(self, request: pb.StreamPipelineRunLogsRequest, context: grpc.aio.ServicerContext) -> AsyncIterator[pb.StreamPipelineRunLogsResponse]:
        raise errors.Unimplemented(
            "UNIMPLEMENTED", "StreamPipelineRunLogs is not implemented yet",
            hint="Open the run's logs_url (GetPipelineRun) in the CloudWatch console meanwhile.")
        yield  # pragma: no cover — makes this a server-streaming handler
