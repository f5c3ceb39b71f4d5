"""The run use cases of one platform: submit (idempotent by request_id), get, list, cancel and
watch. Every state they learn goes into the platform's watch hub, so watchers and the read
cache see it at once."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable

from polysync_batch.domain import deadline, errors, paging, requests
from polysync_batch.domain.errors import Reason
from polysync_batch.domain.models import PlatformInfo, Run
from polysync_batch.domain.requests import RunQuery
from polysync_batch.domain.status import cancel_reason, native_statuses_for
from polysync_batch.domain.submit import SubmitRequest, Submitted, job_name
from polysync_batch.service.pipelines import PipelineService
from polysync_batch.service.placement import PlacementCheck
from polysync_batch.service.ports import BatchPort, Claim, IdempotencyLedger
from polysync_batch.service.queue_position import QueuePositions
from polysync_batch.watch.budget import AdaptiveBudget
from polysync_batch.watch.hub import RunHub
from polysync_batch.watch.source import Source
from polysync_batch.watch.subscription import WatchEvent

# ListJobs returns at most 100 summaries per call; a page stops after this many calls so one
# request's cost stays bounded even when client-side filters drop most summaries.
LIST_JOBS_LIMIT = 100
MAX_LIST_CALLS_PER_PAGE = 10
# Time kept back from the caller's deadline for the last SubmitJob and the look-up after it.
SUBMIT_RESERVE_SECONDS = 1.0


def retry_delay(attempt: int) -> float:
    """Before retry `attempt` (1, 2, …): 0.2 s doubling up to 5 s, with jitter."""
    return min(5.0, 0.2 * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)


class RunService:
    def __init__(
        self,
        info: PlatformInfo,
        batch: BatchPort,
        pipelines: PipelineService,
        hub: RunHub,
        submit_budget: AdaptiveBudget,
        submit_attempts: int,
        ledger: IdempotencyLedger | None = None,
        claim_lease_seconds: float = 40.0,
        placement: PlacementCheck | None = None,
        queue_positions: QueuePositions | None = None,
    ) -> None:
        self._info = info
        self._placement = placement or PlacementCheck(info, batch)  # SPEC §13: queue and placement checks
        self._positions = queue_positions or QueuePositions(info.name, batch)  # SPEC §13: RUNNABLE runs read
        self._ledger = ledger  # shared by replicas; without it, concurrent calls on two replicas can race
        self._claim_lease = claim_lease_seconds  # an unrecorded claim older than this is abandoned
        self._batch = batch
        self._pipelines = pipelines
        self._hub = hub
        self._submit_budget = submit_budget  # submit_jobs_per_second, slowed by AWS throttling
        self._submit_attempts = submit_attempts
        # Serialises submits of one request_id within this process; across processes the
        # ListJobs look-up before SubmitJob is the guard.
        self._submit_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    # -- submitting ----------------------------------------------------------------------------

    async def execute(self, request: SubmitRequest) -> Submitted:
        """Submits a job; returns the run, whether an earlier submit of the same request_id was
        found instead, and warnings. With validate_only, only checks (run None)."""
        requests.validate_submit(request)
        queue = request.job_queue or self._info.default_job_queue
        requests.check_queue_given(queue, self._info.name)
        pipeline = await self._pipelines.get(request.pipeline)
        missing = [name for name in pipeline.required_parameters if name not in request.parameters]
        if missing:
            raise errors.InvalidArgument(
                Reason.MISSING_PARAMETERS,
                f"pipeline {pipeline.name!r} needs values for its Ref:: parameters without defaults: "
                f"{', '.join(missing)}",
                hint="Pass each missing name in ExecutePipelineRequest.parameters; nothing was submitted.",
                metadata={"pipeline": request.pipeline, "missing": ",".join(missing), "platform": self._info.name},
                violations=[
                    errors.FieldViolation(
                        f"parameters[{name}]", f"required by the job definition (Ref::{name} has no default)"
                    )
                    for name in missing
                ],
            )
        if request.has_container_overrides and not pipeline.container_overrides:
            raise errors.invalid(
                "command",
                f"container overrides (command, environment, vcpus, memory_mib, gpus) need a "
                f"container job definition; {pipeline.name!r} is {pipeline.type!r}",
            )
        warnings = await self._placement.check(request, pipeline, queue)  # may raise JOB_CANNOT_BE_PLACED
        if request.validate_only:
            return Submitted(None, False, warnings)
        name = job_name(self._info.name, request.request_id)
        if not request.request_id:
            run, deduplicated = await self._submit_once(request, queue, name), False
        else:
            async with self._submit_locks.setdefault(name, asyncio.Lock()):
                if self._ledger is not None:
                    run, deduplicated = await self._submit_claimed(request, queue, name, self._ledger)
                else:
                    run, deduplicated = await self._submit_unless_named(request, queue, name)
        self._hub.observe(run, Source.SUBMIT)
        return Submitted(run, deduplicated, warnings)

    async def _submit_unless_named(
        self, request: SubmitRequest, queue: str, name: str, still_ours: Callable[[], Awaitable[bool]] | None = None
    ) -> tuple[Run, bool]:
        existing = await self._named(queue, name)
        if existing is not None:
            return existing, True
        return await self._submit_once(request, queue, name, still_ours), False

    async def _submit_claimed(
        self, request: SubmitRequest, queue: str, name: str, ledger: IdempotencyLedger
    ) -> tuple[Run, bool]:
        """Across replicas: claim the request_id, submit, record the run; a call that finds it
        claimed waits for the record (bounded by its deadline) and returns the same run."""
        owner = uuid.uuid4().hex
        claim = await ledger.claim(name, owner, time.time())
        waited = 0
        while True:
            if claim.run_id:
                return await self._recorded(queue, name, claim.run_id), True
            if claim.owner == owner:
                # Ours (new, or taken over from a caller that died): the look-up tells whether an
                # earlier submit went through before anyone submits again; the claim is renewed
                # before each SubmitJob so nobody takes it over while we are alive.
                async def still_ours(mine: Claim = claim) -> bool:
                    return await ledger.renew(mine, time.time())

                run, deduplicated = await self._submit_unless_named(request, queue, name, still_ours)
                await ledger.record(claim, run.run_id, time.time())
                return run, deduplicated
            if time.time() - claim.claimed_at > self._claim_lease:
                if await ledger.take_over(claim, owner, time.time()):
                    claim = Claim(claim.key, owner, time.time())
                    continue
            else:
                waited += 1
                pause = min(0.5, 0.05 * waited)
                left = deadline.remaining()
                if left is not None and left < pause + SUBMIT_RESERVE_SECONDS:
                    raise errors.submit_in_progress(
                        f"another call with this request_id is submitting job {name}", self._info.name, job_name=name
                    )
                await asyncio.sleep(pause)
            claim = await ledger.read(name) or await ledger.claim(name, owner, time.time())

    async def _recorded(self, queue: str, name: str, run_id: str) -> Run:
        described = await self._batch.describe_runs([run_id])
        if described:
            return described[0]
        named = await self._named(queue, name)  # DescribeJobs may lag; ListJobs may know it
        if named is not None:
            return named
        raise errors.submit_in_progress(
            f"job {run_id} was submitted but AWS Batch does not show it yet", self._info.name, run_id=run_id
        )

    async def _submit_once(
        self, request: SubmitRequest, queue: str, name: str, still_ours: Callable[[], Awaitable[bool]] | None = None
    ) -> Run:
        """SubmitJob, retried only when AWS surely did not take it (throttled, never sent) or when
        a look-up by the job name shows it did not: AWS makes a second job for a second
        SubmitJob, so an unsure outcome is never simply sent again."""
        attempt = 0
        while True:
            await self._submit_budget.acquire()
            if still_ours is not None and not await still_ours():
                raise errors.submit_in_progress(  # our claim was taken over: another call submits now
                    f"another call with this request_id took over submitting job {name}", self._info.name, job_name=name
                )
            try:
                run = await self._batch.submit(request, queue, name)
                self._submit_budget.succeeded()
                return run
            except errors.SubmitUnsure as unsure:
                failure: errors.PlatformError = unsure
                existing = await self._named(queue, name)
                if existing is not None:
                    return existing  # AWS took it; only the answer was lost
            except (errors.ResourceExhausted, errors.Unavailable) as not_taken:
                failure = not_taken
                if isinstance(not_taken, errors.ResourceExhausted):
                    self._submit_budget.throttled()
            attempt += 1
            delay = retry_delay(attempt)
            left = deadline.remaining()
            if attempt >= self._submit_attempts or (left is not None and left < delay + SUBMIT_RESERVE_SECONDS):
                raise failure
            await asyncio.sleep(delay)

    async def _named(self, queue: str, name: str) -> Run | None:
        """The job AWS holds under this name (the oldest, should there be more), or None."""
        found = await self._batch.runs_named(queue, name)
        if not found:
            return None
        described = await self._batch.describe_runs([found[0].run_id])
        return described[0] if described else found[0]  # DescribeJobs may lag ListJobs

    # -- runs ----------------------------------------------------------------------------------

    async def get(self, run_id: str) -> Run:
        requests.check_run_id(run_id)
        return await self._positions.annotate(await self._hub.get(run_id))

    async def get_many(self, run_ids: list[str]) -> dict[str, Run | None]:
        """Each id's run, or None when AWS Batch does not know it."""
        requests.check_run_ids(run_ids)
        return await self._positions.annotate_all(await self._hub.get_many(run_ids))

    async def cancel(self, run_id: str, reason: str) -> tuple[Run, bool]:
        """TerminateJob works for queued and running jobs alike; a finished run is returned as is."""
        requests.check_cancel(run_id, reason)
        run = await self._describe_one(run_id)
        if run.terminal:
            return run, True
        await self._batch.terminate(run_id, cancel_reason(reason))
        run = await self._describe_one(run_id)
        self._hub.observe(run, Source.CANCEL)
        return run, False

    async def _describe_one(self, run_id: str) -> Run:
        runs = await self._batch.describe_runs([run_id])
        if not runs:
            raise errors.run_not_found(run_id, self._info.name)
        return runs[0]

    async def list(self, query: RunQuery) -> tuple[list[Run], str]:
        """A page of ListJobs. With a name filter ListJobs ignores jobStatus and returns every
        status in one stream; otherwise each AWS status is its own stream, listed in turn."""
        requests.check_run_query(query)
        size = requests.check_page_size(query.page_size)
        queue = query.job_queue or self._info.default_job_queue
        if not query.array_parent_run_id:
            requests.check_queue_given(queue, self._info.name)
        statuses = [s for s in query.statuses if s is not None]
        natives = native_statuses_for(statuses)
        filters = {"q": queue, "s": [s.value for s in statuses], "p": query.name_prefix, "a": query.array_parent_run_id}
        state = paging.decode(query.page_token, filters) or {"i": 0, "t": ""}
        streams: list[str | None] = [None] if query.name_prefix else list(natives)
        index, aws_token = state["i"], state["t"]
        runs: list[Run] = []
        calls = 0
        while index < len(streams) and len(runs) < size and calls < MAX_LIST_CALLS_PER_PAGE:
            page, aws_token = await self._batch.list_runs_page(
                job_queue=queue,
                array_parent_run_id=query.array_parent_run_id,
                native_status=streams[index],
                name_prefix=query.name_prefix,
                max_results=min(LIST_JOBS_LIMIT, size - len(runs)),
                next_token=aws_token,
            )
            calls += 1
            runs += [run for run in page if run.native_status in natives and (not statuses or run.status in statuses)]
            if not aws_token:
                index += 1
        next_token = paging.encode({"i": index, "t": aws_token}, filters) if index < len(streams) else ""
        return runs, next_token

    # -- watching ------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def watch(self, run_ids: list[str]) -> AsyncIterator[AsyncIterator[WatchEvent]]:
        """The events of a watch of these runs: their current states first, then each change,
        with heartbeats; the stream ends after every run's terminal state."""
        requests.check_run_ids(run_ids)
        subscription = await self._hub.subscribe(run_ids)
        try:
            yield subscription.events(self._hub.clock, self._hub.settings.heartbeat_seconds)
        finally:
            self._hub.unsubscribe(subscription)
