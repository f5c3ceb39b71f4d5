"""The LogsPort over boto3's CloudWatch Logs client (GetLogEvents)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from polysync_batch.aws.calls import AwsCaller
from polysync_batch.domain.models import LogEvent, LogPage


class LogsAdapter:
    def __init__(self, logs_client: Any, call: AwsCaller) -> None:
        self._logs = logs_client
        self._call = call

    async def log_page(self, group: str, stream: str, token: str, start_from_head: bool) -> LogPage | None:
        kwargs: dict[str, Any] = {"logGroupName": group, "logStreamName": stream, "startFromHead": start_from_head}
        if token:
            kwargs["nextToken"] = token

        def fetch() -> dict | None:
            try:
                return self._logs.get_log_events(**kwargs)
            except self._logs.exceptions.ResourceNotFoundException:
                return None  # not created yet: a waiting state, not an error

        page = await self._call("GetLogEvents", fetch, {"log_group": group, "log_stream": stream})
        if page is None:
            return None
        events = [
            LogEvent(datetime.fromtimestamp(e["timestamp"] / 1000, tz=UTC), e.get("message", ""))
            for e in page.get("events", [])
        ]
        return LogPage(events, page.get("nextForwardToken", ""))
