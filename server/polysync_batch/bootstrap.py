"""The composition root: configuration → one set of use cases, watch core and AWS adapters per
platform. The CLI and the tests build platforms only through here.

The watch core of a platform (`build_watch`) is wired here and nowhere else: the one
DescribeJobs reader (watch/reader.py) over the adapter; the hub (watch/hub.py, the service's
`RunStates`) reading through it; the poller (watch/poller.py) reading through it with its own
fair share, reporting to the hub and following its watched runs; and, with an event queue, the
event source (watch/event_source.py) feeding the hub and switching the poller to
reconciliation. None of them constructs or reaches into another."""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Awaitable, Callable, Hashable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass

import boto3

from polysync_batch.aws.batch import BatchAdapter
from polysync_batch.aws.calls import AwsCaller
from polysync_batch.aws.clients import make_clients, record_attempt
from polysync_batch.aws.credentials import build_session
from polysync_batch.aws.event_process import ProcessEventQueue
from polysync_batch.aws.event_queue import DaemonThreads, SqsEventQueue, ensure_event_queue
from polysync_batch.aws.history import DynamoHistory
from polysync_batch.aws.idempotency import DynamoDBLedger
from polysync_batch.aws.identity import IdentityAdapter
from polysync_batch.aws.logs import LogsAdapter
from polysync_batch.aws.translate import RunContext
from polysync_batch.config import Config, ConfigError, EventsConfig, PlatformConfig, WatchConfig
from polysync_batch.domain import errors
from polysync_batch.domain.models import PlatformInfo, Run
from polysync_batch.domain.queues import QueueScope
from polysync_batch.feed.discovery import Discovery
from polysync_batch.feed.feed import RunFeed
from polysync_batch.feed.history import MemoryHistory
from polysync_batch.observability.metrics import AwsCallMetrics
from polysync_batch.service.blocked_queues import BlockedQueues
from polysync_batch.service.budget import AdaptiveBudget, RateBudget
from polysync_batch.service.logs import LogService
from polysync_batch.service.pipelines import PipelineService
from polysync_batch.service.ports import Clock, EventQueuePort, Source
from polysync_batch.service.registry import PlatformRegistry, PlatformServices
from polysync_batch.service.runs import RunService
from polysync_batch.watch.clock import SystemClock
from polysync_batch.watch.event_source import EventConsumer
from polysync_batch.watch.hub import RunHub
from polysync_batch.watch.poller import RunPoller
from polysync_batch.watch.reader import DescribeReader

DEMO_PLATFORM = "demo"
log = logging.getLogger(__name__)
# The poller's own fair share of the DescribeJobs budget (watch/reader.py).
POLL_SHARE = "poll"
FEED_SHARE = "feed"  # the feed's discovery reads
# Demo jobs take seconds, so the demo polls faster than the production default.
DEMO_POLL_INTERVAL_SECONDS = 1.0


@dataclass(frozen=True)
class Watch:
    """One platform's watch core, as wired by build_watch."""

    hub: RunHub
    reader: DescribeReader
    poller: RunPoller
    clock: Clock


def _caller_share() -> Hashable | None:
    """The identified caller of the current RPC, if any: each has its own fair share of the
    DescribeJobs budget (else each call has one)."""
    from polysync_batch.api.chain.call import current_caller

    return current_caller.get()


def build_watch(
    platform: str,
    describe: Callable[[list[str]], Awaitable[list[Run]]],
    settings: WatchConfig,
    clock: Clock | None = None,
    share_key: Callable[[], Hashable | None] | None = _caller_share,
) -> Watch:
    """The reader, the hub and the poller of one platform, wired (tests build theirs here too)."""
    clock = clock or SystemClock()
    budget = RateBudget(settings.describe_jobs_per_second, settings.describe_jobs_burst, clock)
    reader = DescribeReader(describe, budget, clock, settings.batch_gap_seconds, share_key)
    hub = RunHub(platform, reader.read, settings, clock)

    async def poll_read(run_ids: list[str]) -> dict[str, Run | None]:
        return await reader.read(run_ids, key=POLL_SHARE)

    poller = RunPoller(platform, hub, poll_read, settings, clock)
    hub.follow(poller)
    hub.on_close(poller.close)
    hub.on_close(reader.close)
    return Watch(hub, reader, poller, clock)


def attach_events(
    watch: Watch,
    queue: EventQueuePort,
    settings: WatchConfig,
    *,
    reconcile_interval_seconds: float,
    wait_time_seconds: float = 20.0,
    prepare: Callable[[], Awaitable[None]] | None = None,
    receivers: int = 1,
    blocked: BlockedQueues | None = None,
    consuming: Callable[[], bool] = lambda: True,
    relay_ok: Callable[[], bool] = lambda: True,
) -> EventConsumer:
    """The event source of a platform's watch core: feeds the hub, tells the poller whether
    events flow, hands blocked queues to `blocked`; stops when the hub closes."""
    consumer = EventConsumer(
        watch.hub.platform,
        queue,
        watch.hub.observe,
        watch.poller.reconcile_every,
        watch.clock,
        reconcile_interval_seconds=reconcile_interval_seconds,
        poll_interval_seconds=settings.poll_interval_seconds,
        wait_time_seconds=wait_time_seconds,
        max_backoff_seconds=settings.max_backoff_seconds,
        prepare=prepare,
        receivers=receivers,
        blocked=blocked.record if blocked is not None else None,
        consuming=consuming,
        relay_ok=relay_ok,
    )
    watch.hub.on_close(consumer.close)
    return consumer


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
        dynamodb=aws.idempotency_table is not None or aws.history_table is not None,
        event_queue=aws.events is not None,
        create_event_rule=aws.events is not None and aws.events.create,
        metrics=AwsCallMetrics(info.name),
    )
    call = AwsCaller(executor, info.name, info.region)
    ctx = RunContext(info.name, info.region, info.console_domain, info.runnable_warning_seconds)
    batch = BatchAdapter(clients.batch, clients.batch_submit, call, ctx, clients.batch_wire)
    core = build_watch(info.name, batch.describe_runs, watch, clock)
    hub = core.hub
    # The feed's history (SPEC §12): in the table every replica shares, else in the process.
    history: MemoryHistory | DynamoHistory = MemoryHistory(info.name)
    if aws.history_table is not None:
        history = DynamoHistory(info.name, clients.dynamodb, aws.history_table, aws.history_retention_seconds, call)
        # What a replica tails reaches its watchers, whichever replica saw the change.
        history.subscribe(lambda changes: [hub.observe(c.run, Source.EVENT, c.time) for c in changes])
    events = blocked = None
    if aws.events is not None:  # "Batch Job Queue Blocked" events come with the job events (SPEC §13)
        blocked = BlockedQueues(info.name, hub.get_many, hub.redeliver)
        hub.on_change(blocked.on_change)
        events = _event_consumer(info, clients, aws.events, ctx, core, watch, history, blocked)
    pipelines = PipelineService(info, batch)
    submit_budget = AdaptiveBudget(aws.submit_jobs_per_second, max(1, int(aws.submit_jobs_per_second)), core.clock)
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
        core.clock,
        submit_attempts=aws.max_attempts,
        ledger=ledger,
        claim_lease_seconds=lease,
        queues=QueueScope.of(info.name, info.default_job_queue, aws.job_queues),
        archive=history if isinstance(history, DynamoHistory) else None,
        blocked_queues=blocked,
    )
    logs = LogService(
        runs, LogsAdapter(clients.logs, call), core.clock, watch.poll_interval_seconds, aws.get_log_events_per_second
    )
    feed, discovery = _run_feed(info, aws, core, batch, watch, history)
    return PlatformServices(
        feed=feed,
        # Discovery starts with the first feed stream, or at once when a table keeps the history.
        feed_sources=(feed, discovery) if aws.history_table is not None else (feed,),
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
    info: PlatformInfo,
    aws: PlatformConfig,
    core: Watch,
    batch: BatchAdapter,
    watch: WatchConfig,
    history: MemoryHistory | DynamoHistory,
) -> tuple[RunFeed, Discovery]:
    """The run changes feed (SPEC §12) of the platform's queues: a listener of the hub's change
    hook, fed also by its own discovery (ListJobs), which reads what it finds through the
    platform's DescribeJobs reader (a fair share of its own) into the hub. Events of the
    covered queues are applied even for runs nobody watches."""
    queues = [info.default_job_queue, *(aws.job_queues or [])]
    names = {queue.rsplit("/", 1)[-1] for queue in queues if queue}

    def covers(run: Run) -> bool:
        return run.job_queue.rsplit("/", 1)[-1] in names

    feed = RunFeed(info.name, history, covers, watch.heartbeat_seconds, core.clock.wall)
    core.hub.on_change(feed.listener)
    core.hub.admit_events(covers)

    async def fetch(run_ids: list[str]) -> dict[str, Run | None]:
        found = await core.reader.read(run_ids, key=FEED_SHARE)
        for run in found.values():
            if run is not None:
                core.hub.observe(run, Source.POLL)
        return found

    interval = aws.events.reconcile_interval_seconds if aws.events is not None else watch.poll_interval_seconds
    # With a table only its writer discovers (one replica's AWS calls, not N); the others tail it.
    active = (lambda: history.leader) if isinstance(history, DynamoHistory) else (lambda: True)
    # A run a round read, or listed unchanged, is confirmed until the round after next would have
    # confirmed it again (rounds start `interval` after the previous one ends); past that, the
    # watch core's reconcile reads it as before (this replica stopped discovering, or rounds fail).
    discovery = Discovery(
        info.name,
        sorted(names),
        batch,
        fetch,
        feed,
        core.clock.wall,
        interval,
        active,
        confirm=lambda run_ids: core.poller.confirmed(run_ids, 2 * interval),
    )
    feed.before_streams(discovery.ready)
    core.hub.on_close(lambda: feed.close(errors.server_shutting_down()))
    core.hub.on_close(discovery.close)
    return feed, discovery


def _event_consumer(
    info: PlatformInfo,
    clients,
    settings: EventsConfig,
    ctx: RunContext,
    core: Watch,
    watch: WatchConfig,
    history: MemoryHistory | DynamoHistory,
    blocked: BlockedQueues | None = None,
) -> EventConsumer:
    """The platform's event source: its SQS queue read through the platform's credentials, in
    daemon threads of its own (a long poll blocks a thread for up to 20 s). With a history
    table only its writer receives (replicas may share one queue): the others get every change
    from the table's tail."""
    call = AwsCaller(DaemonThreads(), info.name, info.region)
    queue: SqsEventQueue | ProcessEventQueue
    if settings.ingest_processes and clients.sqs_wire is not None:
        queue = ProcessEventQueue(
            {
                **clients.sqs_wire.settings(),
                "queue_url": settings.sqs_queue_url,
                "account_id": settings.account_id,
                "wait_seconds": settings.wait_time_seconds,
                "receivers": settings.receivers,
                "ctx": dataclasses.asdict(ctx),
            },
            clients.sqs_wire.credentials,
            functools.partial(record_attempt, clients.metrics) if clients.metrics is not None else None,
            processes=settings.ingest_processes,
        )
    else:
        if settings.ingest_processes:
            log.warning("platform %s: events.ingest_processes needs no proxy or client certificate; off", info.name)
        sqs = clients.sqs_wire or clients.sqs  # aws/wire.py where it can send as the boto3 client would
        queue = SqsEventQueue(sqs, call, settings.sqs_queue_url, ctx, settings.account_id, settings.wait_time_seconds)
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

    return attach_events(
        core,
        queue,
        watch,
        reconcile_interval_seconds=settings.reconcile_interval_seconds,
        wait_time_seconds=settings.wait_time_seconds,
        prepare=prepare,
        receivers=settings.receivers,
        blocked=blocked,
        **(
            {"consuming": lambda: history.leader, "relay_ok": lambda: history.tail_ok and history.writer_alive}
            if isinstance(history, DynamoHistory)
            else {}
        ),
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
    emulator,
    executor: Executor | None,
    watch: WatchConfig | None = None,
    max_attempts: int = 3,
    events: bool = True,
    history: bool = False,
    ingest_processes: int = 0,
    events_wait_seconds: int = 20,
) -> PlatformRegistry:
    """The `demo` platform on the embedded emulator, signed with its dummy credentials; event-driven
    (the emulator's own event queue) unless `events` is false or the emulator publishes none;
    with `history` (what `serve` does), the feed's history in the emulator's own DynamoDB table
    (tests that share one emulator leave it off, so their servers' histories stay apart)."""
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
            events=EventsConfig(
                sqs_queue_url=queue_url, ingest_processes=ingest_processes, wait_time_seconds=events_wait_seconds
            )
            if queue_url
            else None,
            history_table=getattr(emulator, "history_table", None) if history else None,
        ),
    )
    return PlatformRegistry({DEMO_PLATFORM: platform}, DEMO_PLATFORM)
