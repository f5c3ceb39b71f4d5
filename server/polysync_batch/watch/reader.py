"""The one way to DescribeJobs for a platform: every read of runs (gets, watches, the poller,
submit and cancel) goes through `DescribeReader.read`, which shares calls of up to 100 ids
between concurrent readers, spends the platform's DescribeJobs budget, and shares it fairly.

- **Micro-batching.** Full batches of 100 ids go at once. A partial batch goes on the next loop
  iteration when the reader is quiet (a lone get never waits for a batch that is not coming).
  Under load (an id arrived while a call was in flight, or one call took several callers' reads,
  within the last `max_wait`) it waits for the calls in flight, then until arrivals pause for
  `gap` seconds (a wake-up that comes late because the loop was busy is no pause), so ids
  arriving one by one (as gRPC delivers 1,000 concurrent gets) share calls. No id waits more
  than `max_wait` (25 gaps) for its batch.
- **Nothing for callers that left.** An id is taken into a call only once the budget allows
  that call; an id whose every caller was cancelled is dropped before that, and one whose every
  caller's deadline passed fails with DEADLINE_EXCEEDED instead of costing a call.
- **Fair shares.** Each batch takes ids round-robin across share keys (the identified caller,
  else the call; the poller has its own), so one caller's flood of reads delays another
  caller's get by about one call of the budget, not by the whole flood.

A call in flight serves every id in it: it is never cancelled on behalf of one caller."""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from polysync_batch.domain import deadline, errors
from polysync_batch.domain.models import Run
from polysync_batch.service.budget import RateBudget
from polysync_batch.service.ports import DESCRIBE_LIMIT, Clock, DescribeRuns
from polysync_batch.watch.clock import Wakeup

# Under load, no id waits longer than this many gaps (0.5 s by default) for its partial batch to
# form: on a busy machine gRPC hands 1,000 concurrent calls over in bursts a few gaps apart.
MAX_WAIT_GAPS = 25


class _Slot:
    """One id waiting for a call: its answer, shared by every caller that asked for it."""

    __slots__ = ("run_id", "future", "callers", "expires", "context", "key")

    def __init__(self, run_id: str, key: Hashable, context: contextvars.Context) -> None:
        self.run_id = run_id
        self.future: asyncio.Future[Run | None] = asyncio.get_running_loop().create_future()
        self.callers = 0
        self.expires: float | None = 0.0  # time.monotonic() after which no caller waits (None: never)
        self.context = context  # the first caller's (trace span), for the call that reads it
        self.key = key


class DescribeReader:
    def __init__(
        self,
        describe: DescribeRuns,
        budget: RateBudget,
        clock: Clock,
        gap_seconds: float = 0.02,
        share_key: Callable[[], Hashable | None] | None = None,
    ) -> None:
        self._describe = describe  # one DescribeJobs call of ≤ 100 ids (the adapter)
        self._budget = budget
        self._clock = clock
        self._gap = gap_seconds
        self._max_wait = max(gap_seconds * MAX_WAIT_GAPS, 0.05)
        self._share_key = share_key or (lambda: None)
        self._slots: dict[str, _Slot] = {}  # ids waiting for a call (not yet sent)
        self._queues: OrderedDict[Hashable, OrderedDict[str, _Slot]] = OrderedDict()  # per share key
        self._arrivals: OrderedDict[str, float] = OrderedDict()  # waiting id → when it arrived (oldest first)
        self._last_arrival = float("-inf")
        self._in_flight = 0  # calls in flight
        # Until when the reader counts as loaded (an id arrived while a call was in flight, this
        # recently): meanwhile partial batches wait for a pause in arrivals.
        self._loaded_until = float("-inf")
        self._wakeup = Wakeup()
        self._task: asyncio.Task | None = None

    async def read(self, run_ids: list[str], key: Hashable | None = None) -> dict[str, Run | None]:
        """Each id's run, or None when AWS Batch does not know it. Raises what the call of any
        of them raised."""
        ids = list(dict.fromkeys(run_ids))
        if not ids:
            return {}
        if key is None:
            caller = self._share_key()
            key = caller if caller is not None else asyncio.current_task()
        left = deadline.remaining()
        expires = None if left is None else time.monotonic() + left
        slots = [self._join(run_id, key, expires) for run_id in ids]
        self._last_arrival = now = self._clock.monotonic()
        if self._in_flight:
            self._loaded_until = now + self._max_wait
        self._start()
        self._wakeup.wake()
        done = False
        try:
            pending = [slot.future for slot in slots if not slot.future.done()]
            if pending:
                await asyncio.wait(pending)  # never cancels the shared futures
            done = True
        finally:
            for slot in slots:
                slot.callers -= 1
                if not done and slot.callers <= 0 and self._slots.get(slot.run_id) is slot:
                    self._drop(slot)  # nobody waits for it any more: no AWS call for it
        failure = next((e for e in [slot.future.exception() for slot in slots] if e is not None), None)
        if failure is not None:
            raise failure
        return {slot.run_id: slot.future.result() for slot in slots}

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()

    # -- waiting ids ---------------------------------------------------------------------------

    def _join(self, run_id: str, key: Hashable, expires: float | None) -> _Slot:
        slot = self._slots.get(run_id)
        if slot is None:
            slot = self._slots[run_id] = _Slot(run_id, key, contextvars.copy_context())
            slot.expires = expires
            queue = self._queues.get(key)
            if queue is None:
                queue = self._queues[key] = OrderedDict()
            queue[run_id] = slot
            self._arrivals[run_id] = self._clock.monotonic()
        elif slot.expires is not None:
            slot.expires = None if expires is None else max(slot.expires, expires)
        slot.callers += 1
        return slot

    def _drop(self, slot: _Slot) -> None:
        del self._slots[slot.run_id]
        self._arrivals.pop(slot.run_id, None)
        queue = self._queues.get(slot.key)
        if queue is not None:
            queue.pop(slot.run_id, None)
            if not queue:
                del self._queues[slot.key]
        if not slot.future.done():
            slot.future.cancel()

    def _take(self) -> list[_Slot]:
        """Up to DESCRIBE_LIMIT waiting ids, one per share key in turn; expired ones fail."""
        batch: list[_Slot] = []
        now = time.monotonic()
        while len(batch) < DESCRIBE_LIMIT and self._queues:
            key, queue = next(iter(self._queues.items()))
            _, slot = queue.popitem(last=False)
            if queue:
                self._queues.move_to_end(key)  # the next key's turn
            else:
                del self._queues[key]
            del self._slots[slot.run_id]
            self._arrivals.pop(slot.run_id, None)
            if slot.expires is not None and slot.expires <= now and self._expired(slot):
                continue
            batch.append(slot)
        return batch

    @staticmethod
    def _expired(slot: _Slot) -> bool:
        """Fails the slot with DEADLINE_EXCEEDED if its callers' deadline has passed."""
        try:
            slot.context.run(deadline.check, "DescribeJobs")
        except errors.DeadlineExceeded as error:
            if not slot.future.done():
                slot.future.set_exception(error)
            return True
        return False

    # -- sending -------------------------------------------------------------------------------

    def _start(self) -> None:
        if self._task is None or self._task.done():
            # A context of its own: the loop outlives the call that started it.
            self._task = asyncio.get_running_loop().create_task(self._run(), context=contextvars.Context())

    async def _run(self) -> None:
        while True:
            await self._ready()
            await self._budget.acquire()
            batch = self._take()  # after the budget allowed it: callers that left meanwhile cost nothing
            if not batch:
                self._budget.refund()
                continue
            if len({slot.key for slot in batch}) > 1:
                # Several callers' reads in one call: a burst is arriving (gRPC hands its start
                # over in small groups, which a quick call can answer before the next one
                # comes, so none arrives while a call is out). Later groups wait for a pause.
                self._loaded_until = max(self._loaded_until, self._clock.monotonic() + self._max_wait)
            self._in_flight += 1
            # The call serves every id in it: run it in the first caller's context (its trace
            # span) without that caller's deadline.
            context = batch[0].context.run(deadline.without_deadline)
            asyncio.get_running_loop().create_task(self._call(batch), context=context)

    async def _ready(self) -> None:
        """Returns when a batch should be sent."""
        lag: float | None = None  # when the last timed wait was due
        while True:
            if len(self._slots) >= DESCRIBE_LIMIT:
                return
            if not self._slots:
                await self._wakeup.wait(self._clock)
                continue
            now = self._clock.monotonic()
            if now >= self._loaded_until:
                return  # quiet (nothing arrived while a call was out lately): a lone request goes at once
            limit = next(iter(self._arrivals.values())) + self._max_wait  # the oldest id's bound
            if now >= limit:
                return
            # Under load: wait for the calls in flight (they wake us), then for a pause in arrivals.
            due = limit if self._in_flight else min(limit, self._last_arrival + self._gap)
            if now >= due:
                if lag is not None and now - lag > self._gap / 2:
                    # The loop was busy past the due time: requests may be waiting in it, not
                    # absent. One more gap to let them arrive.
                    lag = None
                    self._last_arrival = now
                    continue
                return
            lag = due
            await self._wakeup.wait(self._clock, due - now)

    async def _call(self, batch: list[_Slot]) -> None:
        try:
            runs = {run.run_id: run for run in await self._describe([slot.run_id for slot in batch])}
        except BaseException as error:
            for slot in batch:
                if slot.callers <= 0:
                    slot.future.cancel()  # nobody waits for it
                elif not slot.future.done():
                    slot.future.set_exception(error)
            if not isinstance(error, Exception):
                raise
            return
        finally:
            self._in_flight -= 1
            self._wakeup.wake()  # what gathered meanwhile waits for a pause, then goes
        for slot in batch:
            if not slot.future.done():
                slot.future.set_result(runs.get(slot.run_id))
