"""The configured platforms by name, each with its shared boto3 clients, built once at start-up."""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass

import boto3

from polysync_batch.aws.clients import make_clients
from polysync_batch.aws.gateway import BatchGateway
from polysync_batch.aws.platform import BatchPlatform, PlatformInfo
from polysync_batch.domain import errors
from polysync_batch.watch.clock import Clock
from polysync_batch.watch.poller import RunPoller, WatchSettings


@dataclass(frozen=True)
class PlatformRuntime:
    info: PlatformInfo
    gateway: BatchGateway
    platform: BatchPlatform
    poller: RunPoller


class Platforms:
    def __init__(self, runtimes: dict[str, PlatformRuntime], default: str | None) -> None:
        self._runtimes = runtimes
        self.default = default

    def names(self) -> list[str]:
        return sorted(self._runtimes)

    def runtimes(self) -> list[PlatformRuntime]:
        return [self._runtimes[name] for name in self.names()]

    def get(self, name: str) -> PlatformRuntime:
        """The platform a request names; empty means the default one."""
        key = name or self.default or ""
        runtime = self._runtimes.get(key)
        if runtime is None:
            configured = ", ".join(self.names()) or "none"
            what = f"platform {name!r} is not configured" if name else "no platform given and no default_platform configured"
            raise errors.NotFound(
                "PLATFORM_NOT_FOUND", f"{what} (configured: {configured})",
                hint="Pass one of the configured platform names, or leave platform empty for the default.",
                metadata={"platform": name},
            )
        return runtime


def build_runtime(info: PlatformInfo, session: boto3.Session, executor: Executor | None, *,
                  endpoint_url: str | None, retry_mode: str = "standard", max_attempts: int = 5,
                  connect_timeout: float = 5, read_timeout: float = 30,
                  watch: WatchSettings = WatchSettings(), clock: Clock | None = None) -> PlatformRuntime:
    clients = make_clients(session, region=info.region, endpoint_url=endpoint_url, retry_mode=retry_mode,
                           max_attempts=max_attempts, connect_timeout=connect_timeout, read_timeout=read_timeout)
    gateway = BatchGateway(clients, executor, {"platform": info.name, "region": info.region})
    platform = BatchPlatform(info, gateway)
    return PlatformRuntime(info, gateway, platform, RunPoller(info.name, platform.describe_runs, watch, clock))
