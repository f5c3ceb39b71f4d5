"""The platform contract implemented over AWS Batch, for one configured platform. Returns
Polysync's domain objects; every AWS call goes through the BatchPort."""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from polysync_batch.aws.gateway import BatchPort
from polysync_batch.aws.translate import RunContext, to_pipeline, to_run
from polysync_batch.domain import errors, paging
from polysync_batch.domain.errors import FieldViolation, Violations
from polysync_batch.domain.models import Pipeline, Run
from polysync_batch.domain.pipelines import latest_revisions, missing_parameters, parse_pipeline_ref
from polysync_batch.domain.status import (
    RunStatus, cancel_reason, native_statuses_for, run_status,
)
from polysync_batch.domain.submit import SubmitRequest, job_name, validate_submit

MAX_BATCH_GET = 1000
# ListJobs returns at most 100 summaries per call; a page stops after this many calls so one
# request's cost stays bounded even when client-side filters drop most summaries.
LIST_JOBS_LIMIT = 100
MAX_LIST_CALLS_PER_PAGE = 10


@dataclass(frozen=True)
class PlatformInfo:
    name: str
    region: str
    default_job_queue: str = ""
    console_domain: str | None = None
    runnable_warning_seconds: float = 600.0


class BatchPlatform:
    def __init__(self, info: PlatformInfo, port: BatchPort,
                 now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.info = info
        self.port = port
        self._now = now
        self._run_context = RunContext(info.name, info.region, info.console_domain,
                                       info.runnable_warning_seconds)
        # Serialises submits of one request_id within this process; across processes the
        # ListJobs look-up before SubmitJob is the guard.
        self._submit_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    @property
    def name(self) -> str:
        return self.info.name

    # -- pipelines ---------------------------------------------------------------------------

    async def list_pipelines(self, page_size: int, page_token: str, name_prefix: str) -> tuple[list[Pipeline], str]:
        size = paging.page_size(page_size)
        filters = {"prefix": name_prefix}
        state = paging.decode(page_token, filters) or {"after": ""}
        definitions = latest_revisions(await self.port.describe_active_job_definitions())
        names = [d for d in definitions
                 if d["jobDefinitionName"].startswith(name_prefix) and d["jobDefinitionName"] > state["after"]]
        page = names[:size]
        next_token = paging.encode({"after": page[-1]["jobDefinitionName"]}, filters) if len(names) > size else ""
        return [to_pipeline(d) for d in page], next_token

    async def get_pipeline(self, pipeline: str) -> Pipeline:
        return to_pipeline(await self._resolve_definition(pipeline))

    async def _resolve_definition(self, pipeline: str) -> dict:
        """The ACTIVE definition a name (latest revision), `name:revision` or ARN stands for."""
        ref = parse_pipeline_ref(pipeline)
        if ref is None:
            raise errors.InvalidArgument(
                "INVALID_ARGUMENT", f"pipeline {pipeline!r} is not a job definition name, name:revision or ARN",
                violations=[FieldViolation("pipeline", "must be a job definition name, name:revision, or ARN")],
            )
        # By name, then the revision: one path for names, name:revision and ARNs (the
        # jobDefinitions=[name:revision] form is not understood by every emulator).
        found = [d for d in await self.port.describe_active_job_definitions(ref.name)
                 if d["jobDefinitionName"] == ref.name and (not ref.pinned or d["revision"] == ref.revision)]
        latest = latest_revisions(found)
        if not latest:
            raise errors.job_definition_not_found(pipeline, self.info.region, self.name)
        return dict(latest[0])

    # -- submitting --------------------------------------------------------------------------

    async def execute(self, request: SubmitRequest) -> tuple[Run, bool]:
        """Submits a job; returns the run and whether an earlier submit of the same request_id
        was found instead."""
        validate_submit(request)
        queue = request.job_queue or self.info.default_job_queue
        if not queue:
            Violations([FieldViolation(
                "job_queue", f"is required: platform {self.name!r} has no default_job_queue")]).raise_if_any()
        definition = await self._resolve_definition(request.pipeline)
        missing = missing_parameters(definition, request.parameters)
        if missing:
            raise errors.InvalidArgument(
                "MISSING_PARAMETERS",
                f"pipeline {definition['jobDefinitionName']!r} needs values for its Ref:: parameters "
                f"without defaults: {', '.join(missing)}",
                hint="Pass each missing name in ExecutePipelineRequest.parameters; nothing was submitted.",
                metadata={"pipeline": request.pipeline, "missing": ",".join(missing), "platform": self.name},
                violations=[FieldViolation(f"parameters[{name}]", "required by the job definition (Ref::"
                                           f"{name} has no default)") for name in missing],
            )
        if request.has_container_overrides and "containerProperties" not in definition:
            Violations([FieldViolation(
                "command", f"container overrides (command, environment, vcpus, memory_mib, gpus) need a "
                f"container job definition; {definition['jobDefinitionName']!r} is {definition.get('type')!r}",
            )]).raise_if_any()
        name = job_name(self.name, request.request_id)
        context = {"job_queue": queue, "pipeline": request.pipeline}
        if not request.request_id:
            return await self._submit(request, queue, name, context), False
        lock = self._submit_locks.setdefault(name, asyncio.Lock())
        async with lock:
            existing = await self._find_job_by_name(queue, name, context)
            if existing is not None:
                return existing, True
            return await self._submit(request, queue, name, context), False

    async def _find_job_by_name(self, queue: str, name: str, context: dict[str, str]) -> Run | None:
        response = await self.port.list_jobs(
            {"jobQueue": queue, "filters": [{"name": "JOB_NAME", "values": [name]}]}, context)
        matches = [s for s in response.get("jobSummaryList", []) if s.get("jobName") == name]
        if not matches:
            return None
        oldest = min(matches, key=lambda s: s.get("createdAt", 0))
        return await self.get_run(oldest["jobId"])

    async def _submit(self, request: SubmitRequest, queue: str, name: str, context: dict[str, str]) -> Run:
        response = await self.port.submit_job(submit_job_request(request, queue, name), context)
        job_id = response["jobId"]
        jobs = await self.port.describe_jobs([job_id])
        if jobs:
            return self._to_run(jobs[0])
        # DescribeJobs is eventually consistent: right after SubmitJob it may not know the job yet.
        return self._to_run({"jobId": job_id, "jobName": name, "jobQueue": queue, "status": "SUBMITTED",
                             "parameters": request.parameters, "createdAt": int(self._now().timestamp() * 1000)})

    # -- runs --------------------------------------------------------------------------------

    def _to_run(self, job: dict, job_queue: str = "") -> Run:
        return to_run(job, self._run_context, self._now(), job_queue)

    async def describe_runs(self, run_ids: list[str]) -> list[Run]:
        """One DescribeJobs call (at most 100 ids): the runs AWS Batch knows."""
        return [self._to_run(job) for job in await self.port.describe_jobs(run_ids)]

    async def get_run(self, run_id: str) -> Run:
        jobs = await self.port.describe_jobs([run_id])
        if not jobs:
            raise errors.run_not_found(run_id, self.name)
        return self._to_run(jobs[0])

    async def cancel(self, run_id: str, reason: str) -> tuple[Run, bool]:
        """TerminateJob works for queued and running jobs alike; a finished run is returned as is."""
        run = await self.get_run(run_id)
        if run.terminal:
            return run, True
        await self.port.terminate_job(run_id, cancel_reason(reason))
        return await self.get_run(run_id), False

    async def list_runs(self, job_queue: str, statuses: list[RunStatus], name_prefix: str,
                        array_parent_run_id: str, page_size: int, page_token: str) -> tuple[list[Run], str]:
        size = paging.page_size(page_size)
        queue = job_queue or self.info.default_job_queue
        if not queue and not array_parent_run_id:
            Violations([FieldViolation(
                "job_queue", f"is required: platform {self.name!r} has no default_job_queue")]).raise_if_any()
        natives = native_statuses_for(statuses)
        filters = {"q": queue, "s": [s.value for s in statuses], "p": name_prefix, "a": array_parent_run_id}
        state = paging.decode(page_token, filters) or {"i": 0, "t": ""}
        # With a name filter ListJobs ignores jobStatus and returns every status in one stream;
        # otherwise each AWS status is its own stream, listed one after the other.
        streams: list[str | None] = [None] if name_prefix else list(natives)
        index, aws_token = state["i"], state["t"]
        runs: list[Run] = []
        calls = 0
        while index < len(streams) and len(runs) < size and calls < MAX_LIST_CALLS_PER_PAGE:
            request: dict[str, Any] = {"maxResults": min(LIST_JOBS_LIMIT, size - len(runs))}
            if array_parent_run_id:
                request["arrayJobId"] = array_parent_run_id
            else:
                request["jobQueue"] = queue
            if name_prefix:
                request["filters"] = [{"name": "JOB_NAME", "values": [f"{name_prefix}*"]}]
            else:
                request["jobStatus"] = streams[index]
            if aws_token:
                request["nextToken"] = aws_token
            response = await self.port.list_jobs(request, {"job_queue": queue})
            calls += 1
            for summary in response.get("jobSummaryList", []):
                if summary["status"] in natives and (
                        not statuses or run_status(summary["status"], summary.get("statusReason")) in statuses):
                    runs.append(self._to_run(summary, queue))
            aws_token = response.get("nextToken") or ""
            if not aws_token:
                index += 1
        next_token = paging.encode({"i": index, "t": aws_token}, filters) if index < len(streams) else ""
        return runs, next_token


def submit_job_request(request: SubmitRequest, queue: str, name: str) -> dict[str, Any]:
    """SubmitJob's arguments: only what the caller set is sent (blank fair-share fields never are)."""
    body: dict[str, Any] = {"jobName": name, "jobQueue": queue, "jobDefinition": request.pipeline}
    if request.parameters:
        body["parameters"] = dict(request.parameters)
    if request.share_identifier:
        body["shareIdentifier"] = request.share_identifier
    if request.scheduling_priority_override is not None:
        body["schedulingPriorityOverride"] = request.scheduling_priority_override
    if request.array_size is not None:
        body["arrayProperties"] = {"size": request.array_size}
    if request.timeout_seconds is not None:
        body["timeout"] = {"attemptDurationSeconds": request.timeout_seconds}
    if request.retry_attempts is not None:
        body["retryStrategy"] = {"attempts": request.retry_attempts}
    if request.tags:
        body["tags"] = dict(request.tags)
    if request.propagate_tags is not None:
        body["propagateTags"] = request.propagate_tags
    if request.depends_on:
        body["dependsOn"] = [{"jobId": run_id} for run_id in request.depends_on]
    overrides: dict[str, Any] = {}
    if request.command:
        overrides["command"] = list(request.command)
    if request.environment:
        overrides["environment"] = [{"name": k, "value": v} for k, v in sorted(request.environment.items())]
    resources = [(kind, value) for kind, value in (
        ("VCPU", request.vcpus), ("MEMORY", request.memory_mib), ("GPU", request.gpus)) if value is not None]
    if resources:
        overrides["resourceRequirements"] = [{"type": kind, "value": _resource_value(value)} for kind, value in resources]
    if overrides:
        body["containerOverrides"] = overrides
    return body


def _resource_value(value: float | int) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
