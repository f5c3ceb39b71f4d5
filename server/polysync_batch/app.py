"""build_server: the grpc.aio server with PlatformService, health and reflection. Tests call it
with address 127.0.0.1:0."""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from polysync.platform.v1 import platform_service_pb2_grpc

from polysync_batch.domain import errors
from polysync_batch.health import SERVICE_NAME, PlatformHealth
from polysync_batch.platforms import Platforms
from polysync_batch.reflection_pool import MethodAwarePool
from polysync_batch.servicer import PlatformServicer
from polysync_batch.stream_limits import StreamLimiter


@dataclass
class ServerSettings:
    address: str = "127.0.0.1:50051"
    reflection: bool = True
    max_message_bytes: int = 4 * 1024 * 1024
    health_check_interval_seconds: float = 30.0
    max_streams_per_caller: int = 2000
    # grpc core queues at most 1000 (hard limit 3000) calls that have arrived but not yet been
    # picked up and cancels the rest, so a burst of 10,000 new watches loses most of them.
    max_pending_requests: int = 20000


SHUTTING_DOWN = errors.Unavailable(
    "SERVER_SHUTTING_DOWN", "the server is shutting down",
    hint="Reconnect (to another replica): the first message of a new watch is the run's current state.")


@dataclass
class RunningServer:
    server: grpc.aio.Server
    port: int
    health: PlatformHealth
    platforms: Platforms
    streams: StreamLimiter

    async def stop(self, grace: float | None) -> None:
        """Health NOT_SERVING first; then watch streams end UNAVAILABLE at once (grpc's own stop
        would hold them for the whole grace period, then cancel them); unary calls get `grace`."""
        await self.health.shutdown()
        for runtime in self.platforms.runtimes():
            runtime.poller.close(SHUTTING_DOWN)
        await self.server.stop(grace)


async def build_server(platforms: Platforms, settings: ServerSettings) -> RunningServer:
    options = [
        ("grpc.max_receive_message_length", settings.max_message_bytes),
        ("grpc.max_send_message_length", settings.max_message_bytes),
        ("grpc.server.max_pending_requests", settings.max_pending_requests),
        ("grpc.server.max_pending_requests_hard_limit", settings.max_pending_requests * 2),
    ]
    server = grpc.aio.server(options=options)
    streams = StreamLimiter(settings.max_streams_per_caller)
    platform_service_pb2_grpc.add_PlatformServiceServicer_to_server(PlatformServicer(platforms, streams), server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    if settings.reflection:
        reflection.enable_server_reflection(
            [SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME],
            server, pool=MethodAwarePool())
    port = server.add_insecure_port(settings.address)
    if port == 0:
        raise OSError(f"cannot listen on {settings.address}")
    platform_health = PlatformHealth(health_servicer, platforms, settings.health_check_interval_seconds)
    await server.start()
    await platform_health.start()
    return RunningServer(server, port, platform_health, platforms, streams)
