"""The baseline the shared poller is measured against: every watch stream polls its own run
with its own DescribeJobs call each interval (how per-task pollers such as Airflow's sensors
behave), and every get is a DescribeJobs call. Same interface as the RunHub."""

from __future__ import annotations

import asyncio
import contextlib

from polysync_batch.config import WatchConfig
from polysync_batch.domain import errors
from polysync_batch.service.ports import DescribeRuns
from polysync_batch.watch.clock import SystemClock
from polysync_batch.watch.subscription import Subscription


class NaiveHub:
    def __init__(self, platform: str, describe: DescribeRuns, settings: WatchConfig) -> None:
        self.platform, self.settings, self.clock = platform, settings, SystemClock()
        self._describe = describe
        self._tasks: dict[Subscription, asyncio.Task] = {}
        self.describe_calls = 0

    async def _one(self, run_id: str):
        self.describe_calls += 1
        runs = await self._describe([run_id])
        return runs[0] if runs else None

    async def get(self, run_id: str):
        run = await self._one(run_id)
        if run is None:
            raise errors.run_not_found(run_id, self.platform)
        return run

    async def get_many(self, run_ids: list[str]):
        runs = await asyncio.gather(*(self._one(i) for i in run_ids))
        return dict(zip(run_ids, runs, strict=False))

    async def fetch(self, run_ids: list[str], source):
        return await self.get_many(run_ids)

    def observe(self, run, source, event_time=None) -> None:
        pass

    @contextlib.asynccontextmanager
    async def watch(self, run_ids: list[str]):
        subscription = await self.subscribe(run_ids)
        try:
            yield subscription.events(self.clock, self.settings.heartbeat_seconds)
        finally:
            self.unsubscribe(subscription)

    async def subscribe(self, run_ids: list[str]) -> Subscription:
        subscription = Subscription(run_ids)
        for run_id in subscription.run_ids:
            subscription.deliver(await self.get(run_id))
        self._tasks[subscription] = asyncio.ensure_future(self._follow(subscription))
        return subscription

    async def _follow(self, subscription: Subscription) -> None:
        while True:
            await asyncio.sleep(self.settings.poll_interval_seconds)
            for run_id in subscription.run_ids:
                run = await self._one(run_id)
                if run is not None:
                    subscription.deliver(run)

    def unsubscribe(self, subscription: Subscription) -> None:
        task = self._tasks.pop(subscription, None)
        if task is not None:
            task.cancel()

    def close(self, error) -> None:
        for subscription in list(self._tasks):
            subscription.fail(error)
            self.unsubscribe(subscription)
