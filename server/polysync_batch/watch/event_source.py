"""A source of run states: the event queue of one platform. One task (or `receivers` of them)
long-polls the queue (SQS, fed by an EventBridge rule with AWS Batch's "Batch Job State Change"
events), hands each run's state to `observe(run, Source.EVENT, time)` — the hub's, which applies
it only forward — and deletes the messages it handled. It tells `flowing(seconds)` whether
events flow: while the queue answers, the poller only reconciles
(`events.reconcile_interval_seconds`); when it fails (an error, or a receive with no answer
after its wait time plus `RECEIVE_SLACK_SECONDS`), `flowing(None)` sends polling back to
`watch.poll_interval_seconds` at once and the consumer retries with backoff. Wired in
bootstrap.py; it knows neither the hub nor the poller.

With a history table shared by replicas that share one queue, only the table's writer receives
(`consuming()`): it records every event at once and every other replica applies what it tails
from the table (bootstrap.py), so no replica takes an event that only the writer's next
reconcile round would record. A replica that does not receive makes no SQS call; its poller
reconciles while `relay_ok()` (its tail of the table works) and polls otherwise.

`counts` (outcome → messages) and `healthy` are what polysync_batch_events_total{outcome} and
polysync_batch_events_healthy{platform} report."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime

from polysync_batch.domain.backoff import backoff
from polysync_batch.domain.models import QueuedEvent, Run
from polysync_batch.domain.queue_blocked import QueueBlocked
from polysync_batch.service.ports import Clock, EventQueuePort, Outcome, Source

log = logging.getLogger(__name__)
# A receive with no answer this long after its wait time is a hung queue: the queue is failing.
RECEIVE_SLACK_SECONDS = 10.0
# Every outcome a message can have (the metric's label values).
OUTCOMES = ("applied", "duplicate", "stale", "untracked", "malformed", "foreign", "error")
FIRST_BACKOFF_SECONDS = 1.0


class EventConsumer:
    def __init__(
        self,
        platform: str,
        queue: EventQueuePort,
        observe: Callable[[Run, Source, datetime | None], Outcome],
        flowing: Callable[[float | None], None],
        clock: Clock,
        *,
        reconcile_interval_seconds: float,
        poll_interval_seconds: float,
        wait_time_seconds: float = 20.0,
        max_backoff_seconds: float = 60.0,
        prepare: Callable[[], Awaitable[None]] | None = None,
        receivers: int = 1,
        consuming: Callable[[], bool] = lambda: True,
        relay_ok: Callable[[], bool] = lambda: True,
        standby_seconds: float = 0.5,
        blocked: Callable[[QueueBlocked], None] | None = None,
    ) -> None:
        self.platform = platform
        self._blocked = blocked  # a "Batch Job Queue Blocked" event's block (service/blocked_queues.py)
        self._queue = queue
        self._observe = observe
        self._flowing_to = flowing  # the poller's reconcile_every
        self._reconcile = reconcile_interval_seconds
        self._poll_interval = poll_interval_seconds
        self._wait_time = wait_time_seconds
        self._clock = clock
        self._max_backoff = max_backoff_seconds
        self._closed = False
        self._task: asyncio.Task | None = None
        self._receivers = receivers  # ReceiveMessage calls in flight at once (one queue, one consumer)
        self.counts: Counter[str] = Counter({outcome: 0 for outcome in OUTCOMES})
        self.healthy = False  # the last ReceiveMessage succeeded
        self.failure = ""  # why the queue is failing, while it is
        self.receives = 0
        self._prepare = prepare  # events.create: makes the queue and its rule before the first receive
        self._consuming = consuming  # False: another replica receives and relays (the history table)
        self._relay_ok = relay_ok
        self._standby = standby_seconds

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._run())

    def close(self) -> None:
        self._closed = True
        self._queue.close()
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        """The consumer's task: the first receiver until the queue has answered once (and after
        `events.create` made it), then `receivers` of them side by side: one round trip moves at
        most 10 messages, so one receiver alone caps a burst at a few hundred events a second."""
        await self._loop(first=True)
        others = [asyncio.ensure_future(self._loop()) for _ in range(self._receivers - 1)]
        try:
            await self._loop()
        finally:
            for other in others:
                other.cancel()

    async def _loop(self, first: bool = False) -> None:
        failures = 0
        while not self._closed and not (first and self.healthy):
            if not self._consuming():
                # Another replica receives; its changes arrive through the table's tail.
                if self._relay_ok():
                    self._flowing()
                else:
                    self._failing(RuntimeError("no replica holds the history table's lease, or its tail is failing"))
                await self._clock.sleep(self._standby)
                continue
            try:
                if self._prepare is not None:
                    await self._prepare()
                    self._prepare = None
                # A short poll first (and after a failure), so health is known at once.
                messages = await self._receive(long_poll=self.healthy)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                failures += 1
                self._failing(error)
                await self._clock.sleep(backoff(failures, FIRST_BACKOFF_SECONDS, self._max_backoff))
                continue
            failures = 0
            self.receives += 1
            self._flowing()
            receipts = [self._apply(message) for message in messages]
            try:
                await self._queue.delete([receipt for receipt in receipts if receipt])
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning(
                    "platform %s: deleting %d event messages failed (%s); they will be received again",
                    self.platform,
                    len(receipts),
                    _why(error),
                )

    async def _receive(self, long_poll: bool) -> list[QueuedEvent]:
        """One receive, bounded: no answer after its wait time plus RECEIVE_SLACK_SECONDS counts
        as a failure (the thread of a hung call is left to its read timeout)."""
        receive = asyncio.ensure_future(self._queue.receive(long_poll=long_poll))
        limit = (self._wait_time if long_poll else 0.0) + RECEIVE_SLACK_SECONDS
        timer = self._clock.call_later(limit, receive.cancel)
        try:
            return await receive
        except asyncio.CancelledError:
            if receive.cancelled() and not self._closed and not _current_task_cancelling():
                raise TimeoutError(f"ReceiveMessage did not answer within {limit:.0f} s") from None
            raise
        finally:
            timer.cancel()
            if not receive.done():
                receive.cancel()

    def _apply(self, message: QueuedEvent) -> str:
        """Applies one message; returns its receipt (every message is deleted once handled)."""
        try:
            if message.rejected or message.run is None:
                outcome = message.rejected or "malformed"
                log.warning("platform %s: dropping an event message (%s): %s", self.platform, outcome, message.problem)
            else:
                outcome = self._observe(message.run, Source.EVENT, message.time).value
                # A blocked queue: unless the hub knows the blocker has moved on since.
                if message.blocked is not None and self._blocked is not None and outcome != Outcome.STALE.value:
                    self._blocked(message.blocked)
        except Exception:
            log.exception("platform %s: applying an event message failed", self.platform)
            outcome = "error"
        self.counts[outcome] += 1
        return message.receipt

    def _flowing(self) -> None:
        if not self.healthy:
            log.info(
                "platform %s: event queue answering; watched runs are reconciled every %.0f s",
                self.platform,
                self._reconcile,
            )
        self.healthy, self.failure = True, ""
        self._flowing_to(self._reconcile)

    def _failing(self, error: BaseException) -> None:
        why = _why(error)
        if self.healthy or why != self.failure:
            log.warning(
                "platform %s: event queue failing (%s); polling watched runs every %.1f s until it answers again",
                self.platform,
                why,
                self._poll_interval,
            )
        self.healthy, self.failure = False, why
        self._flowing_to(None)


def _current_task_cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _why(error: BaseException) -> str:
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    reason = getattr(error, "reason", None)
    return f"{getattr(reason, 'value', reason)}: {message}" if reason else message
