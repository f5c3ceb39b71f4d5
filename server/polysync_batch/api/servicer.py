"""PlatformService: proto → use case → proto, nothing else. Errors are mapped by the
call chain (api/chain/errors.py), stream caps too (api/chain/stream_limits.py); request
checks live in domain/requests.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync.platform.v1 import platform_service_pb2_grpc as pb_grpc

from polysync_batch.api import convert
from polysync_batch.api.chain.call import current_caller
from polysync_batch.service.connection import check_connection
from polysync_batch.service.registry import PlatformRegistry

Context = grpc.aio.ServicerContext


class PlatformServicer(pb_grpc.PlatformServiceServicer):
    def __init__(self, platforms: PlatformRegistry) -> None:
        self._platforms = platforms

    async def TestConnection(self, request: pb.TestConnectionRequest, context: Context) -> pb.TestConnectionResponse:
        platform = self._platforms.get(request.platform)
        report = await check_connection(
            platform.info, platform.batch, platform.identity, request.job_queue, platform.runs.queues
        )
        return convert.connection_to_proto(report)

    async def ListPipelines(self, request: pb.ListPipelinesRequest, context: Context) -> pb.ListPipelinesResponse:
        pipelines, token = await self._platforms.get(request.platform).pipelines.list(
            request.page_size, request.page_token, request.name_prefix
        )
        return pb.ListPipelinesResponse(
            pipelines=[convert.pipeline_to_proto(p) for p in pipelines], next_page_token=token
        )

    async def GetPipeline(self, request: pb.GetPipelineRequest, context: Context) -> pb.GetPipelineResponse:
        pipeline = await self._platforms.get(request.platform).pipelines.get(request.pipeline)
        return pb.GetPipelineResponse(pipeline=convert.pipeline_to_proto(pipeline))

    async def ExecutePipeline(self, request: pb.ExecutePipelineRequest, context: Context) -> pb.ExecutePipelineResponse:
        runs = self._platforms.get(request.platform).runs
        submitted = await runs.execute(convert.submit_request_from_proto(request), current_caller.get())
        return convert.execute_response(submitted)

    async def GetPipelineRun(self, request: pb.GetPipelineRunRequest, context: Context) -> pb.GetPipelineRunResponse:
        run = await self._platforms.get(request.platform).runs.get(request.run_id)
        return pb.GetPipelineRunResponse(run=convert.run_to_proto(run))

    async def BatchGetPipelineRuns(
        self, request: pb.BatchGetPipelineRunsRequest, context: Context
    ) -> pb.BatchGetPipelineRunsResponse:
        found = await self._platforms.get(request.platform).runs.get_many(list(request.run_ids))
        return pb.BatchGetPipelineRunsResponse(
            runs=[convert.run_to_proto(run) for run in found.values() if run is not None],
            missing_run_ids=[run_id for run_id, run in found.items() if run is None],
        )

    async def ListPipelineRuns(
        self, request: pb.ListPipelineRunsRequest, context: Context
    ) -> pb.ListPipelineRunsResponse:
        runs, token = await self._platforms.get(request.platform).runs.list(convert.run_query_from_proto(request))
        return pb.ListPipelineRunsResponse(runs=[convert.run_to_proto(r) for r in runs], next_page_token=token)

    async def CancelPipelineRun(
        self, request: pb.CancelPipelineRunRequest, context: Context
    ) -> pb.CancelPipelineRunResponse:
        run, already_terminal = await self._platforms.get(request.platform).runs.cancel(request.run_id, request.reason)
        return pb.CancelPipelineRunResponse(run=convert.run_to_proto(run), already_terminal=already_terminal)

    async def WatchPipelineRun(
        self, request: pb.WatchPipelineRunRequest, context: Context
    ) -> AsyncIterator[bytes]:  # an encoded pb.WatchPipelineRunResponse
        runs = self._platforms.get(request.platform).runs
        async with runs.watch([request.run_id]) as events:
            async for event in events:
                yield convert.watch_event_bytes(event)  # encoded: see api/chain/runner.py

    async def WatchPipelineRuns(
        self, request: pb.WatchPipelineRunsRequest, context: Context
    ) -> AsyncIterator[bytes]:  # an encoded pb.WatchPipelineRunsResponse
        runs = self._platforms.get(request.platform).runs
        async with runs.watch(list(request.run_ids)) as events:
            async for event in events:
                yield convert.watch_event_bytes(event)  # encoded: see api/chain/runner.py

    async def StreamPipelineRunLogs(
        self, request: pb.StreamPipelineRunLogsRequest, context: Context
    ) -> AsyncIterator[pb.StreamPipelineRunLogsResponse]:
        logs = self._platforms.get(request.platform).logs
        async for stream, events in logs.stream(convert.logs_request_from_proto(request)):
            yield pb.StreamPipelineRunLogsResponse(
                log_stream_name=stream,
                events=[pb.LogEvent(time=convert.timestamp(e.time), message=e.message) for e in events],
            )

    async def WatchRunChanges(
        self, request: pb.WatchRunChangesRequest, context: Context
    ) -> AsyncIterator[bytes]:  # an encoded pb.WatchRunChangesResponse
        feed = self._platforms.get(request.platform).feed
        async for message in feed.stream(request.cursor, request.snapshot, dict(request.tags)):
            yield convert.feed_message_bytes(message)  # encoded: see api/chain/runner.py
