"""build_server: the grpc.aio server with PlatformService, health and reflection behind the
interceptor chain, and its ordered shutdown. Tests call it with address 127.0.0.1:0."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from polysync.platform.v1 import platform_service_pb2_grpc

from polysync_batch.api.health import SERVICE_NAME, PlatformHealth
from polysync_batch.api.interceptors.access_log import AccessLog
from polysync_batch.api.interceptors.auth import Auth
from polysync_batch.api.interceptors.chain import CallChain
from polysync_batch.api.interceptors.metrics import RpcRecorder
from polysync_batch.api.reflection_pool import MethodAwarePool
from polysync_batch.api.servicer import PlatformServicer
from polysync_batch.api.stream_limits import StreamLimiter
from polysync_batch.api.tls import CertificateFiles
from polysync_batch.config import AccessConfig, CallerAuthConfig, MetricsConfig, ServerConfig
from polysync_batch.domain import errors, tokens
from polysync_batch.domain.access import AccessPolicy, PlatformAccess
from polysync_batch.observability.metrics import ServerMetrics
from polysync_batch.observability.tracing import Tracing
from polysync_batch.security.callers import Authenticator
from polysync_batch.service.registry import PlatformRegistry


@dataclass
class RunningServer:
    server: grpc.aio.Server
    port: int
    health: PlatformHealth
    platforms: PlatformRegistry
    metrics: ServerMetrics | None = None  # with metrics.endpoint.port, when [metrics] address is set
    health_server: grpc.aio.Server | None = None  # server.health_address: Health only, plaintext
    health_port: int | None = None
    certificates: CertificateFiles | None = None

    async def stop(self, grace: float | None) -> None:
        """Health NOT_SERVING first; then watch streams end UNAVAILABLE at once (grpc's own stop
        would hold them for the whole grace period, then cancel them); unary calls get `grace`."""
        await self.health.shutdown()
        for platform in self.platforms.all():
            platform.hub.close(errors.server_shutting_down())
        await self.server.stop(grace)
        if self.health_server is not None:
            await self.health_server.stop(None)
        if self.metrics is not None:
            self.metrics.stop()


def interceptors(
    platforms: PlatformRegistry,
    metrics: ServerMetrics | None = None,
    tracing: Tracing | None = None,
    auth: Auth | None = None,
) -> list[grpc.aio.ServerInterceptor]:
    """Tracing outermost, so the span covers the whole call; then the call chain (chain.py):
    metrics and the access log see the final status of every call (refused callers included),
    and errors raised by auth, the deadline or the handler are mapped alike. Metrics, tracing
    and auth add nothing when off."""
    chain = CallChain(AccessLog(platforms.default), RpcRecorder(metrics.rpc) if metrics is not None else None, auth)
    return [*([tracing.server_interceptor()] if tracing is not None else []), chain]


def _listen(server: grpc.aio.Server, address: str, credentials: grpc.ServerCredentials | None) -> int:
    port = server.add_insecure_port(address) if credentials is None else server.add_secure_port(address, credentials)
    if port == 0:
        raise OSError(f"cannot listen on {address}")
    return port


async def build_server(
    platforms: PlatformRegistry,
    settings: ServerConfig,
    metrics: MetricsConfig | None = None,
    tracing: Tracing | None = None,
    *,
    auth: CallerAuthConfig | None = None,
    access: Mapping[str, AccessConfig | None] | None = None,
) -> RunningServer:
    """The server on `settings.address`; with `metrics.address`, /metrics on that port too; with
    `tracing` (started by the caller), a span per call. `auth` is the [auth] table and `access`
    each platform's access table (config.py); with neither (nor server.tls.client_ca_file)
    calls need no caller."""
    certificates = CertificateFiles(settings.tls) if settings.tls is not None else None
    mutual = settings.tls is not None and settings.tls.client_ca_file is not None
    authenticator = Authenticator(auth or CallerAuthConfig(), certificates=mutual)
    policy = AccessPolicy(
        {
            name: PlatformAccess.of(table.read, table.submit)
            for name, table in (access or {}).items()
            if table is not None
        },
        platforms.default,
    )
    tokens.use_key_file(settings.token_key_file)  # page tokens of every replica sharing the key
    await authenticator.start()
    options = [
        ("grpc.max_receive_message_length", settings.max_message_bytes),
        ("grpc.max_send_message_length", settings.max_message_bytes),
        ("grpc.server.max_pending_requests", settings.max_pending_requests),
        ("grpc.server.max_pending_requests_hard_limit", settings.max_pending_requests * 2),
        ("grpc.server_max_unrequested_time_in_server", settings.max_unrequested_seconds),
    ]
    server_metrics = ServerMetrics(platforms.all()) if metrics is not None and metrics.address else None
    auth_step = Auth(authenticator, policy, certificates=mutual) if authenticator.enabled else None
    server = grpc.aio.server(options=options, interceptors=interceptors(platforms, server_metrics, tracing, auth_step))
    streams = StreamLimiter(settings.max_streams_per_caller)
    platform_service_pb2_grpc.add_PlatformServiceServicer_to_server(PlatformServicer(platforms, streams), server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    if settings.reflection:
        reflection.enable_server_reflection(
            [SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME],
            server,
            pool=MethodAwarePool(),
        )
    port = _listen(server, settings.address, certificates.credentials() if certificates else None)
    health_server, health_port = None, None
    if settings.health_address is not None:  # for probes that speak neither TLS nor tokens
        health_server = grpc.aio.server(options=options)
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, health_server)
        health_port = _listen(health_server, settings.health_address, None)
    if server_metrics is not None:
        server_metrics.serve(metrics.address)  # its own port; fails start-up like the main one
    platform_health = PlatformHealth(health_servicer, platforms, settings.health_check_interval_seconds)
    await server.start()
    if health_server is not None:
        await health_server.start()
    platforms.start()
    await platform_health.start()
    return RunningServer(
        server, port, platform_health, platforms, server_metrics, health_server, health_port, certificates
    )
