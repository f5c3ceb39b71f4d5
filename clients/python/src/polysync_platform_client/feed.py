"""The feed helper's policy (SPEC §12, docs/clients.md "The feed helper"), without I/O: what
`follow_changes` of the sync and the asyncio client hands its caller for each WatchRunChanges
message, what it asks for on each new stream, and when it relists, reconnects or ends.

- A stream without a cursor asks for a snapshot; a reconnect asks for the last cursor received.
- Reconnects follow the watch helpers' policy (polysync_platform_client.policy: UNAVAILABLE,
  AWS_THROTTLED, once UNAUTHENTICATED with a token source, the idle timeout; backoff and budget),
  except that a clean end always reconnects: the feed has no end of its own.
- FAILED_PRECONDITION / CURSOR_EXPIRED relists at once (no backoff, not a reconnect): a `relist`
  event, the versions seen are forgotten, and a stream with no cursor and a snapshot is opened; a
  second CURSOR_EXPIRED before any message ends the helper with it.
- A change whose version is not above the last one handed out for its run is dropped.
- Each event carries the cursor to store after handling it: the message's own cursor on its last
  event, the cursor before the message on its earlier ones.

The same rules, as data and scenarios every client replays: clients/feed-policy.json.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import ClassVar

import grpc
from google.protobuf import timestamp_pb2
from polysync.platform.v1 import pipeline_run_pb2
from polysync.platform.v1 import platform_service_pb2 as pb

from polysync_platform_client import reasons
from polysync_platform_client.errors import reason
from polysync_platform_client.policy import Reconnects, StreamEndedEarly

__all__ = ["FeedEvent", "FeedState"]


@dataclass(frozen=True)
class FeedEvent:
    """One thing `follow_changes` hands its caller.

    `kind` is "change" (`run` changed; `version` and `time` are the RunChange's), "snapshot_complete"
    (every non-terminal run has been handed out; changes follow), "heartbeat" (nothing changed) or
    "relist" (the cursor expired: forget what you know, a fresh snapshot follows; `error` says
    why). `stale_since` is set while the server cannot poll AWS. Store `cursor` after handling
    the event: following again from it loses nothing (empty: start with a snapshot)."""

    CHANGE: ClassVar[str] = "change"
    SNAPSHOT_COMPLETE: ClassVar[str] = "snapshot_complete"
    HEARTBEAT: ClassVar[str] = "heartbeat"
    RELIST: ClassVar[str] = "relist"

    kind: str
    cursor: str
    run: pipeline_run_pb2.PipelineRun | None = None
    version: int = 0
    time: datetime | None = None
    stale_since: datetime | None = None
    error: grpc.RpcError | None = None

    @property
    def stale(self) -> bool:
        return self.stale_since is not None


def _time(stamp: timestamp_pb2.Timestamp) -> datetime:
    return stamp.ToDatetime(tzinfo=timezone.utc)


@dataclass
class FeedState(Reconnects):
    """Everything the feed helper decides, without I/O (the reconnect budget is Reconnects')."""

    cursor: str = ""
    _versions: dict[str, int] = field(init=False, default_factory=dict)
    _relisting: bool = field(init=False, default=False)  # a relist asked, no message since

    def request(self, platform: str, tags: dict[str, str] | None) -> pb.WatchRunChangesRequest:
        """The request of the next stream: from the last cursor, or a snapshot without one."""
        return pb.WatchRunChangesRequest(platform=platform, cursor=self.cursor, snapshot=not self.cursor, tags=tags)

    def on_message(self, response: pb.WatchRunChangesResponse) -> list[FeedEvent]:
        """The events to hand out for a received message, in order."""
        self.received()
        self._relisting = False
        stale = _time(response.stale_since) if response.HasField("stale_since") else None
        before = self.cursor
        if response.cursor:
            self.cursor = response.cursor
        parts: list[tuple[str, pb.RunChange | None]] = []
        for change in response.changes:
            run_id = change.run.run_id
            if run_id in self._versions and change.version <= self._versions[run_id]:
                continue  # delivered again after a resume (at least once): already handed out
            self._versions[run_id] = change.version
            parts.append((FeedEvent.CHANGE, change))
        if response.snapshot_complete:
            parts.append((FeedEvent.SNAPSHOT_COMPLETE, None))
        if response.heartbeat:
            parts.append((FeedEvent.HEARTBEAT, None))
        events = []
        for index, (kind, part) in enumerate(parts):
            cursor = self.cursor if index == len(parts) - 1 else before
            if part is None:
                events.append(FeedEvent(kind, cursor, stale_since=stale))
            else:
                events.append(
                    FeedEvent(
                        kind,
                        cursor,
                        run=part.run,
                        version=part.version,
                        time=_time(part.time) if part.HasField("time") else None,
                        stale_since=stale,
                    )
                )
        return events

    def on_expired(self, error: grpc.RpcError) -> FeedEvent | None:
        """The `relist` event when `error` is CURSOR_EXPIRED (the next stream is a snapshot),
        None for any other error; raises it when a relist expired again before any message."""
        if error.code() != grpc.StatusCode.FAILED_PRECONDITION or reason(error) != reasons.CURSOR_EXPIRED:
            return None
        if self._relisting:
            raise error
        self._relisting = True
        self.cursor = ""
        self._versions.clear()  # a new history numbers versions anew
        return FeedEvent(FeedEvent.RELIST, "", error=error)

    def on_clean_end(self) -> float:
        """The stream ended OK (the server stops its streams so): the delay before reconnecting."""
        return self._reconnect(StreamEndedEarly(f"the changes feed ended {self.reconnects + 1} times in a row"))
