"""StreamPipelineRunLogs: a run's CloudWatch log events, read with GetLogEvents and its
nextForwardToken (SPEC §6)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timezone

from polysync_batch.aws.gateway import BatchGateway
from polysync_batch.aws.translate import DEFAULT_LOG_GROUP
from polysync_batch.domain import errors
from polysync_batch.domain.models import Run
from polysync_batch.watch.poller import RunPoller

MAX_PAGES_PER_DRAIN = 1000  # a bound on one read-through, however chatty the job


@dataclass(frozen=True)
class LogEvent:
    time: datetime
    message: str


def log_stream_of(run: Run, attempt: int | None) -> str:
    """The stream of one attempt (0-based), or of the latest attempt; "" while none exists."""
    if attempt is None:
        return run.log_stream_name
    if attempt < len(run.attempt_log_streams):
        return run.attempt_log_streams[attempt]
    if attempt == len(run.attempt_log_streams) and not run.terminal:
        return run.log_stream_name  # the attempt in progress
    raise errors.InvalidArgument(
        "INVALID_ARGUMENT", f"run {run.run_id} has no attempt {attempt} ({run.attempts} attempts so far)",
        violations=[errors.FieldViolation("attempt", f"must be below {max(run.attempts, 1)}")])


async def stream_logs(run_id: str, poller: RunPoller, gateway: BatchGateway, *, follow: bool,
                      start_from_head: bool, attempt: int | None) -> AsyncIterator[tuple[str, list[LogEvent]]]:
    """Yields (stream name, events) pages. A stream that does not exist yet is waited for (with
    `follow`) or yields nothing; with `follow` it ends once the run is terminal and its log has
    been read once more after that, so the final lines are not lost."""
    token = ""
    head = start_from_head
    while True:
        run = await poller.get(run_id)
        stream = log_stream_of(run, attempt)
        if stream:
            group = run.log_group_name or DEFAULT_LOG_GROUP
            async for page in _drain(gateway, group, stream, token, head):
                token, events = page
                if events:
                    yield stream, events
            head = True  # after the first page the token carries the position
        if not follow or run.terminal:
            return
        await poller.clock.sleep(poller.settings.min_interval_seconds)


async def _drain(gateway: BatchGateway, group: str, stream: str, token: str,
                 start_from_head: bool) -> AsyncIterator[tuple[str, list[LogEvent]]]:
    """Pages until GetLogEvents returns the token it was given (the end of the stream)."""
    for _ in range(MAX_PAGES_PER_DRAIN):
        page = await gateway.get_log_events(group, stream, token, start_from_head)
        if page is None:  # not created yet
            return
        events = [LogEvent(datetime.fromtimestamp(e["timestamp"] / 1000, tz=timezone.utc), e.get("message", ""))
                  for e in page.get("events", [])]
        next_token = page.get("nextForwardToken", "")
        yield next_token, events
        if not next_token or next_token == token:
            return
        token = next_token
