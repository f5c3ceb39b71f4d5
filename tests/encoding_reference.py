"""The watch and feed responses built as messages, field by field, with the conversion as it was
before it was optimized (main at bad5ec9: every field through the constructors, every time
through Timestamp.FromDatetime): what the server's encoded bytes (api/convert.run_to_proto,
watch_event_bytes, feed_message_bytes) must equal."""

from __future__ import annotations

from datetime import datetime

from google.protobuf import timestamp_pb2
from polysync.platform.v1 import pipeline_run_pb2
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync_batch.api.convert import FAILURE_CAUSE_TO_PROTO, RUN_STATUS_TO_PROTO
from polysync_batch.domain.models import Run, RunAttempt
from polysync_batch.feed.feed import FeedMessage
from polysync_batch.service.ports import WatchEvent


def reference(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    """The conversion before: Timestamp.FromDatetime."""
    if value is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value)
    return stamp


def old_run_to_proto(run: Run) -> pipeline_run_pb2.PipelineRun:
    """api/convert.run_to_proto before (main at bad5ec9): every field through the constructors,
    every time through Timestamp.FromDatetime."""
    message = pipeline_run_pb2.PipelineRun(
        run_id=run.run_id,
        platform=run.platform,
        pipeline=run.pipeline,
        pipeline_revision=run.pipeline_revision,
        pipeline_arn=run.pipeline_arn,
        job_name=run.job_name,
        job_queue=run.job_queue,
        status=RUN_STATUS_TO_PROTO[run.status],
        native_status=run.native_status,
        status_reason=run.status_reason,
        exit_code=run.exit_code,
        message=run.message,
        console_url=run.console_url,
        logs_url=run.logs_url,
        log_stream_name=run.log_stream_name,
        log_group_name=run.log_group_name,
        create_time=reference(run.create_time),
        start_time=reference(run.start_time),
        stop_time=reference(run.stop_time),
        parameters=run.parameters,
        share_identifier=run.share_identifier,
        scheduling_priority=run.scheduling_priority,
        attempts=run.attempts,
        warnings=run.warnings,
        terminal=run.terminal,
        failure_cause=FAILURE_CAUSE_TO_PROTO[run.failure_cause],
        attempt_details=[old_attempt_to_proto(a) for a in run.attempt_details],
        history=[
            pipeline_run_pb2.StatusChange(
                native_status=change.native_status, status_reason=change.status_reason, time=reference(change.time)
            )
            for change in run.history
        ],
    )
    if run.queue_position is not None:
        message.queue_position.SetInParent()
        if run.queue_position.position is not None:
            message.queue_position.position = run.queue_position.position
        if run.queue_position.earliest_time_at_position is not None:
            message.queue_position.earliest_time_at_position.CopyFrom(
                reference(run.queue_position.earliest_time_at_position)
            )
    if run.array is not None:
        message.array.size = run.array.size
        message.array.status_counts.update(run.array.status_counts)
        if run.array.index is not None:
            message.array.index = run.array.index
    return message


def old_attempt_to_proto(attempt: RunAttempt) -> pipeline_run_pb2.RunAttempt:
    return pipeline_run_pb2.RunAttempt(
        index=attempt.index,
        start_time=reference(attempt.start_time),
        stop_time=reference(attempt.stop_time),
        exit_code=attempt.exit_code,
        status_reason=attempt.status_reason,
        container_reason=attempt.container_reason,
        failure_cause=FAILURE_CAUSE_TO_PROTO[attempt.failure_cause],
        log_stream_name=attempt.log_stream_name,
    )


def watch_event_fields(event: WatchEvent) -> dict:
    """The fields both watch responses share."""
    return {
        "run": old_run_to_proto(event.run) if event.run is not None else None,
        "sequence": event.sequence,
        "heartbeat": event.heartbeat,
        "stale_since": reference(event.stale_since),
    }


def feed_message_to_proto(message: FeedMessage) -> pb.WatchRunChangesResponse:
    """One message of WatchRunChanges (SPEC §12)."""
    return pb.WatchRunChangesResponse(
        changes=[
            pb.RunChange(run=old_run_to_proto(change.run), version=change.version, time=reference(change.time))
            for change in message.changes
        ],
        cursor=message.cursor,
        heartbeat=message.heartbeat,
        snapshot_complete=message.snapshot_complete,
        stale_since=reference(message.stale_since),
    )
