"""The feed's parts without gRPC or AWS: cursors, the bounded history, batching and serving."""

import asyncio
from datetime import UTC, datetime

import pytest
from polysync_batch.domain.errors import FailedPrecondition, InvalidArgument
from polysync_batch.domain.models import Run
from polysync_batch.domain.status import RunStatus
from polysync_batch.feed.cursor import CursorCodec
from polysync_batch.feed.feed import RunFeed
from polysync_batch.feed.history import MemoryHistory

from tests.encoding_reference import feed_message_to_proto

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def run(run_id: str, native: str = "RUNNING", queue: str = "arn:aws:batch:r:1:job-queue/q", **tags: str) -> Run:
    terminal = native in ("SUCCEEDED", "FAILED")
    return Run(
        run_id, "p", "hello", 1, "", "job", queue, RunStatus.RUNNING if not terminal else RunStatus.SUCCEEDED,
        native, "", None, "", "", terminal, tags=tags,
    )  # fmt: skip


def test_cursors_round_trip_and_refuse_altered_foreign_and_other_filters():
    codec = CursorCodec("p", "h1", b"k" * 32)
    cursor = codec.encode(42, {"team": "a"})
    assert codec.decode(cursor, {"team": "a"}) == 42
    body, _, mac = cursor.partition(".")
    for bad in ("", "x", "e30", body + ".AAAA", body[:-2] + "." + mac, "a" * 513):
        with pytest.raises(InvalidArgument) as error:
            codec.decode(bad, {"team": "a"})
        assert [v.field for v in error.value.violations] == ["cursor"]
    with pytest.raises(InvalidArgument):
        codec.decode(cursor, {})
    with pytest.raises(InvalidArgument):  # same history and key, another platform
        CursorCodec("q", "h1", b"k" * 32).decode(cursor, {"team": "a"})
    with pytest.raises(FailedPrecondition) as expired:
        CursorCodec("p", "h2", b"other" * 8).decode(cursor, {"team": "a"})
    assert expired.value.reason == "CURSOR_EXPIRED"


async def test_the_history_numbers_changes_versions_each_run_and_expires_what_it_no_longer_keeps():
    history = MemoryHistory("p", max_changes=3)
    history.record([(run("a", "PENDING"), NOW), (run("b"), NOW)])
    history.record([(run("a"), NOW), (run("a", "SUCCEEDED"), NOW)])
    assert history.head == 4
    changes = await history.after(1)
    assert [(c.run.run_id, c.version, c.position) for c in changes] == [("b", 1, 2), ("a", 2, 3), ("a", 3, 4)]
    assert await history.after(4) == []
    assert len(await history.after(1, limit=2)) == 2
    with pytest.raises(FailedPrecondition):
        await history.after(0)  # position 1 is no longer kept
    with pytest.raises(FailedPrecondition):
        await history.after(5)  # ahead of the history: another process's


async def test_changes_that_arrive_together_share_a_message_and_tags_filter():
    history = MemoryHistory("p")
    feed = RunFeed("p", history, lambda r: r.job_queue.endswith("/q"), 30.0, lambda: NOW)
    stream = feed.stream("", False, {"team": "a"})
    first = await anext(stream)
    assert first.heartbeat and not first.changes
    for i in range(1200):
        feed.listener(run(f"r{i}", team="a" if i % 2 == 0 else "b"), None, NOW)
    feed.listener(run("other-queue", queue="arn:aws:batch:r:1:job-queue/elsewhere", team="a"), None, NOW)
    await asyncio.sleep(0.1)  # the batch is recorded BATCH_SECONDS after its first change
    assert history.head == 1200
    messages = [await anext(stream), await anext(stream)]
    assert [len(m.changes) for m in messages] == [500, 100]
    assert all(c.run.tags["team"] == "a" for m in messages for c in m.changes)
    # The last message's cursor is the history's head, even though the last change was filtered.
    assert history.codec.decode(messages[-1].cursor, {"team": "a"}) == 1200
    # A snapshot holds the non-terminal runs, at the head.
    snapshot = feed.stream("", True, {"team": "b"})
    snap = [await anext(snapshot), await anext(snapshot)]
    assert [(len(m.changes), m.snapshot_complete) for m in snap] == [(500, False), (100, True)]
    await stream.aclose()
    await snapshot.aclose()


async def test_under_a_burst_a_stream_sends_full_messages_and_the_rest_with_what_follows():
    history = MemoryHistory("p")
    feed = RunFeed("p", history, lambda r: True, 30.0, lambda: NOW)
    stream = feed.stream("", False, {})
    assert (await anext(stream)).heartbeat

    def burst(prefix: str, count: int) -> None:
        for i in range(count):
            feed.listener(run(f"{prefix}{i}"), None, NOW)

    def position(message) -> int:
        return history.codec.decode(message.cursor, {})

    burst("a", 1200)
    await asyncio.sleep(0.1)  # recorded BATCH_SECONDS after its first change
    full = [await anext(stream), await anext(stream)]
    assert [(len(m.changes), position(m)) for m in full] == [(500, 500), (500, 1000)]  # the rest is not covered
    burst("b", 250)  # recorded within the stream's gap after its last message
    rest = await asyncio.wait_for(anext(stream), 1)
    assert (len(rest.changes), position(rest)) == (450, 1450)
    assert [c.run.run_id for c in rest.changes] == [f"a{i}" for i in range(1000, 1200)] + [f"b{i}" for i in range(250)]
    # A rest with nothing after it goes one gap later, not with the next heartbeat (30 s).
    burst("c", 600)
    await asyncio.sleep(0.1)
    assert len((await asyncio.wait_for(anext(stream), 1)).changes) == 500
    last = await asyncio.wait_for(anext(stream), 1)
    assert (len(last.changes), position(last), last.heartbeat) == (100, 2050, False)
    await stream.aclose()


def test_an_encoded_feed_message_is_what_the_message_encodes_to_and_each_change_is_encoded_once(monkeypatch):
    from polysync.platform.v1 import platform_service_pb2 as pb
    from polysync_batch.api import convert
    from polysync_batch.feed.feed import FeedMessage
    from polysync_batch.feed.history import Change

    at = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    changes = [Change(run(f"r{i}", tag="x"), i + 1, at, i + 1) for i in range(3)]
    messages = [
        FeedMessage(changes, "cursor-3"),
        FeedMessage([], "cursor-3", heartbeat=True, stale_since=at),
        FeedMessage(changes[:1], "cursor-1", snapshot_complete=True),
    ]
    for message in messages:
        encoded = convert.feed_message_bytes(message)
        assert encoded == feed_message_to_proto(message).SerializeToString()
        assert pb.WatchRunChangesResponse.FromString(encoded) == feed_message_to_proto(message)
    converted = []
    original = convert.run_to_proto
    monkeypatch.setattr(convert, "run_to_proto", lambda r: converted.append(r) or original(r))
    fresh = [Change(run(f"s{i}"), 1, at, 10 + i) for i in range(3)]
    for _ in range(100):  # a hundred streams send the same changes
        convert.feed_message_bytes(FeedMessage(fresh, "cursor-12"))
    assert len(converted) == 3
