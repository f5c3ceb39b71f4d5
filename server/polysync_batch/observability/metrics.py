"""Prometheus metrics (SPEC §8.3, names fixed): RPCs in the go-grpc-prometheus convention, AWS
calls as botocore sends them, and the watch hubs' gauges. Every server gets a registry of its
own (never prometheus-client's global one), so a process can run many servers, and serves it
on a port of its own, never the gRPC port.

AWS call metrics are kept per platform (`AwsCallMetrics`, made with the platform's clients and
fed by a botocore hook, aws/clients.py); the server's registry collects them, and reads the
hubs' gauges, at scrape time."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import start_http_server

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

# go-grpc-prometheus spells grpc_code as Go's codes.Code does; grpc.StatusCode names → those.
GO_CODE_NAMES = {
    "OK": "OK",
    "CANCELLED": "Canceled",
    "UNKNOWN": "Unknown",
    "INVALID_ARGUMENT": "InvalidArgument",
    "DEADLINE_EXCEEDED": "DeadlineExceeded",
    "NOT_FOUND": "NotFound",
    "ALREADY_EXISTS": "AlreadyExists",
    "PERMISSION_DENIED": "PermissionDenied",
    "RESOURCE_EXHAUSTED": "ResourceExhausted",
    "FAILED_PRECONDITION": "FailedPrecondition",
    "ABORTED": "Aborted",
    "OUT_OF_RANGE": "OutOfRange",
    "UNIMPLEMENTED": "Unimplemented",
    "INTERNAL": "Internal",
    "UNAVAILABLE": "Unavailable",
    "DATA_LOSS": "DataLoss",
    "UNAUTHENTICATED": "Unauthenticated",
}
# Prometheus' (and go-grpc-prometheus') default buckets, in seconds.
RPC_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
AWS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class RpcMetrics:
    """grpc_server_* for one server. The call chain's metrics step (api/chain/metrics.py) calls these."""

    def __init__(self, registry: CollectorRegistry) -> None:
        method = ["grpc_type", "grpc_service", "grpc_method"]
        self.started = Counter(
            "grpc_server_started_total", "Total number of RPCs started on the server.", method, registry=registry
        )
        self.handled = Counter(
            "grpc_server_handled_total",
            "Total number of RPCs completed on the server, regardless of success or failure.",
            [*method, "grpc_code"],
            registry=registry,
        )
        self.handling = Histogram(
            "grpc_server_handling_seconds",
            "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
            method,
            buckets=RPC_BUCKETS,
            registry=registry,
        )
        self.sent = Counter(
            "grpc_server_msg_sent_total",
            "Total number of gRPC stream messages sent by the server.",
            method,
            registry=registry,
        )


class AwsCallMetrics:
    """One platform's AWS call attempts, recorded from botocore's own send path (so retries
    count). Not registered anywhere: a server's registry collects it (ServerMetrics)."""

    def __init__(self, platform: str) -> None:
        self.platform = platform
        self.calls = Counter(
            "polysync_batch_aws_calls",
            "AWS API call attempts, by operation and outcome (ok, the AWS error code, network, timeout).",
            ["platform", "operation", "outcome"],
            registry=None,
        )
        self.seconds = Histogram(
            "polysync_batch_aws_call_seconds",
            "Duration of AWS API call attempts.",
            ["platform", "operation"],
            buckets=AWS_BUCKETS,
            registry=None,
        )
        self._calls: dict[tuple[str, str], Any] = {}  # label children, bound once (threads may race: harmless)
        self._seconds: dict[str, Any] = {}

    def record(self, operation: str, outcome: str, seconds: float) -> None:
        calls = self._calls.get((operation, outcome))
        if calls is None:
            calls = self._calls[operation, outcome] = self.calls.labels(self.platform, operation, outcome)
        duration = self._seconds.get(operation)
        if duration is None:
            duration = self._seconds[operation] = self.seconds.labels(self.platform, operation)
        calls.inc()
        duration.observe(seconds)

    def collect(self) -> Iterable[Metric]:
        return [*self.calls.collect(), *self.seconds.collect()]


class WatchedPlatform(Protocol):
    """What the gauges need from a platform: its name, hub and AWS call metrics."""

    @property
    def info(self): ...

    @property
    def hub(self): ...

    @property
    def clients(self): ...


class PlatformCollector:
    """Collects, at scrape time, the AWS call metrics of every platform (merged into one family
    each), the hubs' gauges (open Watch* streams, watched runs, poll lag) and the event consumers'
    outcomes and health."""

    def __init__(self, platforms: Iterable[WatchedPlatform], clock=time.monotonic) -> None:
        self._platforms = list(platforms)
        self._clock = clock

    def collect(self) -> Iterator[Metric]:
        merged: dict[str, Metric] = {}
        for platform in self._platforms:
            aws = getattr(platform.clients, "metrics", None)
            for family in aws.collect() if aws is not None else ():
                target = merged.setdefault(family.name, Metric(family.name, family.documentation, family.type))
                target.samples.extend(family.samples)
        yield from merged.values()
        streams = GaugeMetricFamily("polysync_batch_watch_streams", "Open Watch* streams.", labels=["platform"])
        runs = GaugeMetricFamily(
            "polysync_batch_watched_runs", "Non-terminal runs the poller follows.", labels=["platform"]
        )
        lag = GaugeMetricFamily(
            "polysync_batch_poll_lag_seconds",
            "Age of the oldest watched run's last poll (0 when no run is watched).",
            labels=["platform"],
        )
        events = CounterMetricFamily(
            "polysync_batch_events",
            "Event queue messages by what became of them "
            "(applied, duplicate, stale, untracked, malformed, foreign, error).",
            labels=["platform", "outcome"],
        )
        healthy = GaugeMetricFamily(
            "polysync_batch_events_healthy",
            "1 while the platform's last ReceiveMessage succeeded (watches are polled only to reconcile), else 0.",
            labels=["platform"],
        )
        for platform in self._platforms:
            stats = platform.hub.stats()
            streams.add_metric([platform.info.name], stats.streams)
            runs.add_metric([platform.info.name], stats.watched_runs)
            lag.add_metric([platform.info.name], stats.oldest_poll_age_seconds)
            consumer = getattr(platform, "events", None)  # only platforms with an event queue
            if consumer is not None:
                for outcome, count in sorted(consumer.counts.items()):
                    events.add_metric([platform.info.name, outcome], count)
                healthy.add_metric([platform.info.name], 1 if consumer.healthy else 0)
        yield from (streams, runs, lag, events, healthy)


@dataclass
class MetricsEndpoint:
    """The /metrics HTTP server of one gRPC server."""

    httpd: WSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


class ServerMetrics:
    """Everything one server exposes: its own registry, the RPC metrics, the platforms' AWS
    metrics and gauges, and (once served) the HTTP endpoint."""

    def __init__(self, platforms: Iterable[WatchedPlatform]) -> None:
        disable_created_metrics()  # no *_created series: go-grpc-prometheus has none
        self.registry = CollectorRegistry(auto_describe=False)
        self.rpc = RpcMetrics(self.registry)
        self.registry.register(PlatformCollector(platforms))
        self.endpoint: MetricsEndpoint | None = None

    def serve(self, address: str) -> MetricsEndpoint:
        """Serves /metrics at `address` (HOST:PORT; port 0 picks one) in a daemon thread."""
        host, _, port = address.rpartition(":")
        try:
            httpd, thread = start_http_server(int(port), addr=host.strip("[]"), registry=self.registry)
        except OSError as error:
            raise OSError(f"metrics.address {address}: cannot listen: {error.strerror or error}") from None
        self.endpoint = MetricsEndpoint(httpd, thread)
        return self.endpoint

    def stop(self) -> None:
        if self.endpoint is not None:
            self.endpoint.stop()
            self.endpoint = None
