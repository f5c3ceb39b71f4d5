"""The run use cases of one platform: submit (idempotent by request_id), get, list, cancel and
watch. Runs are read, and every state the use cases learn is recorded, through the platform's
`RunStates` (the watch core), so watchers and the read cache see it at once and every
DescribeJobs shares one budget."""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from polysync_batch.domain import deadline, errors, links, paging, requests
from polysync_batch.domain.backoff import backoff
from polysync_batch.domain.models import PlatformInfo, Run
from polysync_batch.domain.queues import QueueScope
from polysync_batch.domain.requests import RunQuery
from polysync_batch.domain.status import cancel_reason, is_terminal, native_statuses_for, run_message, run_status
from polysync_batch.domain.submit import (
    FINGERPRINT_TAG,
    SubmitRequest,
    Submitted,
    fingerprint,
    job_name,
    with_fingerprint,
)
from polysync_batch.service.blocked_queues import BlockedQueues
from polysync_batch.service.budget import AdaptiveBudget
from polysync_batch.service.pipelines import PipelineService
from polysync_batch.service.placement import PlacementCheck
from polysync_batch.service.ports import BatchPort, Claim, Clock, IdempotencyLedger, RunStates, Source, WatchEvent
from polysync_batch.service.queue_position import QueuePositions

# ListJobs returns at most 100 summaries per call; a page stops after this many calls so one
# request's cost stays bounded even when client-side filters drop most summaries.
LIST_JOBS_LIMIT = 100
MAX_LIST_CALLS_PER_PAGE = 10
# Time kept back from the caller's deadline for the last SubmitJob and the look-up after it.
SUBMIT_RESERVE_SECONDS = 1.0


def retry_delay(attempt: int) -> float:
    """Before retry `attempt` (1, 2, …): 0.2 s doubling up to 5 s, with jitter."""
    return backoff(attempt, 0.2, 5.0)


class RunArchive(Protocol):
    """Runs as last recorded (the feed's history table, SPEC §12), for runs AWS forgot."""

    async def run(self, run_id: str) -> Run | None: ...


class RunService:
    def __init__(
        self,
        info: PlatformInfo,
        batch: BatchPort,
        pipelines: PipelineService,
        states: RunStates,
        submit_budget: AdaptiveBudget,
        clock: Clock,
        submit_attempts: int,
        ledger: IdempotencyLedger | None = None,
        claim_lease_seconds: float = 40.0,
        queues: QueueScope | None = None,
        placement: PlacementCheck | None = None,
        queue_positions: QueuePositions | None = None,
        archive: RunArchive | None = None,
        blocked_queues: BlockedQueues | None = None,
    ) -> None:
        self._info = info
        self._blocked = blocked_queues  # SPEC §13: "Batch Job Queue Blocked" events, on RUNNABLE runs read
        self._archive = archive  # the feed's history table: runs AWS no longer returns
        self._queues = queues or QueueScope(info.name, None)  # job_queues: what the platform may reach
        self._placement = placement or PlacementCheck(info, batch)  # SPEC §13: queue and placement checks
        self._positions = queue_positions or QueuePositions(info.name, batch)  # SPEC §13: RUNNABLE runs read
        self._ledger = ledger  # shared by replicas; without it, concurrent calls on two replicas can race
        self._claim_lease = claim_lease_seconds  # an unrecorded claim older than this is abandoned
        self._batch = batch
        self._pipelines = pipelines
        self._states = states
        self._clock = clock
        self._submit_budget = submit_budget  # submit_jobs_per_second, slowed by AWS throttling
        self._submit_attempts = submit_attempts
        # Serialises submits of one request_id within this process; across processes the
        # ListJobs look-up before SubmitJob is the guard.
        self._submit_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    @property
    def queues(self) -> QueueScope:
        """The platform's job queues (SPEC §8.5 `job_queues`): what it may reach."""
        return self._queues

    # -- submitting ----------------------------------------------------------------------------

    async def execute(self, request: SubmitRequest, caller: str | None = None) -> Submitted:
        """Submits a job; returns the run, whether an earlier submit of the same request_id (of the
        same `caller`, the identified caller when caller authentication is on) was found instead,
        and warnings. With validate_only, only checks (run None). The same request_id for a
        different request is REQUEST_ID_REUSED."""
        requests.validate_submit(request)
        queue = request.job_queue or self._info.default_job_queue
        requests.check_queue_given(queue, self._info.name)
        self._queues.check(queue)
        if request.depends_on and self._queues.confined:  # no job may wait on another platform's run
            self._queues.check_readable((await self._states.get_many(list(request.depends_on))).values())
        pipeline = await self._pipelines.get(request.pipeline)
        missing = [name for name in pipeline.required_parameters if name not in request.parameters]
        if missing:
            raise errors.missing_parameters(request.pipeline, pipeline.name, missing, self._info.name)
        if request.has_container_overrides and not pipeline.container_overrides:
            raise errors.invalid(
                "command",
                f"container overrides (command, environment, vcpus, memory_mib, gpus) need a "
                f"container job definition; {pipeline.name!r} is {pipeline.type!r}",
            )
        warnings = await self._placement.check(request, pipeline, queue)  # may raise JOB_CANNOT_BE_PLACED
        if request.validate_only:
            return Submitted(None, False, warnings)
        name = job_name(self._info.name, request.request_id, caller)
        if request.request_id:  # its fingerprint goes with the job and the ledger record
            request = with_fingerprint(request, fingerprint(request, queue))
        if not request.request_id:
            run, deduplicated = await self._submit_once(request, queue, name), False
        else:
            async with self._submit_locks.setdefault(name, asyncio.Lock()):
                if self._ledger is not None:
                    run, deduplicated = await self._submit_claimed(request, queue, name, self._ledger)
                else:
                    run, deduplicated = await self._submit_unless_named(request, queue, name)
        self._states.observe(run, Source.SUBMIT)
        # As the watch core now knows it (its history included).
        return Submitted((await self._states.get_many([run.run_id]))[run.run_id] or run, deduplicated, warnings)

    async def _submit_unless_named(
        self, request: SubmitRequest, queue: str, name: str, still_ours: Callable[[], Awaitable[bool]] | None = None
    ) -> tuple[Run, bool]:
        existing = await self._named(queue, name)
        if existing is not None:
            self._same_request(request, existing.tags.get(FINGERPRINT_TAG, ""))
            return existing, True
        return await self._submit_once(request, queue, name, still_ours), False

    def _same_request(self, request: SubmitRequest, found: str) -> None:
        """Refuses a request_id whose earlier submit (fingerprint `found`, "" if unknown) asked for
        something else; the earlier run is neither returned nor named."""
        if found and found != request.tags.get(FINGERPRINT_TAG):
            raise errors.request_id_reused(request.request_id, self._info.name)

    async def _submit_claimed(
        self, request: SubmitRequest, queue: str, name: str, ledger: IdempotencyLedger
    ) -> tuple[Run, bool]:
        """Across replicas: claim the request_id, submit, record the run; a call that finds it
        claimed waits for the record (bounded by its deadline) and returns the same run."""
        owner = uuid.uuid4().hex
        claim = await ledger.claim(name, owner, self._now(), request.tags[FINGERPRINT_TAG])
        waited = 0
        while True:
            self._same_request(request, claim.fingerprint)
            if claim.run_id:
                return await self._recorded(queue, name, claim.run_id), True
            if claim.owner == owner:
                # Ours (new, or taken over from a caller that died): the look-up tells whether an
                # earlier submit went through before anyone submits again; the claim is renewed
                # before each SubmitJob so nobody takes it over while we are alive.
                async def still_ours(mine: Claim = claim) -> bool:
                    return await ledger.renew(mine, self._now())

                run, deduplicated = await self._submit_unless_named(request, queue, name, still_ours)
                await ledger.record(claim, run.run_id, self._now())
                return run, deduplicated
            if self._now() - claim.claimed_at > self._claim_lease:
                if await ledger.take_over(claim, owner, self._now()):
                    claim = Claim(claim.key, owner, self._now())
                    continue
            else:
                waited += 1
                pause = min(0.5, 0.05 * waited)
                left = deadline.remaining()
                if left is not None and left < pause + SUBMIT_RESERVE_SECONDS:
                    raise errors.submit_in_progress(
                        f"another call with this request_id is submitting job {name}", self._info.name, job_name=name
                    )
                await self._clock.sleep(pause)
            claim = await ledger.read(name) or await ledger.claim(
                name, owner, self._now(), request.tags[FINGERPRINT_TAG]
            )

    def _now(self) -> float:
        """Epoch seconds, as the ledger records them."""
        return self._clock.wall().timestamp()

    async def _recorded(self, queue: str, name: str, run_id: str) -> Run:
        described = (await self._states.fetch([run_id], Source.READ))[run_id]
        if described is not None:
            return described
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
                job_id = await self._batch.submit(request, queue, name)
                self._submit_budget.succeeded()
                return await self._submitted(job_id, request, queue, name)
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
            await self._clock.sleep(delay)

    async def _submitted(self, job_id: str, request: SubmitRequest, queue: str, name: str) -> Run:
        """The run of a job SubmitJob just made: as DescribeJobs knows it, else (DescribeJobs is
        eventually consistent, or the read failed: the job exists either way) SUBMITTED as of
        now, built from the request (execute records it as this server's submit)."""
        try:
            run = (await self._states.fetch([job_id], Source.SUBMIT))[job_id]
        except errors.PlatformError:  # a failed read must not look like a failed submit
            run = None
        if run is not None:
            return run
        now = self._clock.wall()
        status = run_status("SUBMITTED", "")
        run = Run(
            run_id=job_id,
            platform=self._info.name,
            pipeline="",
            pipeline_revision=0,
            pipeline_arn="",
            job_name=name,
            job_queue=queue,
            status=status,
            native_status="SUBMITTED",
            status_reason="",
            exit_code=None,
            message=run_message(status, "SUBMITTED", "", None),
            console_url=links.job_console_url(self._info.region, job_id, self._info.console_domain),
            terminal=is_terminal("SUBMITTED"),
            create_time=now,
            parameters=dict(request.parameters),
            tags=dict(request.tags),
        )
        return run

    async def _named(self, queue: str, name: str) -> Run | None:
        """The job AWS holds under this name (the oldest, should there be more), or None."""
        found = await self._batch.runs_named(queue, name)
        if not found:
            return None
        described = (await self._states.fetch([found[0].run_id], Source.READ))[found[0].run_id]
        return described or found[0]  # DescribeJobs may lag ListJobs

    # -- runs ----------------------------------------------------------------------------------

    async def get(self, run_id: str) -> Run:
        requests.check_run_id(run_id)
        try:
            run = await self._states.get(run_id)
        except errors.NotFound:
            archived = await self._archive.run(run_id) if self._archive is not None else None
            if archived is None:
                raise
            run = archived
        run = await self._positions.annotate(self._queues.readable(run))
        return await self._blocked.annotate(run) if self._blocked is not None else run

    async def get_many(self, run_ids: list[str]) -> dict[str, Run | None]:
        """Each id's run, or None when neither AWS Batch nor the history table knows it."""
        requests.check_run_ids(run_ids)
        found = await self._states.get_many(run_ids)
        if self._archive is not None:
            for run_id in [run_id for run_id, run in found.items() if run is None]:
                found[run_id] = await self._archive.run(run_id)
        runs = await self._positions.annotate_all({run_id: self._queues.visible(run) for run_id, run in found.items()})
        return await self._blocked.annotate_all(runs) if self._blocked is not None else runs

    async def cancel(self, run_id: str, reason: str) -> tuple[Run, bool]:
        """TerminateJob works for queued and running jobs alike; a finished run is returned as is."""
        requests.check_cancel(run_id, reason)
        run = self._queues.readable(await self._describe_one(run_id, Source.READ))
        if run.terminal:
            return run, True
        await self._batch.terminate(run_id, cancel_reason(reason))
        return await self._describe_one(run_id, Source.CANCEL), False

    async def _describe_one(self, run_id: str, source: Source) -> Run:
        run = (await self._states.fetch([run_id], source))[run_id]
        if run is None:
            raise errors.run_not_found(run_id, self._info.name)
        return run

    async def list(self, query: RunQuery) -> tuple[list[Run], str]:
        """A page of ListJobs. With a name filter ListJobs ignores jobStatus and returns every
        status in one stream; otherwise each AWS status is its own stream, listed in turn."""
        requests.check_run_query(query)
        size = requests.check_page_size(query.page_size)
        queue = query.job_queue or self._info.default_job_queue
        if not query.array_parent_run_id:
            requests.check_queue_given(queue, self._info.name)
        self._queues.check(queue)
        if query.array_parent_run_id and self._queues.confined:
            await self.get(query.array_parent_run_id)  # its children are listed only if it is ours
        statuses = [s for s in query.statuses if s is not None]
        natives = native_statuses_for(statuses)
        filters = {"q": queue, "s": [s.value for s in statuses], "p": query.name_prefix, "a": query.array_parent_run_id}
        filters["pl"] = self._info.name  # a token of one platform is not another's
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

    def watch(self, run_ids: list[str]) -> AbstractAsyncContextManager[AsyncIterator[WatchEvent]]:
        """The events of a watch of these runs: their current states first, then each change,
        with heartbeats; the stream ends after every run's terminal state."""
        return _Watching(self, run_ids)


class _Watching:
    """RunService.watch as an async context manager: a class, not an asynccontextmanager,
    because every open watch stream holds one (see watch/hub.py _Watch)."""

    __slots__ = ("_service", "_run_ids", "_inner")

    def __init__(self, service: RunService, run_ids: list[str]) -> None:
        self._service = service
        self._run_ids = run_ids
        self._inner: AbstractAsyncContextManager[AsyncIterator[WatchEvent]] | None = None

    async def __aenter__(self) -> AsyncIterator[WatchEvent]:
        service, run_ids = self._service, self._run_ids
        requests.check_run_ids(run_ids)
        if service._queues.confined:  # another platform's runs are NOT_FOUND, like unknown ids
            service._queues.check_readable((await service._states.get_many(run_ids)).values())
        inner = service._states.watch(run_ids)
        events = await inner.__aenter__()
        self._inner = inner
        if service._queues.confined:  # as subscribed: a run DescribeJobs showed only now is checked too
            try:
                service._queues.check_readable((await service._states.get_many(run_ids)).values())
            except BaseException:
                await self.__aexit__(None, None, None)
                raise
        annotated = service._positions.annotate_events(events)
        return service._blocked.annotate_events(annotated) if service._blocked is not None else annotated

    async def __aexit__(self, *exc_info: Any) -> bool | None:
        inner, self._inner = self._inner, None
        return await inner.__aexit__(*exc_info) if inner is not None else None
