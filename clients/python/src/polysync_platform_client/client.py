"""The synchronous client: connect() and PlatformClient, for threads, Flask, Django or Celery.
The asyncio flavour with the same methods is polysync_platform_client.aio."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import grpc
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

__all__ = ["ChangeFeed", "PlatformClient", "connect"]


class _MetadataInterceptor(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    """Adds `authorization: Bearer <token>` on a plaintext channel, where gRPC refuses call
    credentials (a service mesh terminating TLS, or loopback)."""

    def __init__(self, source: _credentials.TokenSource) -> None:
        self._source = source

    def _with_token(self, details: Any) -> Any:
        metadata = list(details.metadata or ()) + [_credentials.bearer(self._source())]
        return details._replace(metadata=_md(metadata))

    def intercept_unary_unary(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        return continuation(self._with_token(client_call_details), request)

    def intercept_unary_stream(self, continuation: Any, client_call_details: Any, request: Any) -> Any:
        return continuation(self._with_token(client_call_details), request)


def connect(
    target: str,
    *,
    tls: bool = False,
    root_certificates: bytes | None = None,
    certificate_chain: bytes | None = None,
    private_key: bytes | None = None,
    token: str | None = None,
    token_source: Callable[[], str] | None = None,
    options: Sequence[tuple[str, Any]] = (),
    policy: ReconnectPolicy = DEFAULT_POLICY,
) -> PlatformClient:
    """A client of the service at `target` ("host:port").

    Plaintext unless `tls` is true or a CA (`root_certificates`, PEM; default: the system's
    roots) or a client certificate (`certificate_chain` + `private_key`, PEM, for mutual TLS)
    is given. `token` or `token_source` (called before each call, so it can refresh) sends
    `authorization: Bearer <token>`; with a token source, the watch helpers also reconnect once
    on UNAUTHENTICATED, so an expired token is replaced.
    """
    source = _credentials.token_source_of(token, token_source)
    ssl = _credentials.ssl_credentials(tls, root_certificates, certificate_chain, private_key)
    channel: grpc.Channel
    if ssl is not None:
        if source is not None:
            ssl = grpc.composite_channel_credentials(ssl, _credentials.bearer_call_credentials(source))
        channel = grpc.secure_channel(target, ssl, options=list(options))
    else:
        channel = grpc.insecure_channel(target, options=list(options))
        if source is not None:
            channel = grpc.intercept_channel(channel, _MetadataInterceptor(source))
    return PlatformClient(channel, retry_unauthenticated=token_source is not None, policy=policy)


class _IdleTimer:
    """Cancels a stream (through `cancel`) that sends nothing for `seconds`; None disables it."""

    def __init__(self, seconds: float | None, cancel: Callable[[], object]) -> None:
        self._seconds = seconds
        self._cancel = cancel
        self._timer: threading.Timer | None = None
        self.expired = False

    def _expire(self) -> None:
        self.expired = True
        self._cancel()

    def arm(self) -> None:
        if self._seconds is None:
            return
        self.stop()
        self._timer = threading.Timer(self._seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


class PlatformClient:
    """The generated stub (`.stub`, every RPC) plus helpers that follow the reconnect policy of
    polysync_platform_client.policy. Close it (or use `with`) to close the channel.

    Every helper takes `metadata` (extra call metadata) and `timeout` (seconds): for a watch or
    `execute`, the whole helper's time across reconnects; for the paging iterators, each page's.
    """

    def __init__(
        self,
        channel: grpc.Channel,
        *,
        retry_unauthenticated: bool = False,
        policy: ReconnectPolicy = DEFAULT_POLICY,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.channel = channel
        self.stub = PlatformServiceStub(channel)
        self._retry_unauthenticated = retry_unauthenticated
        self._policy = policy
        self._sleep = sleep
        self._clock = clock

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> PlatformClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- watches ---------------------------------------------------------------------------

    def watch_run(
        self,
        run_id: str,
        *,
        platform: str = "",
        metadata: Metadata | None = None,
        timeout: float | None = None,
        on_reconnect: OnReconnect | None = None,
        idle_timeout: float | None = None,
    ) -> Iterator[RunEvent]:
        """Each new state of the run (and each heartbeat) until its terminal state, which is the
        last event. Reconnects per the policy; leaving the loop early cancels the stream."""

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
    ) -> Iterator[RunEvent]:
        """Events of many runs (WatchPipelineRuns) until all are terminal; a reconnect watches
        only the runs not yet terminal."""

        def open_stream(pending: list[str], remaining: float | None) -> Any:
            return self.stub.WatchPipelineRuns(
                pb.WatchPipelineRunsRequest(platform=platform, run_ids=pending),
                timeout=remaining,
                metadata=_md(metadata),
            )

        return self._watch(run_ids, open_stream, timeout, on_reconnect, idle_timeout)

    def _watch(
        self,
        run_ids: Iterable[str],
        open_stream: Callable[[list[str], float | None], Any],
        timeout: float | None,
        on_reconnect: OnReconnect | None,
        idle_timeout: float | None = None,
    ) -> Iterator[RunEvent]:
        state = WatchState(policy=self._policy, retry_unauthenticated=self._retry_unauthenticated, run_ids=run_ids)
        deadline = Deadline(timeout, self._clock)
        while not state.done:
            call = open_stream(list(state.pending), deadline.remaining())
            idle = _IdleTimer(idle_timeout, call.cancel)
            try:
                idle.arm()
                for response in call:
                    idle.arm()
                    event = state.on_message(response)
                    if event is not None:
                        yield event
                    if state.done:
                        return
                delay = state.on_clean_end()
            except grpc.RpcError as error:
                delay = state.on_idle(idle_timeout or 0.0) if idle.expired else state.on_error(error)
            finally:
                idle.stop()
                call.cancel()  # a no-op once the stream has ended; ends it when abandoned
            deadline.allow(delay, state.last_error)  # no reconnect that the deadline leaves no time for
            if on_reconnect is not None and state.last_error is not None:
                on_reconnect(state.reconnects, delay, state.last_error)
            self._sleep(delay)

    # -- the run changes feed (SPEC §12) -----------------------------------------------------

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
        """Every change of every run of the platform (WatchRunChanges), as a Kubernetes informer
        follows a resource: without a `cursor`, first a snapshot of the non-terminal runs; on
        any disconnect it resumes from the last cursor; on CURSOR_EXPIRED it relists (a "relist"
        event, then a fresh snapshot); a change it already handed out (same run, no newer
        version) is dropped. `tags`: only runs whose tags include all of these. `in_flight`: runs
        you know have not ended (after a restart, from your own store): at the next snapshot's
        end (the first, without a cursor; after a relist, with one) those it does not list are
        read, so you learn how each ended (a change of version 0) or that it is gone.

        Iterate the returned ChangeFeed for FeedEvents; store each event's `cursor` after
        handling it, and pass it as `cursor` to follow on later (after a restart) without
        missing anything. The feed has no end: it raises what the policy does not retry
        (docs/clients.md, "The feed helper"; clients/feed-policy.json). Leaving the loop, or
        `close()`, cancels the stream."""
        state = FeedState(policy=self._policy, retry_unauthenticated=self._retry_unauthenticated, cursor=cursor)
        state.start_in_flight(in_flight)
        return ChangeFeed(state, self._follow(state, platform, tags, metadata, timeout, on_reconnect, idle_timeout))

    def _follow(
        self,
        state: FeedState,
        platform: str,
        tags: dict[str, str] | None,
        metadata: Metadata | None,
        timeout: float | None,
        on_reconnect: OnReconnect | None,
        idle_timeout: float | None,
    ) -> Iterator[FeedEvent]:
        deadline = Deadline(timeout, self._clock)
        while True:
            call = self.stub.WatchRunChanges(
                state.request(platform, tags), timeout=deadline.remaining(), metadata=_md(metadata)
            )
            idle = _IdleTimer(idle_timeout, call.cancel)
            relist = None
            try:
                idle.arm()
                for response in call:
                    idle.stop()  # the caller's time with the events is not the stream's silence
                    yield from state.on_message(response)
                    if state.completing:
                        for run_ids in state.to_read():
                            request = pb.BatchGetPipelineRunsRequest(platform=platform, run_ids=run_ids)
                            answer = self.stub.BatchGetPipelineRuns(
                                request, timeout=deadline.remaining(), metadata=_md(metadata)
                            )
                            yield from state.on_read(answer)
                        yield from state.complete_snapshot()
                    idle.arm()
                delay = state.on_clean_end()
            except grpc.RpcError as error:
                if idle.expired:
                    delay = state.on_idle(idle_timeout or 0.0)
                elif (relist := state.on_expired(error)) is None:
                    delay = state.on_error(error)
            finally:
                idle.stop()
                call.cancel()  # a no-op once the stream has ended; ends it when abandoned
            if relist is not None:
                yield relist  # and at once a snapshot: no backoff, not a reconnect
                continue
            deadline.allow(delay, state.last_error)
            if on_reconnect is not None and state.last_error is not None:
                on_reconnect(state.reconnects, delay, state.last_error)
            self._sleep(delay)

    # -- logs ------------------------------------------------------------------------------

    def stream_logs(
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
    ) -> Iterator[pb.LogEvent]:
        """The run's CloudWatch log events (polysync.platform.v1.LogEvent: `time`, `message`).
        With `follow`, until the run is terminal and its log drained. Not reconnected: a
        broken log stream raises (read again with start_from_head to resume)."""
        request = pb.StreamPipelineRunLogsRequest(
            platform=platform, run_id=run_id, follow=follow, start_from_head=start_from_head
        )
        if attempt is not None:
            request.attempt = attempt
        if array_index is not None:
            request.array_index = array_index
        call = self.stub.StreamPipelineRunLogs(request, timeout=timeout, metadata=_md(metadata))
        try:
            for response in call:
                yield from response.events
        finally:
            call.cancel()

    # -- submit and wait -------------------------------------------------------------------

    def execute(
        self,
        request: pb.ExecutePipelineRequest,
        *,
        metadata: Metadata | None = None,
        timeout: float | None = None,
        attempt_timeout: float = 30.0,
        on_event: Callable[[RunEvent], None] | None = None,
    ) -> pipeline_run_pb2.PipelineRun:
        """Submits the run and waits for its terminal state, which it returns. Without a
        `request_id` one is generated, so retries of ExecutePipeline on UNAVAILABLE or
        DEADLINE_EXCEEDED (each attempt at most `attempt_timeout` s) cannot submit twice."""
        if not request.request_id:
            request = pb.ExecutePipelineRequest.FromString(request.SerializeToString())
            request.request_id = str(uuid.uuid4())
        deadline = Deadline(timeout, self._clock)
        retries = ExecuteRetries(self._policy)
        while True:
            try:
                response = self.stub.ExecutePipeline(
                    request, timeout=deadline.cap(attempt_timeout), metadata=_md(metadata)
                )
                break
            except grpc.RpcError as error:
                self._sleep(retries.on_error(error, deadline))
        run = response.run
        if run.terminal:
            return run
        for event in self.watch_run(
            run.run_id, platform=request.platform, metadata=_md(metadata), timeout=deadline.remaining()
        ):
            if on_event is not None:
                on_event(event)
            run = event.run
        return run

    # -- paging ----------------------------------------------------------------------------

    def list_pipelines(
        self,
        *,
        platform: str = "",
        name_prefix: str = "",
        page_size: int = 0,
        metadata: Metadata | None = None,
        timeout: float | None = None,
    ) -> Iterator[pipeline_pb2.Pipeline]:
        """Every pipeline (ListPipelines, page after page)."""
        request = pb.ListPipelinesRequest(platform=platform, name_prefix=name_prefix, page_size=page_size)
        while True:
            response = self.stub.ListPipelines(request, timeout=timeout, metadata=_md(metadata))
            yield from response.pipelines
            if not response.next_page_token:
                return
            request.page_token = response.next_page_token

    def list_runs(
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
    ) -> Iterator[pipeline_run_pb2.PipelineRun]:
        """Every run of a job queue (ListPipelineRuns, page after page)."""
        request = pb.ListPipelineRunsRequest(
            platform=platform,
            job_queue=job_queue,
            statuses=statuses,
            name_prefix=name_prefix,
            array_parent_run_id=array_parent_run_id,
            page_size=page_size,
        )
        while True:
            response = self.stub.ListPipelineRuns(request, timeout=timeout, metadata=_md(metadata))
            yield from response.runs
            if not response.next_page_token:
                return
            request.page_token = response.next_page_token


class ChangeFeed:
    """What `follow_changes` returns: an iterator of FeedEvents. `cursor` is the latest resume
    point received (the start cursor before any); `close()` cancels the stream."""

    def __init__(self, state: FeedState, events: Iterator[FeedEvent]) -> None:
        self._state = state
        self._events = events

    @property
    def cursor(self) -> str:
        return self._state.cursor

    def __iter__(self) -> ChangeFeed:
        return self

    def __next__(self) -> FeedEvent:
        return next(self._events)

    def close(self) -> None:
        self._events.close()  # type: ignore[attr-defined]
