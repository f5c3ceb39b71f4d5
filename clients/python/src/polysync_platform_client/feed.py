"""The feed helper's policy (SPEC §12, docs/clients.md "The feed helper"), without I/O: what
`follow_changes` of the sync and the asyncio client hands its caller for each WatchRunChanges
message, what it asks for on each new stream, and when it relists, reconnects or ends.

- A stream without a cursor asks for a snapshot (and forgets the versions seen); a reconnect asks
  for the last cursor received. A snapshot's cursors count only from its snapshot_complete: its
  events before that carry the cursor from before it (empty), and a stream that ends in the middle
  of it is followed by a new snapshot (the rest of a snapshot cannot be resumed from a cursor).
- At a snapshot's snapshot_complete, the runs handed out and not yet terminal that the snapshot
  did not list (after a relist: runs that ended, or that AWS forgot, while the feed could not be
  followed) are read with BatchGetPipelineRuns: each run found is a change of version 0, each
  missing one a `gone` event; then snapshot_complete. The caller may start the helper with runs
  it knows are in flight (`in_flight`): they are read the same way.
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

from collections.abc import Iterable
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

    `kind` is "change" (`run` changed; `version` and `time` are the RunChange's; version 0: a run
    read after a relist, see below), "gone" (`run` carries only the run_id: a run handed out
    earlier that neither AWS Batch nor the history knows any more, so how it ended is unknown),
    "snapshot_complete" (every non-terminal run has been handed out; changes follow), "heartbeat"
    (nothing changed) or "relist" (the cursor expired, `error` says why: a fresh snapshot follows,
    and at its end the runs you were handed that it does not list come as changes read with
    BatchGetPipelineRuns, or as "gone"). `stale_since` is set while the server cannot poll AWS.
    Store `cursor` after handling the event: following again from it loses nothing (empty: start
    with a snapshot)."""

    CHANGE: ClassVar[str] = "change"
    SNAPSHOT_COMPLETE: ClassVar[str] = "snapshot_complete"
    HEARTBEAT: ClassVar[str] = "heartbeat"
    RELIST: ClassVar[str] = "relist"
    GONE: ClassVar[str] = "gone"

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


# BatchGetPipelineRuns takes at most this many run ids (SPEC §2).
READ_AT_MOST = 1000


@dataclass
class FeedState(Reconnects):
    """Everything the feed helper decides, without I/O (the reconnect budget is Reconnects').
    A message that completes a snapshot is handed out in three steps: `on_message` (its
    changes), `on_read` for each answer to the reads `to_read` names, `complete_snapshot`."""

    cursor: str = ""
    _versions: dict[str, int] = field(init=False, default_factory=dict)
    _relisting: bool = field(init=False, default=False)  # a relist asked, no message since
    # Runs handed out whose latest state is not terminal, in the order first handed out.
    _in_flight: dict[str, None] = field(init=False, default_factory=dict)
    _listed: set[str] | None = field(init=False, default=None)  # during a snapshot: the runs it listed
    # The rest of a message that completes a snapshot: its events after the reads, its cursor.
    _completing: tuple[list[str], str, datetime | None] | None = field(init=False, default=None)

    def start_in_flight(self, run_ids: Iterable[str]) -> None:
        """Runs the caller knows are in flight (after a restart, what its own store says has not
        ended), ahead of any the helper hands out: the next snapshot's end reads those it does
        not list, so the caller learns how they ended."""
        for run_id in run_ids:
            if run_id:
                self._in_flight.setdefault(run_id)

    def request(self, platform: str, tags: dict[str, str] | None) -> pb.WatchRunChangesRequest:
        """The request of the next stream: from the last cursor, or a snapshot without one (which
        starts anew: the versions of another history mean nothing to it)."""
        snapshot = not self.cursor
        self._completing = None
        if snapshot:
            self._listed = set()
            self._versions.clear()
        return pb.WatchRunChangesRequest(platform=platform, cursor=self.cursor, snapshot=snapshot, tags=tags)

    def on_message(self, response: pb.WatchRunChangesResponse) -> list[FeedEvent]:
        """The events to hand out for a received message, in order (for a message that completes
        a snapshot, only its changes: see the class)."""
        self.received()
        self._relisting = False
        stale = _time(response.stale_since) if response.HasField("stale_since") else None
        before = self.cursor  # empty during a snapshot: its cursors count from its end
        listed = self._listed
        changes: list[pb.RunChange] = []
        for change in response.changes:
            run_id = change.run.run_id
            if listed is not None:
                listed.add(run_id)
            if run_id in self._versions and change.version <= self._versions[run_id]:
                continue  # delivered again after a resume (at least once): already handed out
            self._hand_out(change.run, change.version)
            changes.append(change)
        rest = [FeedEvent.SNAPSHOT_COMPLETE] if response.snapshot_complete else []
        if response.heartbeat:
            rest.append(FeedEvent.HEARTBEAT)
        if listed is not None:  # every event before snapshot_complete carries the empty cursor
            events = [self._change_event(change, before, stale) for change in changes]
            if response.snapshot_complete:
                self._completing = (rest, response.cursor, stale)
                return events
            return events + self._rest_events(rest, before, stale)
        if response.cursor:
            self.cursor = response.cursor
        events = [
            self._change_event(change, before if index < len(changes) - 1 or rest else self.cursor, stale)
            for index, change in enumerate(changes)
        ]
        return events + self._rest_events(rest, before, stale)

    @property
    def completing(self) -> bool:
        """The last message completed a snapshot: read `to_read`, then `complete_snapshot`."""
        return self._completing is not None

    def to_read(self) -> list[list[str]]:
        """The runs in flight that the snapshot did not list, in calls of BatchGetPipelineRuns."""
        listed = self._listed or set()
        ids = [run_id for run_id in self._in_flight if run_id not in listed]
        return [ids[i : i + READ_AT_MOST] for i in range(0, len(ids), READ_AT_MOST)]

    def on_read(self, answer: pb.BatchGetPipelineRunsResponse) -> list[FeedEvent]:
        """A read's runs as changes of version 0 (their version in this history is unknown: any
        later change has a higher one), its missing runs as `gone`."""
        stale = self._completing[2] if self._completing else None
        events = []
        for run in answer.runs:
            self._hand_out(run, 0)
            events.append(FeedEvent(FeedEvent.CHANGE, self.cursor, run=run, version=0, stale_since=stale))
        for run_id in answer.missing_run_ids:
            self._in_flight.pop(run_id, None)
            gone = pipeline_run_pb2.PipelineRun(run_id=run_id)
            events.append(FeedEvent(FeedEvent.GONE, self.cursor, run=gone, stale_since=stale))
        return events

    def complete_snapshot(self) -> list[FeedEvent]:
        """The snapshot_complete event (and the message's heartbeat): its cursor is adopted."""
        assert self._completing is not None
        rest, cursor, stale = self._completing
        self._completing, self._listed = None, None
        before, self.cursor = self.cursor, cursor or self.cursor
        return self._rest_events(rest, before, stale)

    def _hand_out(self, run: pipeline_run_pb2.PipelineRun, version: int) -> None:
        self._versions[run.run_id] = version
        if run.terminal:
            self._in_flight.pop(run.run_id, None)
        else:
            self._in_flight.setdefault(run.run_id)

    def _change_event(self, change: pb.RunChange, cursor: str, stale: datetime | None) -> FeedEvent:
        time = _time(change.time) if change.HasField("time") else None
        return FeedEvent(FeedEvent.CHANGE, cursor, run=change.run, version=change.version, time=time, stale_since=stale)

    def _rest_events(self, kinds: list[str], before: str, stale: datetime | None) -> list[FeedEvent]:
        """snapshot_complete / heartbeat: the last carries the message's cursor."""
        return [
            FeedEvent(kind, self.cursor if index == len(kinds) - 1 else before, stale_since=stale)
            for index, kind in enumerate(kinds)
        ]

    def on_expired(self, error: grpc.RpcError) -> FeedEvent | None:
        """The `relist` event when `error` is CURSOR_EXPIRED (the next stream is a snapshot),
        None for any other error; raises it when a relist expired again before any message."""
        if error.code() != grpc.StatusCode.FAILED_PRECONDITION or reason(error) != reasons.CURSOR_EXPIRED:
            return None
        if self._relisting:
            raise error
        self._relisting = True
        self.cursor = ""  # the next request is a snapshot, which forgets the versions seen
        return FeedEvent(FeedEvent.RELIST, "", error=error)

    def on_clean_end(self) -> float:
        """The stream ended OK (the server stops its streams so): the delay before reconnecting."""
        return self._reconnect(StreamEndedEarly(f"the changes feed ended {self.reconnects + 1} times in a row"))
