"""The watch and feed responses built as messages, field by field: what the server's encoded
bytes (api/convert.watch_event_bytes, feed_message_bytes) must equal."""

from __future__ import annotations

from polysync.platform.v1 import platform_service_pb2 as pb
from polysync_batch.api.convert import run_to_proto, timestamp
from polysync_batch.feed.feed import FeedMessage
from polysync_batch.service.ports import WatchEvent


def watch_event_fields(event: WatchEvent) -> dict:
    """The fields both watch responses share."""
    return {
        "run": run_to_proto(event.run) if event.run is not None else None,
        "sequence": event.sequence,
        "heartbeat": event.heartbeat,
        "stale_since": timestamp(event.stale_since),
    }


def feed_message_to_proto(message: FeedMessage) -> pb.WatchRunChangesResponse:
    """One message of WatchRunChanges (SPEC §12)."""
    return pb.WatchRunChangesResponse(
        changes=[
            pb.RunChange(run=run_to_proto(change.run), version=change.version, time=timestamp(change.time))
            for change in message.changes
        ],
        cursor=message.cursor,
        heartbeat=message.heartbeat,
        snapshot_complete=message.snapshot_complete,
        stale_since=timestamp(message.stale_since),
    )
