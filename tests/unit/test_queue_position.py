"""service/queue_position: one snapshot per queue per interval, no position past the first 100
or when the platform may not ask (said once)."""

import asyncio
import logging
from datetime import UTC, datetime

from polysync_batch.domain import errors
from polysync_batch.domain.errors import Reason
from polysync_batch.domain.models import Run
from polysync_batch.domain.status import RunStatus
from polysync_batch.service.queue_position import QueuePositions

SINCE = datetime(2026, 12, 1, tzinfo=UTC)


def run(run_id, native="RUNNABLE", queue="arn:q"):
    return Run(run_id, "p", "hello", 1, "", "n", queue, RunStatus.RUNNING, native, "", None, "", "", False)


class Snapshots:
    def __init__(self, ids, fail=None):
        self.ids, self.fail, self.calls = ids, fail, 0

    async def queue_front(self, job_queue):
        self.calls += 1
        if self.fail is not None:
            raise self.fail
        return [(job_id, SINCE) for job_id in self.ids]


def test_one_snapshot_per_queue_per_interval():
    now = [0.0]
    batch = Snapshots([f"j{i}" for i in range(150)])
    positions = QueuePositions("p", batch, interval_seconds=5, clock=lambda: now[0])

    async def scenario():
        first = await positions.annotate(run("j0"))
        third = await positions.annotate(run("j2"))
        beyond = await positions.annotate(run("j120"))  # not among the first 100
        running = await positions.annotate(run("j1", native="RUNNING"))
        assert (first.queue_position.position, third.queue_position.position) == (1, 3)
        assert first.queue_position.earliest_time_at_position == SINCE
        assert beyond.queue_position is None and running.queue_position is None
        assert batch.calls == 1
        now[0] = 6.0
        await positions.annotate(run("j0"))
        assert batch.calls == 2

    asyncio.run(scenario())


def test_denied_means_no_positions_and_one_log_line(caplog):
    denied = errors.PermissionDenied(Reason.AWS_ACCESS_DENIED, "AWS denied GetJobQueueSnapshot")
    batch = Snapshots([], fail=denied)
    positions = QueuePositions("p", batch, interval_seconds=0)

    async def scenario():
        for _ in range(3):
            assert (await positions.annotate(run("j0"))).queue_position is None

    with caplog.at_level(logging.WARNING):
        asyncio.run(scenario())
    assert batch.calls == 1
    assert len([r for r in caplog.records if "queue positions off" in r.getMessage()]) == 1
