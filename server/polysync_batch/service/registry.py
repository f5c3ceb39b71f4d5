"""The configured platforms by name, each with its use cases, its watch hub and the AWS
clients behind them, built once at start-up (bootstrap.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from polysync_batch.domain import errors
from polysync_batch.domain.models import PlatformInfo
from polysync_batch.service.logs import LogService
from polysync_batch.service.pipelines import PipelineService
from polysync_batch.service.ports import BatchPort, IdentityPort, RunStates
from polysync_batch.service.runs import RunService


@dataclass(frozen=True)
class PlatformServices:
    """One platform: what the servicer calls, and what health probes and shutdown need."""

    info: PlatformInfo
    pipelines: PipelineService
    runs: RunService
    logs: LogService
    hub: RunStates  # the watch core (watch/hub.py): its gauges and its close on shutdown
    batch: BatchPort
    identity: IdentityPort
    clients: Any  # the platform's boto3 clients (aws.clients.AwsClients), for diagnostics and tests
    events: Any = None  # the event source (watch.event_source.EventConsumer) with events.sqs_queue_url set
    feed: Any = None  # the run changes feed (feed.feed.RunFeed)
    feed_sources: tuple = ()  # what feeds it beyond the watch core (feed.discovery.Discovery), started with it


class PlatformRegistry:
    def __init__(self, platforms: dict[str, PlatformServices], default: str | None) -> None:
        self._platforms = platforms
        self.default = default

    def names(self) -> list[str]:
        return sorted(self._platforms)

    def all(self) -> list[PlatformServices]:
        return [self._platforms[name] for name in self.names()]

    def start(self) -> None:
        """Starts each platform's own sources of states (its event consumer); the hub's close
        stops them. Called once the event loop runs."""
        for platform in self.all():
            if platform.events is not None:
                platform.events.start()
            for source in platform.feed_sources:
                source.start()

    def get(self, name: str) -> PlatformServices:
        """The platform a request names; empty means the default one."""
        platform = self._platforms.get(name or self.default or "")
        if platform is None:
            raise errors.platform_not_found(name, self.names())
        return platform
