"""build_server: the grpc.aio server with PlatformService, health and reflection behind the
call chain (api/chain/), and its ordered shutdown. Tests call it with address 127.0.0.1:0."""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from polysync.platform.v1 import platform_service_pb2_grpc

from polysync_batch.api.chain.access import Access
from polysync_batch.api.chain.access_log import AccessLog
from polysync_batch.api.chain.answer_size import AnswerSize
from polysync_batch.api.chain.auth import Identify
from polysync_batch.api.chain.deadline import Deadline
from polysync_batch.api.chain.decoding import Decoding
from polysync_batch.api.chain.errors import ErrorMapping
from polysync_batch.api.chain.metrics import Metrics
from polysync_batch.api.chain.open_streams import OpenStreams
from polysync_batch.api.chain.runner import CallChain
from polysync_batch.api.chain.step import Step
from polysync_batch.api.chain.stream_limits import StreamLimits
from polysync_batch.api.health import SERVICE_NAME, PlatformHealth
from polysync_batch.api.reflection_pool import MethodAwarePool
from polysync_batch.api.servicer import PlatformServicer
from polysync_batch.api.tls import CertificateFiles
from polysync_batch.config import AccessConfig, CallerAuthConfig, ConfigError, MetricsConfig, ServerConfig
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
    chain: CallChain | None = None

    async def stop(self, grace: float | None) -> None:
        """Health NOT_SERVING first; then every stream (watches, logs, Health/Watch on either
        port, reflection) ends UNAVAILABLE SERVER_SHUTTING_DOWN at once (grpc's own stop would
        hold them for the whole grace period, then cancel them); unary calls get `grace`."""
        await self.health.shutdown()
        shutting_down = errors.server_shutting_down()
        for platform in self.platforms.all():
            platform.hub.close(shutting_down)
        if self.chain is not None and (streams := self.chain.step("open_streams")) is not None:
            streams.end_all(shutting_down)
        await self.server.stop(grace)
        if self.health_server is not None:
            await self.health_server.stop(None)
        if self.metrics is not None:
            self.metrics.stop()


def steps(
    platforms: PlatformRegistry,
    settings: ServerConfig,
    metrics: ServerMetrics | None = None,
    identify: Identify | None = None,
    access: Access | None = None,
) -> list[Step]:
    """The call chain's steps, outermost first: metrics and the access log see the final status
    of every call (refused callers included) before it is sent; the error mapping maps what
    every step after it or the handler raises. A new cross-cutting step is one module in
    api/chain/ and one line here."""
    return [
        *([Metrics(metrics.rpc)] if metrics is not None else []),
        AccessLog(platforms.default),
        ErrorMapping(),
        *([identify] if identify is not None else []),
        Decoding(),
        *([access] if access is not None else []),
        Deadline(),
        StreamLimits(settings.max_streams_per_caller, settings.max_unidentified_streams),
        OpenStreams(),
        AnswerSize(settings.max_message_bytes),
    ]


def interceptors(
    platforms: PlatformRegistry,
    metrics: ServerMetrics | None = None,
    tracing: Tracing | None = None,
    chain: CallChain | None = None,
) -> list[grpc.aio.ServerInterceptor]:
    """Tracing outermost, so the span covers the whole call; then the call chain. Metrics,
    tracing and auth add nothing when off."""
    chain = chain or CallChain(steps(platforms, ServerConfig(), metrics))
    return [*([tracing.server_interceptor()] if tracing is not None else []), chain]


def _refusal(key: str, address: str) -> ConfigError:
    flag = " (or --address)" if key == "server.address" else ""
    return ConfigError(
        f"{key}{flag}: cannot listen on {address}: the port is in use (another server?) or the host is "
        "not an address of this machine; choose another, e.g. --address 127.0.0.1:50052"
    )


def _check_free(key: str, address: str) -> None:
    """Binds `address` once without SO_REUSEPORT, so a taken port is refused in one line before
    grpc (which would log its own error lines) tries."""
    host, _, port = address.rpartition(":")
    if port == "0":
        return
    try:
        found = socket.getaddrinfo(
            host.strip("[]") or None, int(port), type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except (OSError, ValueError):
        return  # grpc says what is wrong with it
    family, kind, proto, _, where = found[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as grpc does: TIME_WAIT is no obstacle
        try:
            probe.bind(where)
        except OSError:
            raise _refusal(key, address) from None


def _listen(
    server: grpc.aio.Server, key: str, address: str, credentials: grpc.ServerCredentials | None, reuse_port: bool
) -> int:
    """Binds `address`; a port that is taken (or an address not on this host) stops start-up
    with one line naming the key to change."""
    if not reuse_port:
        _check_free(key, address)
    try:
        port = (
            server.add_insecure_port(address) if credentials is None else server.add_secure_port(address, credentials)
        )
    except RuntimeError:
        port = 0
    if port == 0:
        raise _refusal(key, address)
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
        # grpc sets SO_REUSEPORT by default: a second server on the same port would share its
        # connections silently (and runs would seem to vanish). Only for same-host rolling restarts.
        ("grpc.so_reuseport", 1 if settings.reuse_port else 0),
    ]
    server_metrics = ServerMetrics(platforms.all()) if metrics is not None and metrics.address else None
    identify, access_step = None, None
    if authenticator.enabled:
        identify = Identify(authenticator, certificates=mutual)
        access_step = Access(policy, enabled=True)
    chain = CallChain(steps(platforms, settings, server_metrics, identify, access_step))
    server = grpc.aio.server(options=options, interceptors=interceptors(platforms, tracing=tracing, chain=chain))
    platform_service_pb2_grpc.add_PlatformServiceServicer_to_server(PlatformServicer(platforms), server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    if settings.reflection:
        reflection.enable_server_reflection(
            [SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME],
            server,
            pool=MethodAwarePool(),
        )
    credentials = certificates.credentials() if certificates else None
    port = _listen(server, "server.address", settings.address, credentials, settings.reuse_port)
    health_server, health_port = None, None
    if settings.health_address is not None:  # for probes that speak neither TLS nor tokens
        # the same chain: its streams count against the same caps and end at shutdown
        health_server = grpc.aio.server(options=options, interceptors=[chain])
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, health_server)
        health_port = _listen(
            health_server, "server.health_address", settings.health_address, None, settings.reuse_port
        )
    if server_metrics is not None:
        server_metrics.serve(metrics.address)  # its own port; fails start-up like the main one
    platform_health = PlatformHealth(health_servicer, platforms, settings.health_check_interval_seconds)
    await server.start()
    if health_server is not None:
        await health_server.start()
    platforms.start()
    await platform_health.start()
    return RunningServer(
        server, port, platform_health, platforms, server_metrics, health_server, health_port, certificates, chain
    )
