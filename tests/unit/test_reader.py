"""The one DescribeJobs reader (watch/reader.py) with an injected clock: a lone read goes at
once, reads arriving under load share calls once arrivals pause, work for callers that left is
dropped before its call, and one caller's flood delays another's read by about one call."""

import asyncio

import pytest
from polysync_batch.domain import deadline, errors
from polysync_batch.service.budget import RateBudget
from polysync_batch.watch.reader import DescribeReader

from tests.manual_clock import ManualClock, settle
from tests.unit.test_poller import FakeBatch


def make(per_second: float = 1000, burst: int = 1000, gap: float = 0.02):
    batch, clock = FakeBatch(), ManualClock()
    reader = DescribeReader(batch.describe, RateBudget(per_second, burst, clock), clock, gap)
    return batch, clock, reader


async def test_a_lone_read_goes_at_once():
    batch, clock, reader = make()
    batch.add("a")
    read = asyncio.ensure_future(reader.read(["a"], key="alice"))
    await settle()
    assert read.done() and read.result()["a"].run_id == "a"
    assert batch.calls == [["a"]]


async def test_unknown_ids_read_as_none():
    batch, clock, reader = make()
    assert await reader.read(["nope"]) == {"nope": None}


async def test_reads_arriving_one_by_one_under_load_share_calls_after_a_pause():
    batch, clock, reader = make()
    ids = [f"r{i}" for i in range(1000)]
    batch.add(*ids)
    batch.gate = asyncio.Event()
    reads = [asyncio.ensure_future(reader.read([ids[0]]))]
    await settle()
    for run_id in ids[1:]:  # one by one, as gRPC delivers concurrent calls
        reads.append(asyncio.ensure_future(reader.read([run_id])))
        await asyncio.sleep(0)
    batch.gate.set()
    await settle()
    await clock.advance(0.02)
    await asyncio.gather(*reads)
    assert len(batch.calls) <= 11, [len(call) for call in batch.calls]


async def test_a_burst_whose_first_groups_arrive_between_quick_calls_still_shares_calls():
    """gRPC hands the start of 1,000 concurrent gets over in small groups a few milliseconds
    apart; with DescribeJobs answering within those milliseconds no id ever arrives while a call
    is out. Several reads sent together are a burst all the same: later groups wait for a pause."""
    batch, clock, reader = make()
    ids = [f"r{i}" for i in range(1000)]
    batch.add(*ids)
    reads = []
    for start in range(0, 1000, 5):  # groups of 5, 2 ms apart; each call answers at once
        reads += [asyncio.ensure_future(reader.read([run_id])) for run_id in ids[start : start + 5]]
        await clock.advance(0.002)
    await clock.advance(1.0)
    await asyncio.gather(*reads)
    assert len(batch.calls) <= 11, [len(call) for call in batch.calls]


async def test_reads_made_one_after_another_each_go_at_once():
    """One caller's gets in sequence are no burst: none waits for a pause."""
    batch, clock, reader = make()
    batch.add("a", "b", "c")
    for run_id in ("a", "b", "c"):
        read = asyncio.ensure_future(reader.read([run_id]))
        await settle()
        assert read.done(), run_id
        await clock.advance(0.002)
    assert batch.calls == [["a"], ["b"], ["c"]]


async def test_a_cancelled_caller_costs_no_call_when_its_batch_has_not_started():
    batch, clock, reader = make(per_second=1, burst=1)
    batch.add("a", "b")
    await reader.read(["a"])  # spends the burst
    assert len(batch.calls) == 1
    waiting = asyncio.ensure_future(reader.read(["b"]))
    await settle()
    waiting.cancel()  # the caller went away while its call waited for the budget
    await clock.advance(5)
    assert len(batch.calls) == 1  # nothing was sent for it
    assert (await reader.read(["b"]))["b"].run_id == "b"  # and the budget it did not spend is there
    assert len(batch.calls) == 2


async def test_an_id_another_caller_still_waits_for_is_kept():
    batch, clock, reader = make(per_second=1, burst=1)
    batch.add("a", "b")
    await reader.read(["a"])
    gone = asyncio.ensure_future(reader.read(["b"]))
    staying = asyncio.ensure_future(reader.read(["b"]))
    await settle()
    gone.cancel()
    await clock.advance(1)
    assert (await staying)["b"].run_id == "b" and batch.calls == [["a"], ["b"]]


async def test_work_for_a_caller_whose_deadline_passed_is_not_sent():
    batch, clock, reader = make(per_second=1, burst=1)
    batch.add("a", "b")
    await reader.read(["a"])

    async def with_deadline():
        token = deadline.set_remaining(0.0)  # already passed when the budget allows the call
        try:
            return await reader.read(["b"])
        finally:
            deadline.reset(token)

    late = asyncio.ensure_future(with_deadline())
    await clock.advance(1)
    with pytest.raises(errors.DeadlineExceeded):
        await late
    assert batch.calls == [["a"]]


async def test_one_callers_flood_delays_another_callers_read_by_about_one_call():
    batch, clock, reader = make(per_second=10, burst=1)  # one call per 0.1 s
    flood = [f"unknown-{i}" for i in range(5000)]  # 50 calls' worth from mallory
    batch.add("bob-run")
    flooding = [asyncio.ensure_future(reader.read(flood[i : i + 1000], key="mallory")) for i in range(0, 5000, 1000)]
    await settle()
    started = clock.monotonic()
    bobs = asyncio.ensure_future(reader.read(["bob-run"], key="bob"))
    while not bobs.done():
        await clock.advance(0.05)
    assert clock.monotonic() - started <= 0.25  # the next call after the one being paid for
    assert (await bobs)["bob-run"].run_id == "bob-run"
    for task in flooding:
        task.cancel()
    await settle()
