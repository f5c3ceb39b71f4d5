"""grpc.health.v1 statuses: the whole server, PlatformService, and one entry per platform
("platform:<name>") kept current by a periodic, side-effect-free probe of its job queue."""

from __future__ import annotations

import asyncio
import logging

from grpc_health.v1 import health, health_pb2
from polysync.platform.v1 import platform_service_pb2

from polysync_batch.domain import errors
from polysync_batch.service.registry import PlatformRegistry

log = logging.getLogger(__name__)
SERVICE_NAME = platform_service_pb2.DESCRIPTOR.services_by_name["PlatformService"].full_name
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def platform_service_name(platform: str) -> str:
    return f"platform:{platform}"


class PlatformHealth:
    def __init__(
        self, servicer: health.aio.HealthServicer, platforms: PlatformRegistry, interval_seconds: float
    ) -> None:
        self.servicer = servicer
        self._platforms = platforms
        self._interval = interval_seconds
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        await self.servicer.set("", SERVING)
        await self.servicer.set(SERVICE_NAME, SERVING)
        if self._interval <= 0:  # probing off: platforms are reported SERVING without AWS calls
            for name in self._platforms.names():
                await self.servicer.set(platform_service_name(name), SERVING)
            return
        await self.probe_all()
        self._task = asyncio.create_task(self._loop(), name="platform-health")

    async def probe_all(self) -> None:
        await asyncio.gather(*(self._probe(name) for name in self._platforms.names()))

    async def _probe(self, name: str) -> None:
        platform = self._platforms.get(name)
        try:
            if platform.info.default_job_queue:
                queue = await platform.batch.job_queue(platform.info.default_job_queue)
                healthy = queue.exists and queue.state == "ENABLED"
            else:
                await platform.identity.caller_arn()
                healthy = True
        except errors.PlatformError as error:
            log.warning("platform %s is not healthy: %s", name, error.message)
            healthy = False
        await self.servicer.set(platform_service_name(name), SERVING if healthy else NOT_SERVING)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.probe_all()

    async def shutdown(self) -> None:
        """Health goes NOT_SERVING first, so load balancers stop sending before the server stops."""
        if self._task is not None:
            self._task.cancel()
        await self.servicer.enter_graceful_shutdown()
