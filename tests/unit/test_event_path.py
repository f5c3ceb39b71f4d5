"""The event path's shortcuts (bench/event_path.py) change no byte: timestamps built without
Timestamp.FromDatetime, a run's `run` field encoded once for the watch streams and the feed,
watch responses' own fields encoded by hand, a run's history swapped without dataclasses.replace.
Each is checked against the way protobuf and the dataclass do it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync_batch.api import convert
from polysync_batch.aws import translate
from polysync_batch.aws.translate import RunContext, to_run
from polysync_batch.domain.models import QueuePosition, Run, StatusChange
from polysync_batch.feed.feed import FeedMessage
from polysync_batch.feed.history import Change
from polysync_batch.service.ports import WatchEvent

from tests.encoding_reference import (
    feed_message_to_proto,
    old_attempt_to_proto,
    old_run_to_proto,
    reference,
    watch_event_fields,
)

CTX = RunContext("prod", "us-east-1", None, 600.0)
MIN_MS = -62_135_596_800_000  # 0001-01-01T00:00:00Z
MAX_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z


zones = st.sampled_from(
    [None, UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8)), timezone(timedelta(0))]
)


@given(st.datetimes(timezones=zones))
def test_a_timestamp_is_the_one_from_datetime_makes(value):
    try:
        expected = reference(value)
    except (ValueError, OverflowError) as error:  # an offset pushing year 1 or 9999 out of range
        with pytest.raises(type(error)):
            convert.timestamp(value)
        return
    stamp = convert.timestamp(value)
    assert (stamp.seconds, stamp.nanos) == (expected.seconds, expected.nanos)
    assert stamp.SerializeToString() == expected.SerializeToString()


@given(st.integers(min_value=MIN_MS, max_value=MAX_MS))
def test_every_aws_epoch_millisecond_time_converts_as_from_datetime_does(millis):
    """AWS's times (createdAt, startedAt, …) in epoch ms, before 1970 and up to year 9999."""
    try:
        value = translate._time(millis)
    except (ValueError, OverflowError, OSError):  # what datetime.fromtimestamp cannot represent
        return
    assert convert.timestamp(value) == reference(value)


@pytest.mark.parametrize(
    "value",
    [
        datetime(1970, 1, 1, tzinfo=UTC),  # seconds 0 and nanos 0: present, encoded empty
        datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999_999),
        datetime(2026, 12, 3, 16, 0, 1, 500_000, tzinfo=UTC),
    ],
)
def test_edge_timestamps(value):
    assert convert.timestamp(value) == reference(value)
    holder = pb.RunChange(time=convert.timestamp(value))
    assert holder.HasField("time")
    assert holder.SerializeToString() == pb.RunChange(time=reference(value)).SerializeToString()


def job(status: str, **extra) -> dict:
    detail = {
        "jobArn": "arn:aws:batch:us-east-1:123456789012:job/j-1",
        "jobId": "j-1",
        "jobName": "Polysync-j-1",
        "jobQueue": "arn:aws:batch:us-east-1:123456789012:job-queue/q",
        "status": status,
        "jobDefinition": "arn:aws:batch:us-east-1:123456789012:job-definition/d:3",
        "createdAt": 1_764_000_000_123,
        "parameters": {"input": "s3://b/k"},
        "tags": {"team": "genomics"},
        "container": {"logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/x y%"}}},
    }
    detail.update(extra)
    return detail


ATTEMPT = {
    "container": {"exitCode": 137, "logStreamName": "d/default/a1", "reason": "OutOfMemoryError: killed"},
    "startedAt": 1_764_000_040_000,
    "stoppedAt": 1_764_000_095_456,
    "statusReason": "Essential container in task exited",
}
RUNS = [
    to_run(job("SUBMITTED"), CTX),
    to_run(job("RUNNABLE", statusReason="CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY"), CTX),
    to_run(job("RUNNING", startedAt=1_764_000_040_001, container={"logStreamName": "d/default/a2"}), CTX),
    to_run(
        job(
            "FAILED",
            statusReason="Essential container in task exited",
            startedAt=-1_000_001,  # before 1970
            stoppedAt=253_402_300_799_999,  # the last millisecond of year 9999
            attempts=[ATTEMPT, ATTEMPT],
            container={"exitCode": 1, "logStreamName": "d/default/a3"},
        ),
        CTX,
    ),
    to_run(
        job(
            "RUNNING",
            arrayProperties={"size": 3, "statusSummary": {"RUNNING": 2, "SUCCEEDED": 1}},
            parameters={"input": "s3://b/k", "mode": "full", "z": ""},
        ),
        CTX,
    ),
    to_run(
        job(
            "SUCCEEDED",
            startedAt=0,
            stoppedAt=1,
            attempts=[{**ATTEMPT, "container": {"exitCode": 0}, "startedAt": None}],
            container={"exitCode": 0},
        ),
        CTX,
    ),
]
RUNS.append(
    dataclasses.replace(
        RUNS[1],
        history=(
            StatusChange("SUBMITTED", "", datetime(1969, 7, 20, 20, 17, 40, 1, tzinfo=UTC)),
            StatusChange("RUNNABLE", "CAPACITY:x", datetime(2026, 12, 3, 9, 0, 0, 999_999, tzinfo=UTC)),
        ),
        queue_position=QueuePosition(4, datetime(2026, 12, 3, 9, 0, 1, tzinfo=UTC)),
    )
)


def several_entries(runs) -> bool:
    """Whether a map of these runs has more than one entry."""
    return any(len(r.parameters) > 1 or (r.array is not None and len(r.array.status_counts) > 1) for r in runs if r)


def assert_same_encoding(actual: bytes, expected, maps: bool) -> None:
    """Byte for byte; with maps of several entries (`maps`), the same message, the same length and
    the same canonical bytes: protobuf leaves the order of map entries open, and copying a message
    may reorder them (the code before did, when it put a run into a response)."""
    if not maps:
        assert actual == expected.SerializeToString()
        return
    parsed = type(expected).FromString(actual)
    assert parsed == expected
    assert len(actual) == expected.ByteSize()
    assert parsed.SerializeToString(deterministic=True) == expected.SerializeToString(deterministic=True)


@pytest.mark.parametrize("run", RUNS, ids=lambda run: run.native_status)
def test_a_runs_bytes_are_those_of_the_conversion_before(run):
    assert_same_encoding(convert.run_to_proto(run).SerializeToString(), old_run_to_proto(run), several_entries([run]))
    for attempt in run.attempt_details:
        expected = old_attempt_to_proto(attempt).SerializeToString()
        assert convert.attempt_to_proto(attempt).SerializeToString() == expected


def test_the_sample_runs_cover_every_time_and_optional_field():
    attempts = [a for run in RUNS for a in run.attempt_details]
    assert {a.exit_code for a in attempts} >= {None, 0, 137}
    assert None in {a.start_time for a in attempts} and None in {a.stop_time for a in attempts}
    assert {None} < {run.stop_time for run in RUNS} and any(run.queue_position for run in RUNS)
    assert any(run.array for run in RUNS) and any(run.history for run in RUNS)
    assert several_entries(RUNS) and not several_entries(RUNS[:4])


@pytest.mark.parametrize("run", RUNS + [None], ids=lambda run: run.native_status if run else "no-run")
@pytest.mark.parametrize("sequence", [0, 1, 127, 128, 300, 2**40, 2**63 - 1])
@pytest.mark.parametrize("heartbeat", [False, True])
@pytest.mark.parametrize("stale_since", [None, datetime(2026, 12, 3, 9, 0, 1, 250_000, tzinfo=UTC)])
def test_watch_messages_are_the_bytes_protobuf_makes_of_them(run, sequence, heartbeat, stale_since):
    event = WatchEvent(run, stale_since, heartbeat, sequence)
    for response in (pb.WatchPipelineRunResponse, pb.WatchPipelineRunsResponse):
        expected = response(**watch_event_fields(event))
        assert_same_encoding(convert.watch_event_bytes(event), expected, several_entries([run]))


def test_feed_messages_are_the_bytes_protobuf_makes_of_them():
    at = datetime(2026, 12, 3, 9, 0, 2, 1_000, tzinfo=UTC)
    changes = [Change(run, index + 1, at + timedelta(seconds=index), 40 + index) for index, run in enumerate(RUNS)]
    messages = [
        FeedMessage(changes, "c-45", stale_since=at),
        FeedMessage(changes[2:4], "c-43", snapshot_complete=True),
        FeedMessage([changes[0], changes[3]], "c-45", heartbeat=True),  # filtered by tags: not consecutive
    ]
    for message in messages:
        maps = several_entries([c.run for c in message.changes])
        assert_same_encoding(convert.feed_message_bytes(message), feed_message_to_proto(message), maps)


def test_a_state_both_watched_and_in_the_feed_is_converted_once(monkeypatch):
    run = to_run(job("STARTING"), CTX)
    converted = []
    original = convert.run_to_proto
    monkeypatch.setattr(convert, "run_to_proto", lambda r: converted.append(r) or original(r))
    for sequence in range(1, 11):  # ten streams
        convert.watch_event_bytes(WatchEvent(run, None, False, sequence))
    convert.feed_message_bytes(FeedMessage([Change(run, 1, datetime(2026, 1, 1, tzinfo=UTC), 1)], "c"))
    assert converted == [run]


def test_a_run_with_another_history_is_what_replace_makes():
    history = (StatusChange("RUNNING", "", datetime(2026, 1, 1, tzinfo=UTC)),)
    for run in RUNS:
        swapped = run.with_history(history)
        assert swapped == dataclasses.replace(run, history=history)
        assert type(swapped) is type(run) and swapped is not run
        assert swapped.history == history and run.history != history
        assert dataclasses.replace(swapped, history=run.history) == run
        with pytest.raises(dataclasses.FrozenInstanceError):
            swapped.history = ()  # type: ignore[misc]


def test_a_translated_run_is_what_the_dataclass_makes_of_its_fields():
    """to_run builds its Run without the frozen dataclass's __init__ (Run.made): the same object
    the constructor makes of the same fields, every field set, frozen, defaults where not given."""
    for run in RUNS:
        values = {f.name: getattr(run, f.name) for f in dataclasses.fields(run)}
        assert vars(run) == values  # no attribute of its own beyond the fields
        assert run == Run(**values)
        given_values = {k: v for k, v in values.items() if k not in ("history", "queue_position")}
        assert Run.made(**given_values) == Run(**given_values)
        with pytest.raises(dataclasses.FrozenInstanceError):
            run.status_reason = ""  # type: ignore[misc]


def test_the_encodings_kept_are_bounded_however_many_objects_live():
    """The feed's history keeps its changes (and their runs) alive; their encodings are kept for
    the streams sending them now, at most ENCODINGS_KEPT of each kind, and stay right past that."""
    at = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    changes = [
        Change(to_run(job("RUNNING", jobId=f"j-{i}"), CTX), 1, at, i) for i in range(convert.ENCODINGS_KEPT + 3_000)
    ]
    for change in changes:
        convert.feed_message_bytes(FeedMessage([change], "c"))
    assert len(convert._shared_change_fields) <= convert.ENCODINGS_KEPT
    assert len(convert._shared_run_fields) <= convert.ENCODINGS_KEPT
    for change in (changes[0], changes[-1]):  # forgotten, then kept
        message = FeedMessage([change], "c")
        assert_same_encoding(convert.feed_message_bytes(message), feed_message_to_proto(message), False)
