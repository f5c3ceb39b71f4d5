"""Domain objects ↔ protobuf messages of polysync.platform.v1."""

from __future__ import annotations

import weakref
from collections import OrderedDict
from datetime import UTC, datetime

from google.protobuf import timestamp_pb2
from polysync.platform.v1 import connection_pb2, pipeline_pb2, pipeline_run_pb2
from polysync.platform.v1 import platform_service_pb2 as pb

from polysync_batch.domain.connection import ConnectionReport
from polysync_batch.domain.diagnosis import FailureCause
from polysync_batch.domain.models import Pipeline, Run, RunAttempt
from polysync_batch.domain.requests import LogsRequest, RunQuery
from polysync_batch.domain.status import RunStatus
from polysync_batch.domain.submit import SubmitRequest, Submitted
from polysync_batch.feed.feed import FeedMessage
from polysync_batch.feed.history import Change
from polysync_batch.watch.subscription import WatchEvent

RUN_STATUS_TO_PROTO = {
    RunStatus.RUNNING: pipeline_run_pb2.RUN_STATUS_RUNNING,
    RunStatus.SUCCEEDED: pipeline_run_pb2.RUN_STATUS_SUCCEEDED,
    RunStatus.FAILED: pipeline_run_pb2.RUN_STATUS_FAILED,
    RunStatus.CANCELLED: pipeline_run_pb2.RUN_STATUS_CANCELLED,
}
RUN_STATUS_FROM_PROTO = {v: k for k, v in RUN_STATUS_TO_PROTO.items()}
FAILURE_CAUSE_TO_PROTO = {
    cause: pipeline_run_pb2.FailureCause.Value(f"FAILURE_CAUSE_{cause.value}") for cause in FailureCause
}


# date(1970, 1, 1).toordinal(): the day number of the Unix epoch.
_EPOCH_ORDINAL = 719_163


def timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    """The Timestamp `Timestamp.FromDatetime` makes (see _set_time)."""
    if value is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    _set_time(stamp, value)
    return stamp


def _set_time(stamp: timestamp_pb2.Timestamp, value: datetime) -> None:
    """Sets a Timestamp (a message's field, in place: no copy) as `FromDatetime(value)` does,
    without its way through `calendar.timegm(value.utctimetuple())`, a quarter of a run's
    conversion. Every datetime of the service is naive-UTC or in UTC, and any such datetime
    (years 1–9999) is inside Timestamp's range; another time zone takes FromDatetime's way.
    Setting a field of a Timestamp field makes it present, as assigning a Timestamp does."""
    if value.tzinfo is UTC or value.tzinfo is None:
        days = value.toordinal() - _EPOCH_ORDINAL
        stamp.seconds = days * 86_400 + value.hour * 3_600 + value.minute * 60 + value.second
        stamp.nanos = value.microsecond * 1_000
    else:
        stamp.FromDatetime(value)


def pipeline_to_proto(pipeline: Pipeline) -> pipeline_pb2.Pipeline:
    return pipeline_pb2.Pipeline(
        name=pipeline.name,
        revision=pipeline.revision,
        arn=pipeline.arn,
        type=pipeline.type,
        parameters=pipeline.parameters,
        required_parameters=pipeline.required_parameters,
        image=pipeline.image,
        job_role_arn=pipeline.job_role_arn,
        tags=pipeline.tags,
        platform_capabilities=pipeline.platform_capabilities,
    )


def run_to_proto(run: Run) -> pipeline_run_pb2.PipelineRun:
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
        parameters=run.parameters,
        share_identifier=run.share_identifier,
        scheduling_priority=run.scheduling_priority,
        attempts=run.attempts,
        warnings=run.warnings,
        terminal=run.terminal,
        failure_cause=FAILURE_CAUSE_TO_PROTO[run.failure_cause],
    )
    # Times, attempts and history are set in place: a sub-message passed to the constructor
    # (or appended) is copied, and a run carries up to 64 history entries.
    if run.create_time is not None:
        _set_time(message.create_time, run.create_time)
    if run.start_time is not None:
        _set_time(message.start_time, run.start_time)
    if run.stop_time is not None:
        _set_time(message.stop_time, run.stop_time)
    for attempt in run.attempt_details:
        _fill_attempt(message.attempt_details.add(), attempt)
    add_change = message.history.add
    for change in run.history:
        entry = add_change(native_status=change.native_status, status_reason=change.status_reason)
        if change.time is not None:
            _set_time(entry.time, change.time)
    if run.queue_position is not None:
        message.queue_position.SetInParent()
        if run.queue_position.position is not None:
            message.queue_position.position = run.queue_position.position
        if run.queue_position.earliest_time_at_position is not None:
            _set_time(message.queue_position.earliest_time_at_position, run.queue_position.earliest_time_at_position)
    if run.array is not None:
        message.array.size = run.array.size
        message.array.status_counts.update(run.array.status_counts)
        if run.array.index is not None:
            message.array.index = run.array.index
    return message


def attempt_to_proto(attempt: RunAttempt) -> pipeline_run_pb2.RunAttempt:
    message = pipeline_run_pb2.RunAttempt()
    _fill_attempt(message, attempt)
    return message


def _fill_attempt(message: pipeline_run_pb2.RunAttempt, attempt: RunAttempt) -> None:
    message.index = attempt.index
    if attempt.start_time is not None:
        _set_time(message.start_time, attempt.start_time)
    if attempt.stop_time is not None:
        _set_time(message.stop_time, attempt.stop_time)
    if attempt.exit_code is not None:  # optional: unset when unknown
        message.exit_code = attempt.exit_code
    message.status_reason = attempt.status_reason
    message.container_reason = attempt.container_reason
    message.failure_cause = FAILURE_CAUSE_TO_PROTO[attempt.failure_cause]
    message.log_stream_name = attempt.log_stream_name


def _varint(value: int) -> bytes:
    """A non-negative integer as protobuf's base-128 varint."""
    if value < 0x80:
        return bytes((value,))
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


class _Encodings:
    """The encodings of objects being sent, so an object sent to many streams is encoded once:
    each kept while its object lives, and at most `bound` of them — past it every entry is
    forgotten at once (a stream that sends an object later encodes it again). Unbounded, the
    feed's in-process history (100,000 changes, each alive until it leaves the history) kept
    ~2 KB of encodings per change."""

    def __init__(self, bound: int) -> None:
        self._bound = bound
        self._kept: dict[int, tuple[weakref.ref, bytes]] = {}

    def get(self, obj: object) -> bytes | None:
        entry = self._kept.get(id(obj))
        return entry[1] if entry is not None and entry[0]() is obj else None

    def keep(self, obj: object, encoded: bytes) -> bytes:
        kept = self._kept
        if len(kept) >= self._bound:
            kept.clear()  # their weakrefs go with them: no callback of theirs fires later
        key = id(obj)
        kept[key] = (weakref.ref(obj, lambda _: kept.pop(key, None)), encoded)
        return encoded

    def __len__(self) -> int:
        return len(self._kept)


# Encodings kept: a wave of 10,000 runs, each sent to its watchers and feeds within seconds.
ENCODINGS_KEPT = 16_384

# The `run` field of each Run object: field 1 of both watch responses and of RunChange (the
# feed's), so a state both watched and in the feed is converted once for both.
_shared_run_fields = _Encodings(ENCODINGS_KEPT)


def _run_field(run: Run) -> bytes:
    encoded = _shared_run_fields.get(run)
    if encoded is not None:
        return encoded
    message = run_to_proto(run).SerializeToString()
    return _shared_run_fields.keep(run, b"\n" + _varint(len(message)) + message)  # field 1, length-delimited


def _watch_rest(event: WatchEvent) -> bytes:
    """A watch response's own fields (2 sequence, 3 heartbeat, 4 stale_since), encoded: by hand
    when there is no stale_since (every message while AWS answers), else by protobuf."""
    if event.stale_since is None and event.sequence >= 0:
        rest = b"\x10" + _varint(event.sequence) if event.sequence else b""  # field 2, varint
        return rest + b"\x18\x01" if event.heartbeat else rest  # field 3, varint true
    return pb.WatchPipelineRunResponse(
        sequence=event.sequence, heartbeat=event.heartbeat, stale_since=timestamp(event.stale_since)
    ).SerializeToString()


def watch_event_bytes(event: WatchEvent) -> bytes:
    """A WatchPipelineRunResponse or WatchPipelineRunsResponse (their fields are the same),
    encoded: the same bytes as the response built from the run's message and these fields.
    A state goes to every stream watching the run, so its run is encoded once, and each stream
    adds only its own fields (a protobuf message may be encoded field by field, in order)."""
    rest = _watch_rest(event)
    return rest if event.run is None else _run_field(event.run) + rest


def submit_request_from_proto(request: pb.ExecutePipelineRequest) -> SubmitRequest:
    def optional(name: str):  # proto3 `optional` fields: None when the caller left them unset
        return getattr(request, name) if request.HasField(name) else None

    return SubmitRequest(
        pipeline=request.pipeline,
        job_queue=request.job_queue,
        parameters=dict(request.parameters),
        request_id=request.request_id,
        share_identifier=request.share_identifier,
        scheduling_priority_override=optional("scheduling_priority_override"),
        array_size=optional("array_size"),
        timeout_seconds=optional("timeout_seconds"),
        retry_attempts=optional("retry_attempts"),
        command=list(request.command),
        environment=dict(request.environment),
        vcpus=optional("vcpus"),
        memory_mib=optional("memory_mib"),
        gpus=optional("gpus"),
        tags=dict(request.tags),
        propagate_tags=optional("propagate_tags"),
        depends_on=list(request.depends_on),
        validate_only=request.validate_only,
    )


def execute_response(submitted: Submitted) -> pb.ExecutePipelineResponse:
    return pb.ExecutePipelineResponse(
        run=run_to_proto(submitted.run) if submitted.run is not None else None,
        deduplicated=submitted.deduplicated,
        warnings=submitted.warnings,
    )


def connection_to_proto(report: ConnectionReport) -> pb.TestConnectionResponse:
    response = pb.TestConnectionResponse(
        ok=report.ok,
        caller_arn=report.caller_arn,
        region=report.region,
        platform=report.platform,
        problems=report.problems,
        checks=[
            connection_pb2.PermissionCheck(
                permission=c.permission,
                result=connection_pb2.CheckResult.Value(f"CHECK_RESULT_{c.result.value}"),
                detail=c.detail,
            )
            for c in report.checks
        ],
    )
    if report.queue is not None:
        q = report.queue
        response.job_queue.CopyFrom(
            connection_pb2.JobQueueStatus(
                name=q.name,
                arn=q.arn,
                exists=q.exists,
                state=q.state,
                status=q.status,
                status_reason=q.status_reason,
                scheduling_policy_arn=q.scheduling_policy_arn,
            )
        )
    return response


def run_query_from_proto(request: pb.ListPipelineRunsRequest) -> RunQuery:
    return RunQuery(
        job_queue=request.job_queue,
        statuses=[RUN_STATUS_FROM_PROTO.get(s) for s in request.statuses],
        name_prefix=request.name_prefix,
        array_parent_run_id=request.array_parent_run_id,
        page_size=request.page_size,
        page_token=request.page_token,
    )


def logs_request_from_proto(request: pb.StreamPipelineRunLogsRequest) -> LogsRequest:
    return LogsRequest(
        run_id=request.run_id,
        follow=request.follow,
        start_from_head=request.start_from_head,
        attempt=request.attempt if request.HasField("attempt") else None,
        array_index=request.array_index if request.HasField("array_index") else None,
    )


# Each change as entry of the `changes` field (field 1) of WatchRunChangesResponse, encoded once:
# every feed stream sends the same changes.
_shared_change_fields = _Encodings(ENCODINGS_KEPT)


def _change_field(change: Change) -> bytes:
    encoded = _shared_change_fields.get(change)
    if encoded is not None:
        return encoded
    # A RunChange: its run (field 1) from the run's shared encoding, then version and time.
    message = (
        _run_field(change.run) + pb.RunChange(version=change.version, time=timestamp(change.time)).SerializeToString()
    )
    return _shared_change_fields.keep(change, b"\n" + _varint(len(message)) + message)  # field 1 of the response


# The encoded changes of the latest messages: streams at the same position send the same run
# of consecutive changes ((first, last, count) → (first, last, bytes); the entry holds both, so
# their ids stay theirs while it is kept).
_shared_change_runs: OrderedDict[tuple[int, int, int], tuple[Change, Change, bytes]] = OrderedDict()
SHARED_CHANGE_RUNS = 64


def _changes_field(changes: list[Change]) -> bytes:
    if not changes:
        return b""
    first, last = changes[0], changes[-1]
    if last.position - first.position + 1 != len(changes):  # filtered by tags: a subset of its own
        return b"".join([_change_field(change) for change in changes])
    key = (id(first), id(last), len(changes))
    entry = _shared_change_runs.get(key)
    if entry is not None and entry[0] is first and entry[1] is last:
        return entry[2]
    encoded = b"".join([_change_field(change) for change in changes])
    _shared_change_runs[key] = (first, last, encoded)
    if len(_shared_change_runs) > SHARED_CHANGE_RUNS:
        _shared_change_runs.popitem(last=False)
    return encoded


def feed_message_bytes(message: FeedMessage) -> bytes:
    """One message of WatchRunChanges, encoded: the same bytes as
    the response built from RunChange messages. Every stream of the feed sends the same
    changes, so each is encoded once (entries of a repeated field may be encoded one by one);
    a stream adds only its cursor and flags."""
    rest = pb.WatchRunChangesResponse(
        cursor=message.cursor,
        heartbeat=message.heartbeat,
        snapshot_complete=message.snapshot_complete,
        stale_since=timestamp(message.stale_since),
    ).SerializeToString()
    return _changes_field(message.changes) + rest
