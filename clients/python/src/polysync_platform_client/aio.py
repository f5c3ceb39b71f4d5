"""The asyncio client: the same connect() and PlatformClient as polysync_platform_client, over
grpc.aio, with async iterators and coroutines."""

from __future__ import annotations

import asyncio
import inspect
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import Any

import grpc
import grpc.aio
from polysync.platform.v1 import pipeline_pb2, pipeline_run_pb2
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync.platform.v1.platform_service_pb2_grpc import PlatformServiceStub

from polysync_platform_client import _credentials
from polysync_platform_client.feed import FeedEvent, FeedState
from polysync_platform_client.policy import (
    DEFAULT_POLICY,
    Deadline,
    ExecuteRetries,
    ReconnectPolicy,
    RunEvent,
    WatchState,
)

Metadata = Sequence[tuple[str, str | bytes]]


def _md(metadata: Metadata | None) -> tuple[tuple[str, str | bytes], ...] | None:
    return tuple(metadata) if metadata is not None else None


OnReconnect = Callable[[int, float, BaseException], None]
AsyncTokenSource = Callable[[], "str | Awaitable[str]"]

__all__ = ["ChangeFeed", "PlatformClient", "connect"]


_ENDED = object()  # the stream ended cleanly
_IDLE = object()  # the idle timeout passed without a message


async def _next_message(responses: Any, idle_timeout: float | None) -> Any:
    """The stream's next message, else _ENDED at its clean end or _IDLE after idle_timeout without one."""
    try:
        following = responses.__anext__()
        return await (following if idle_timeout is None else asyncio.wait_for(following, idle_timeout))
    except StopAsyncIteration:
        return _ENDED
    except (TimeoutError, asyncio.TimeoutError):  # noqa: UP041 — on Python 3.10 wait_for raises the latter, not the builtin
        return _IDLE


async def _token(source: AsyncTokenSource) -> str:
    token = source()
    return await token if inspect.isawaitable(token) else token


def _with_token(details: grpc.aio.ClientCallDetails, token: str) -> grpc.aio.ClientCallDetails:
    metadata = grpc.aio.Metadata(*(details.metadata or ()))
    metadata.add(*_credentials.bearer(token))
    return grpc.aio.ClientCallDetails(
        details.method, details.timeout, metadata, details.credentials, details.wait_for_ready
    )


class _UnaryBearer(grpc.aio.UnaryUnaryClientInterceptor):
    def __init__(self, source: AsyncTokenSource) -> None:
        self._source = source

    async def intercept_unary_unary(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        return await continuation(_with_token(client_call_details, await _token(self._source)), request)


class _StreamBearer(grpc.aio.UnaryStreamClientInterceptor):
    def __init__(self, source: AsyncTokenSource) -> None:
        self._source = source

    async def intercept_unary_stream(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        return await continuation(_with_token(client_call_details, await _token(self._source)), request)


def connect(
    target: str,
    *,
    tls: bool = False,
    root_certificates: bytes | None = None,
    certificate_chain: bytes | None = None,
    private_key: bytes | None = None,
    token: str | None = None,
    token_source: AsyncTokenSource | None = None,
    options: Sequence[tuple[str, Any]] = (),
    policy: ReconnectPolicy = DEFAULT_POLICY,
) -> PlatformClient:
    """As polysync_platform_client.connect; `token_source` may also be a coroutine function.
    The token travels through a grpc.aio client interceptor (plaintext and TLS alike)."""
    if token is not None and token_source is not None:
        raise ValueError("give token or token_source, not both")
    source: AsyncTokenSource | None = (lambda: token) if token is not None else token_source
    interceptors = [_UnaryBearer(source), _StreamBearer(source)] if source is not None else None
    ssl = _credentials.ssl_credentials(tls, root_certificates, certificate_chain, private_key)
    if ssl is not None:
        channel = grpc.aio.secure_channel(target, ssl, options=list(options), interceptors=interceptors)
    else:
        channel = grpc.aio.insecure_channel(target, options=list(options), interceptors=interceptors)
    return PlatformClient(channel, retry_unauthenticated=token_source is not None, policy=policy)


class PlatformClient:
    """The asyncio twin of polysync_platform_client.PlatformClient: `.stub` (every RPC, awaitable)
    plus the same helpers as async iterators / coroutines. `async with` closes the channel."""

    def __init__(
        self,
        channel: grpc.aio.Channel,
        *,
        retry_unauthenticated: bool = False,
        policy: ReconnectPolicy = DEFAULT_POLICY,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.channel = channel
        self.stub = PlatformServiceStub(channel)
        self._retry_unauthenticated = retry_unauthenticated
        self._policy = policy
        self._sleep = sleep
        self._clock = clock

    async def close(self) -> None:
        await self.channel.close()

    async def __aenter__(self) -> PlatformClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def watch_run(
        self,
        run_id: str,
        *,
        platform: str = "",
        metadata: Metadata | None = None,
        timeout: float | None = None,
        on_reconnect: OnReconnect | None = None,
        idle_timeout: float | None = None,
    ) -> AsyncIterator[RunEvent]:
        """See polysync_platform_client.PlatformClient.watch_run."""

        def open_stream(pending: list[str], remaining: float | None) -> Any:
            return self.stub.WatchPipelineRun(
                pb.WatchPipelineRunRequest(platform=platform, run_id=run_id), timeout=remaining, metadata=_md(metadata)
            )

        return self._watch([run_id], open_stream, timeout, on_reconnect, idle_timeout)

    def watch_runs(
        self,
        run_ids: Iterable[str],
        *,
        platform: str = "",
        metadata: Metadata | None = None,
        timeout: float | None = None,
        on_reconnect: OnReconnect | None = None,
        idle_timeout: float | None = None,
    ) -> AsyncIterator[RunEvent]:
        """See polysync_platform_client.PlatformClient.watch_runs."""

        def open_stream(pending: list[str], remaining: float | None) -> Any:
            return self.stub.WatchPipelineRuns(
                pb.WatchPipelineRunsRequest(platform=platform, run_ids=pending),
                timeout=remaining,
                metadata=_md(metadata),
            )

        return self._watch(run_ids, open_stream, timeout, on_reconnect, idle_timeout)

    async def _watch(
        self,
        run_ids: Iterable[str],
        open_stream: Callable[[list[str], float | None], Any],
        timeout: float | None,
        on_reconnect: OnReconnect | None,
        idle_timeout: float | None = None,
    ) -> AsyncIterator[RunEvent]:
        state = WatchState(policy=self._policy, retry_unauthenticated=self._retry_unauthenticated, run_ids=run_ids)
        deadline = Deadline(timeout, self._clock)
        while not state.done:
            call = open_stream(list(state.pending), deadline.remaining())
            responses = call.__aiter__()
            try:
                while True:
                    response = await _next_message(responses, idle_timeout)
                    if response is _ENDED:
                        delay = state.on_clean_end()
                        break
                    if response is _IDLE:
                        delay = state.on_idle(idle_timeout or 0.0)
                        break
                    event = state.on_message(response)
                    if event is not None:
                        yield event
                    if state.done:
                        return
            except grpc.RpcError as error:
                delay = state.on_error(error)
            finally:
                call.cancel()
            deadline.allow(delay, state.last_error)  # no reconnect that the deadline leaves no time for
            if on_reconnect is not None and state.last_error is not None:
                on_reconnect(state.reconnects, delay, state.last_error)
            await self._sleep(delay)

    def follow_changes(
        self,
        *,
        platform: str = "",
        cursor: str = "",
        tags: dict[str, str] | None = None,
        in_flight: Iterable[str] = (),
        metadata: Metadata | None = None,
        timeout: float | None = None,
        on_reconnect: OnReconnect | None = None,
        idle_timeout: float | None = None,
    ) -> ChangeFeed:
        """See polysync_platform_client.PlatformClient.follow_changes: `async for` its events."""
        state = FeedState(policy=self._policy, retry_unauthenticated=self._retry_unauthenticated, cursor=cursor)
        state.start_in_flight(in_flight)
        return ChangeFeed(state, self._follow(state, platform, tags, metadata, timeout, on_reconnect, idle_timeout))

    async def _follow(
        self,
        state: FeedState,
        platform: str,
        tags: dict[str, str] | None,
        metadata: Metadata | None,
        timeout: float | None,
        on_reconnect: OnReconnect | None,
        idle_timeout: float | None,
    ) -> AsyncIterator[FeedEvent]:
        deadline = Deadline(timeout, self._clock)
        while True:
            call = self.stub.WatchRunChanges(
                state.request(platform, tags), timeout=deadline.remaining(), metadata=_md(metadata)
            )
            responses = call.__aiter__()
            relist = None
            try:
                while True:
                    response = await _next_message(responses, idle_timeout)
                    if response is _ENDED:
                        delay = state.on_clean_end()
                        break
                    if response is _IDLE:
                        delay = state.on_idle(idle_timeout or 0.0)
                        break
                    for event in state.on_message(response):
                        yield event
                    if state.completing:
                        for run_ids in state.to_read():
                            request = pb.BatchGetPipelineRunsRequest(platform=platform, run_ids=run_ids)
                            answer = await self.stub.BatchGetPipelineRuns(
                                request, timeout=deadline.remaining(), metadata=_md(metadata)
                            )
                            for event in state.on_read(answer):
                                yield event
                        for event in state.complete_snapshot():
                            yield event
            except grpc.RpcError as error:
                if (relist := state.on_expired(error)) is None:
                    delay = state.on_error(error)
            finally:
                call.cancel()
            if relist is not None:
                yield relist  # and at once a snapshot: no backoff, not a reconnect
                continue
            deadline.allow(delay, state.last_error)
            if on_reconnect is not None and state.last_error is not None:
                on_reconnect(state.reconnects, delay, state.last_error)
            await self._sleep(delay)

    async def stream_logs(
        self,
        run_id: str,
        *,
        follow: bool = False,
        start_from_head: bool = True,
        attempt: int | None = None,
        array_index: int | None = None,
        platform: str = "",
        metadata: Metadata | None = None,
        timeout: float | None = None,
    ) -> AsyncIterator[pb.LogEvent]:
        """See polysync_platform_client.PlatformClient.stream_logs."""
        request = pb.StreamPipelineRunLogsRequest(
            platform=platform, run_id=run_id, follow=follow, start_from_head=start_from_head
        )
        if attempt is not None:
            request.attempt = attempt
        if array_index is not None:
            request.array_index = array_index
        call = self.stub.StreamPipelineRunLogs(request, timeout=timeout, metadata=_md(metadata))
        try:
            async for response in call:
                for event in response.events:
                    yield event
        finally:
            call.cancel()

    async def execute(
        self,
        request: pb.ExecutePipelineRequest,
        *,
        metadata: Metadata | None = None,
        timeout: float | None = None,
        attempt_timeout: float = 30.0,
        on_event: Callable[[RunEvent], None] | None = None,
    ) -> pipeline_run_pb2.PipelineRun:
        """See polysync_platform_client.PlatformClient.execute."""
        if not request.request_id:
            request = pb.ExecutePipelineRequest.FromString(request.SerializeToString())
            request.request_id = str(uuid.uuid4())
        deadline = Deadline(timeout, self._clock)
        retries = ExecuteRetries(self._policy)
        while True:
            try:
                response = await self.stub.ExecutePipeline(
                    request, timeout=deadline.cap(attempt_timeout), metadata=_md(metadata)
                )
                break
            except grpc.RpcError as error:
                await self._sleep(retries.on_error(error, deadline))
        run = response.run
        if run.terminal:
            return run
        async for event in self.watch_run(
            run.run_id, platform=request.platform, metadata=_md(metadata), timeout=deadline.remaining()
        ):
            if on_event is not None:
                on_event(event)
            run = event.run
        return run

    async def list_pipelines(
        self,
        *,
        platform: str = "",
        name_prefix: str = "",
        page_size: int = 0,
        metadata: Metadata | None = None,
        timeout: float | None = None,
    ) -> AsyncIterator[pipeline_pb2.Pipeline]:
        """See polysync_platform_client.PlatformClient.list_pipelines."""
        request = pb.ListPipelinesRequest(platform=platform, name_prefix=name_prefix, page_size=page_size)
        while True:
            response = await self.stub.ListPipelines(request, timeout=timeout, metadata=_md(metadata))
            for pipeline in response.pipelines:
                yield pipeline
            if not response.next_page_token:
                return
            request.page_token = response.next_page_token

    async def list_runs(
        self,
        *,
        platform: str = "",
        job_queue: str = "",
        statuses: Iterable[pipeline_run_pb2.RunStatus.ValueType] = (),
        name_prefix: str = "",
        array_parent_run_id: str = "",
        page_size: int = 0,
        metadata: Metadata | None = None,
        timeout: float | None = None,
    ) -> AsyncIterator[pipeline_run_pb2.PipelineRun]:
        """See polysync_platform_client.PlatformClient.list_runs."""
        request = pb.ListPipelineRunsRequest(
            platform=platform,
            job_queue=job_queue,
            statuses=statuses,
            name_prefix=name_prefix,
            array_parent_run_id=array_parent_run_id,
            page_size=page_size,
        )
        while True:
            response = await self.stub.ListPipelineRuns(request, timeout=timeout, metadata=_md(metadata))
            for run in response.runs:
                yield run
            if not response.next_page_token:
                return
            request.page_token = response.next_page_token


class ChangeFeed:
    """What `follow_changes` returns: an async iterator of FeedEvents. `cursor` is the latest
    resume point received (the start cursor before any); `await close()` cancels the stream."""

    def __init__(self, state: FeedState, events: AsyncIterator[FeedEvent]) -> None:
        self._state = state
        self._events = events

    @property
    def cursor(self) -> str:
        return self._state.cursor

    def __aiter__(self) -> ChangeFeed:
        return self

    async def __anext__(self) -> FeedEvent:
        return await self._events.__anext__()

    async def close(self) -> None:
        await self._events.aclose()  # type: ignore[attr-defined]
