"""build_server: the grpc.aio server with PlatformService, health and reflection. Tests call it
with address 127.0.0.1:0."""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from polysync.platform.v1 import platform_service_pb2, platform_service_pb2_grpc

from polysync_batch.health import SERVICE_NAME, PlatformHealth
from polysync_batch.platforms import Platforms
from polysync_batch.servicer import PlatformServicer
from polysync_batch.watch.run_watcher import RunWatcher


@dataclass
class ServerSettings:
    address: str = "127.0.0.1:50051"
    reflection: bool = True
    max_message_bytes: int = 4 * 1024 * 1024
    health_check_interval_seconds: float = 30.0


@dataclass
class RunningServer:
    server: grpc.aio.Server
    port: int
    health: PlatformHealth

    async def stop(self, grace: float | None) -> None:
        await self.health.shutdown()
        await self.server.stop(grace)


async def build_server(platforms: Platforms, watcher: RunWatcher, settings: ServerSettings) -> RunningServer:
    options = [
        ("grpc.max_receive_message_length", settings.max_message_bytes),
        ("grpc.max_send_message_length", settings.max_message_bytes),
    ]
    server = grpc.aio.server(options=options)
    platform_service_pb2_grpc.add_PlatformServiceServicer_to_server(PlatformServicer(platforms, watcher), server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    if settings.reflection:
        reflection.enable_server_reflection(
            [SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME],
            server)
    port = server.add_insecure_port(settings.address)
    if port == 0:
        raise OSError(f"cannot listen on {settings.address}")
    platform_health = PlatformHealth(health_servicer, platforms, settings.health_check_interval_seconds)
    await server.start()
    await platform_health.start()
    return RunningServer(server, port, platform_health)
