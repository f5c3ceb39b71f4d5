"""The feed's discovery rounds (feed/discovery.py): which AWS calls a reconcile round makes."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from polysync_batch.domain.models import ListedRun, Run
from polysync_batch.feed.discovery import Discovery

QUEUE = "q"


class Platform:
    """ListJobs and DescribeJobs of one queue, counted; jobs by id → (status, reason)."""

    def __init__(self, jobs: dict[str, tuple[str, str]]) -> None:
        self.jobs = jobs
        self.calls: Counter[str] = Counter()
        self.read: list[str] = []

    async def list_runs(self, job_queue, *, native_status=None, created_after=None) -> list[ListedRun]:
        matching = [
            ListedRun(run_id, status, reason)
            for run_id, (status, reason) in self.jobs.items()
            if created_after is None and status == native_status
        ]
        self.calls["ListJobs"] += max(1, -(-len(matching) // 1000))
        return matching

    async def fetch(self, ids: list[str]) -> dict[str, Run | None]:
        self.calls["DescribeJobs"] += 1
        self.read += ids
        return {run_id: object() if run_id in self.jobs else None for run_id in ids}  # type: ignore[misc]


class Feed:
    def __init__(self, known: dict[str, tuple[str, str]]) -> None:
        self.known = known
        self.dropped: list[str] = []

    def known_active(self) -> dict[str, ListedRun]:
        return {run_id: ListedRun(run_id, *state) for run_id, state in self.known.items()}

    def array_children(self) -> list[str]:
        return [run_id for run_id in self.known if ":" in run_id]

    def drop(self, run_id: str) -> None:
        self.dropped.append(run_id)

    def set_stale(self, since) -> None:
        pass


def discovery(platform: Platform, feed: Feed, confirmed: list[str] | None = None) -> Discovery:
    confirm = (lambda run_ids: confirmed.extend(run_ids)) if confirmed is not None else (lambda run_ids: None)
    return Discovery("p", [QUEUE], platform, platform.fetch, feed, lambda: datetime.now(UTC), 60.0, confirm=confirm)


async def test_a_quiet_platform_of_many_runs_is_reconciled_by_listing_not_reading():
    jobs = {f"job-{i}": ("RUNNABLE", "") for i in range(10_000)}
    platform, feed = Platform(jobs), Feed(dict(jobs))
    found = discovery(platform, feed)
    await found.round()  # the first round lists and reads everything
    platform.calls.clear()
    platform.read.clear()
    await found.round()
    # 1 AFTER_CREATED_AT listing + RUNNABLE, the one status the runs are in (10 pages), instead of
    # 100 DescribeJobs; the four statuses none of them is in are not listed.
    assert platform.calls == {"ListJobs": 11}
    assert platform.read == []


async def test_a_listed_run_that_changed_or_is_gone_is_read_and_no_other():
    jobs = {f"job-{i}": ("RUNNABLE", "") for i in range(2_000)}
    jobs["child-parent:0"] = ("RUNNING", "")
    platform, feed, confirmed = Platform(jobs), Feed(dict(jobs)), []
    found = discovery(platform, feed, confirmed)
    await found.round()
    assert sorted(confirmed) == sorted(jobs)  # all read in the first round: current now
    platform.read.clear()
    confirmed.clear()
    platform.jobs["job-1"] = ("STARTING", "")
    platform.jobs["job-2"] = ("RUNNABLE", "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY")
    del platform.jobs["job-3"]  # ended long ago and forgotten (or listed under a terminal status)
    await found.round()
    assert sorted(platform.read) == ["child-parent:0", "job-1", "job-2", "job-3"]
    assert feed.dropped == ["job-3"]
    # read or found unchanged, all but the gone one: the watch core's reconcile need not read them
    assert sorted(confirmed) == sorted(set(jobs) - {"job-3"})


async def test_a_run_that_moved_to_a_status_no_known_run_is_in_is_read():
    jobs = {f"job-{i}": ("RUNNABLE", "") for i in range(2_000)} | {f"run-{i}": ("RUNNING", "") for i in range(500)}
    platform, feed = Platform(jobs), Feed(dict(jobs))
    found = discovery(platform, feed)
    await found.round()
    platform.calls.clear()
    platform.read.clear()
    platform.jobs["job-7"] = ("STARTING", "")  # its event lost; STARTING is not listed
    await found.round()
    assert platform.calls == {"ListJobs": 4, "DescribeJobs": 1}  # created since, RUNNABLE (2 pages), RUNNING
    assert platform.read == ["job-7"]


async def test_a_small_platform_reads_its_runs_rather_than_listing_every_status():
    jobs = {f"job-{i}": ("RUNNING", "") for i in range(150)}
    platform, feed = Platform(jobs), Feed(dict(jobs))
    found = discovery(platform, feed)
    await found.round()
    platform.calls.clear()
    await found.round()
    assert platform.calls == {"ListJobs": 1, "DescribeJobs": 2}
