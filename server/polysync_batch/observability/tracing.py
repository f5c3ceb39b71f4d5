"""OpenTelemetry tracing (SPEC §8.3), off unless `[tracing] endpoint` or the standard
OTEL_EXPORTER_OTLP_ENDPOINT is set: the standard grpc aio server instrumentation gives a span
per RPC (its parent taken from the caller's W3C `traceparent` metadata), and the standard
botocore instrumentation a child span per AWS call (the poller's and health probes' calls,
made for no RPC, are root spans of their own). When off nothing is imported, no
interceptor is added and botocore is not patched. The other OTEL_* variables (headers,
certificate, sampler, resource attributes) apply as the OpenTelemetry SDK defines them."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from polysync_batch.config import TracingConfig

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

OTLP_ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_ENDPOINT"
TRACES_ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"


class Tracing:
    """One tracer provider for the process: the server interceptor it gives, and botocore's
    instrumentation while started."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        self._botocore: Any = None

    def start(self) -> None:
        from opentelemetry.instrumentation.botocore import BotocoreInstrumentor

        self._botocore = BotocoreInstrumentor()
        self._botocore.instrument(tracer_provider=self.provider)

    def server_interceptor(self) -> Any:
        """A span per PlatformService call. grpc.* services (health probes, reflection) are
        left out: probes every few seconds are noise, not traces."""
        from opentelemetry.instrumentation.grpc import aio_server_interceptor, filters

        return aio_server_interceptor(
            tracer_provider=self.provider, filter_=filters.negate(filters.service_prefix("grpc."))
        )

    def stop(self, timeout: float = 3.0) -> None:
        """Unpatches botocore and flushes the spans still held, waiting at most `timeout`
        seconds: a collector that does not answer must not hold up the shutdown."""
        if self._botocore is not None:
            self._botocore.uninstrument()
            self._botocore = None
        flushing = threading.Thread(target=self.provider.shutdown, name="otel-shutdown", daemon=True)
        flushing.start()
        flushing.join(timeout)


def tracing_from_config(settings: TracingConfig, environ: Mapping[str, str]) -> Tracing | None:
    """Tracing exporting over OTLP/gRPC, or None when no endpoint is configured."""
    endpoint = settings.endpoint
    if endpoint is None and not (environ.get(OTLP_ENDPOINT_ENV) or environ.get(TRACES_ENDPOINT_ENV)):
        return None
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: settings.service_name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return Tracing(provider)
