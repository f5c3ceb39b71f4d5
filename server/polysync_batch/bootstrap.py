"""The composition root: configuration → one set of use cases, watch hub and AWS adapters per
platform. The CLI and the tests build platforms only through here."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Executor

import boto3

from polysync_batch.aws.batch import BatchAdapter
from polysync_batch.aws.calls import AwsCaller
from polysync_batch.aws.clients import make_clients
from polysync_batch.aws.credentials import build_session
from polysync_batch.aws.events import DaemonThreads, SqsEventQueue, ensure_event_queue
from polysync_batch.aws.idempotency import DynamoDBLedger
from polysync_batch.aws.identity import IdentityAdapter
from polysync_batch.aws.logs import LogsAdapter
from polysync_batch.aws.translate import RunContext
from polysync_batch.config import Config, ConfigError, EventsConfig, PlatformConfig, WatchConfig
from polysync_batch.domain import errors
from polysync_batch.domain.models import PlatformInfo
from polysync_batch.feed import _prehook
from polysync_batch.feed.discovery import Discovery
from polysync_batch.feed.feed import RunFeed
from polysync_batch.feed.history import MemoryHistory
from polysync_batch.observability.metrics import AwsCallMetrics
from polysync_batch.service.logs import LogService
from polysync_batch.service.pipelines import PipelineService
from polysync_batch.service.registry import PlatformRegistry, PlatformServices
from polysync_batch.service.runs import RunService
from polysync_batch.watch.budget import AdaptiveBudget
from polysync_batch.watch.clock import Clock
from polysync_batch.watch.events import EventConsumer
from polysync_batch.watch.hub import RunHub

DEMO_PLATFORM = "demo"
# Demo jobs take seconds, so the demo polls faster than the production default.
DEMO_POLL_INTERVAL_SECONDS = 1.0


def build_platform(
    info: PlatformInfo,
    session: boto3.Session,
    executor: Executor | None,
    *,
    endpoint_url: str | None,
    watch: WatchConfig,
    aws: PlatformConfig | None = None,
    clock: Clock | None = None,
) -> PlatformServices:
    """One platform's services over boto3 clients of `session`; `aws` gives the retry and
    timeout settings (a platform's own, else the defaults)."""
    aws = aws or PlatformConfig(region=info.region)
    clients = make_clients(
        session,
        region=info.region,
        endpoint_url=endpoint_url,
        retry_mode=aws.retry_mode,
        max_attempts=aws.max_attempts,
        connect_timeout=aws.connect_timeout_seconds,
        read_timeout=aws.read_timeout_seconds,
        dynamodb=aws.idempotency_table is not None,
        event_queue=aws.events is not None,
        create_event_rule=aws.events is not None and aws.events.create,
        metrics=AwsCallMetrics(info.name),
    )
    call = AwsCaller(executor, info.name, info.region)
    ctx = RunContext(info.name, info.region, info.console_domain, info.runnable_warning_seconds)
    batch = BatchAdapter(clients.batch, clients.batch_submit, call, ctx)
    hub = RunHub(info.name, batch.describe_runs, watch, clock)
    events = None
    if aws.events is not None:
        events = _event_consumer(info, clients, aws.events, ctx, hub, watch)
    pipelines = PipelineService(info, batch)
    submit_budget = AdaptiveBudget(aws.submit_jobs_per_second, max(1, int(aws.submit_jobs_per_second)), hub.clock)
    ledger = None
    if aws.idempotency_table is not None:
        ledger = DynamoDBLedger(clients.dynamodb, aws.idempotency_table, aws.idempotency_ttl_seconds, call)
    # A live claimer renews its claim before each SubmitJob, which takes at most one attempt's timeouts.
    lease = aws.connect_timeout_seconds + aws.read_timeout_seconds + 5
    runs = RunService(
        info,
        batch,
        pipelines,
        hub,
        submit_budget,
        submit_attempts=aws.max_attempts,
        ledger=ledger,
        claim_lease_seconds=lease,
    )
    logs = LogService(runs, LogsAdapter(clients.logs, call), hub.clock, watch.poll_interval_seconds)
    feed, discovery = _run_feed(info, aws, hub, batch, watch)
    return PlatformServices(
        feed=feed,
        feed_sources=(discovery,),
        info=info,
        pipelines=pipelines,
        runs=runs,
        logs=logs,
        hub=hub,
        batch=batch,
        identity=IdentityAdapter(clients.sts, clients.iam, call),
        clients=clients,
        events=events,
    )


def _run_feed(
    info: PlatformInfo, aws: PlatformConfig, hub: RunHub, batch: BatchAdapter, watch: WatchConfig
) -> tuple[RunFeed, Discovery]:
    """The run changes feed (SPEC §12): fed by the hub's change hook, and by its own discovery
    of the platform's queues (ListJobs), which reads what it finds through the hub."""
    queues = [info.default_job_queue, *(getattr(aws, "job_queues", None) or [])]
    names = {queue.rsplit("/", 1)[-1] for queue in queues if queue}
    feed = RunFeed(
        info.name,
        MemoryHistory(info.name),
        lambda run: run.job_queue.rsplit("/", 1)[-1] in names,
        watch.heartbeat_seconds,
        hub.clock.wall,
    )
    _prehook.install(hub, feed.listener)
    interval = aws.events.reconcile_interval_seconds if aws.events is not None else watch.poll_interval_seconds
    discovery = Discovery(info.name, sorted(names), batch, _prehook.fetcher(hub), feed, hub.clock.wall, interval)
    hub.on_close(lambda: feed.close(errors.server_shutting_down()))
    hub.on_close(discovery.close)
    return feed, discovery


def _event_consumer(
    info: PlatformInfo, clients, settings: EventsConfig, ctx: RunContext, hub: RunHub, watch: WatchConfig
) -> EventConsumer:
    """The platform's event source: its SQS queue read through the platform's credentials, in
    daemon threads of its own (a long poll blocks a thread for up to 20 s)."""
    call = AwsCaller(DaemonThreads(), info.name, info.region)
    queue = SqsEventQueue(
        clients.sqs, call, settings.sqs_queue_url, ctx, settings.account_id, settings.wait_time_seconds
    )
    prepare = None
    if settings.create:

        async def prepare() -> None:
            await call(
                "CreateQueue",
                ensure_event_queue,
                {"queue": settings.queue_name},
                sqs=clients.sqs,
                events=clients.events,
                queue_name=settings.queue_name,
                rule_name=f"polysync-batch-{settings.queue_name}"[:64],
            )

    return EventConsumer(
        hub,
        queue,
        settings.reconcile_interval_seconds,
        max_backoff_seconds=watch.max_backoff_seconds,
        prepare=prepare,
        receivers=settings.receivers,
    )


def platforms_from_config(config: Config, environ: Mapping[str, str], executor: Executor) -> PlatformRegistry:
    platforms = {}
    for name, platform in config.platforms.items():
        try:
            session = build_session(
                platform.auth, region=platform.region, endpoint_url=platform.endpoint_url, environ=environ
            )
        except ConfigError as error:  # its keys are relative to the platform
            raise ConfigError(f"platforms.{name}.{error}") from None
        info = PlatformInfo(
            name=name,
            region=platform.region,
            default_job_queue=platform.default_job_queue or "",
            console_domain=platform.console_domain,
            runnable_warning_seconds=config.watch.runnable_warning_seconds,
        )
        platforms[name] = build_platform(
            info, session, executor, endpoint_url=platform.endpoint_url, watch=config.watch, aws=platform
        )
    return PlatformRegistry(platforms, config.default_platform_name)


def demo_watch(watch: WatchConfig) -> WatchConfig:
    """The demo's watch settings: faster polling unless the user set an interval."""
    if "poll_interval_seconds" in watch.model_fields_set:
        return watch
    return watch.model_copy(
        update={
            "poll_interval_seconds": DEMO_POLL_INTERVAL_SECONDS,
            "max_poll_interval_seconds": DEMO_POLL_INTERVAL_SECONDS * 5,
        }
    )


def demo_platforms(
    emulator, executor: Executor | None, watch: WatchConfig | None = None, max_attempts: int = 3, events: bool = True
) -> PlatformRegistry:
    """The `demo` platform on the embedded emulator, signed with its dummy credentials; event-driven
    (the emulator's own event queue) unless `events` is false or the emulator publishes none."""
    watch = watch or WatchConfig()
    session = boto3.Session(
        aws_access_key_id=emulator.access_key_id,
        aws_secret_access_key=emulator.secret_access_key,
        region_name=emulator.region,
    )
    info = PlatformInfo(
        name=DEMO_PLATFORM,
        region=emulator.region,
        default_job_queue=emulator.job_queue,
        console_domain=None,
        runnable_warning_seconds=watch.runnable_warning_seconds,
    )
    queue_url = getattr(emulator, "events_queue_url", None) if events else None
    platform = build_platform(
        info,
        session,
        executor,
        endpoint_url=emulator.endpoint_url,
        watch=watch,
        aws=PlatformConfig(
            region=emulator.region,
            max_attempts=max_attempts,
            events=EventsConfig(sqs_queue_url=queue_url) if queue_url else None,
        ),
    )
    return PlatformRegistry({DEMO_PLATFORM: platform}, DEMO_PLATFORM)
