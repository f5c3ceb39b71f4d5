"""StreamPipelineRunLogs: a run's CloudWatch log events, page by page, following the stream's
forward token; with `follow`, until the run is terminal and its log drained."""

from __future__ import annotations

from collections.abc import AsyncIterator

from polysync_batch.domain import errors, requests
from polysync_batch.domain.models import LogEvent, Run, child_run_id
from polysync_batch.domain.requests import LogsRequest
from polysync_batch.service.ports import Clock, LogsPort
from polysync_batch.service.runs import RunService

MAX_PAGES_PER_DRAIN = 1000  # a bound on one read-through, however chatty the job


def log_stream_of(run: Run, attempt: int | None) -> str:
    """The stream of one attempt (0-based), or of the latest attempt; "" while none exists."""
    if attempt is None:
        return run.log_stream_name
    if attempt < len(run.attempt_log_streams):
        return run.attempt_log_streams[attempt]
    if attempt == len(run.attempt_log_streams) and not run.terminal:
        return run.log_stream_name  # the attempt in progress
    raise errors.invalid(
        "attempt",
        f"must be below {max(run.attempts, 1)}",
        message=f"run {run.run_id} has no attempt {attempt} ({run.attempts} attempts so far)",
    )


class LogService:
    def __init__(self, runs: RunService, logs: LogsPort, clock: Clock, poll_interval_seconds: float) -> None:
        self._runs = runs
        self._logs = logs
        self._clock = clock
        self._interval = poll_interval_seconds

    async def stream(self, request: LogsRequest) -> AsyncIterator[tuple[str, list[LogEvent]]]:
        """Yields (stream name, events) pages. A stream that does not exist yet is waited for
        (with `follow`) or yields nothing; with `follow` it ends once the run is terminal and its
        log has been read once more after that, so the final lines are not lost."""
        requests.check_logs(request)
        run_id = child_run_id(request.run_id, request.array_index)
        token = ""
        head = request.start_from_head
        while True:
            run = await self._runs.get(run_id)
            stream = log_stream_of(run, request.attempt)
            if stream:
                async for page in self._drain(run.log_group_name, stream, token, head):
                    token, events = page
                    if events:
                        yield stream, events
                head = True  # after the first page the token carries the position
            if not request.follow or run.terminal:
                return
            await self._clock.sleep(self._interval)

    async def _drain(
        self, group: str, stream: str, token: str, start_from_head: bool
    ) -> AsyncIterator[tuple[str, list[LogEvent]]]:
        """Pages until GetLogEvents returns the token it was given (the end of the stream)."""
        for _ in range(MAX_PAGES_PER_DRAIN):
            page = await self._logs.log_page(group, stream, token, start_from_head)
            if page is None:  # not created yet
                return
            yield page.next_token, page.events
            if not page.next_token or page.next_token == token:
                return
            token = page.next_token
