"""The BatchPort over boto3's AWS Batch client: builds each AWS request from Polysync's
request and translates each answer back (aws/translate.py). The read calls on the hot paths,
DescribeJobs and ListJobs, go over aws/wire.BatchWire where the platform has one (the same
answers and errors without botocore's per-call pipeline), except while botocore is traced: then
through the boto3 client, whose instrumentation makes each call's span."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from polysync_batch.aws import errors as aws_errors
from polysync_batch.aws import translate
from polysync_batch.aws.calls import AwsCaller
from polysync_batch.aws.translate import RunContext, to_pipeline, to_run
from polysync_batch.aws.wire import botocore_traced
from polysync_batch.domain.connection import QueueStatus
from polysync_batch.domain.errors import PermissionDenied
from polysync_batch.domain.models import ListedRun, Pipeline, QueueFront, Run
from polysync_batch.domain.pipelines import latest_revisions
from polysync_batch.domain.placement import ComputeEnvironment, QueueCapacity
from polysync_batch.domain.submit import SubmitRequest
from polysync_batch.service.ports import DESCRIBE_LIMIT


class BatchAdapter:
    def __init__(
        self, batch_client: Any, submit_client: Any, call: AwsCaller, run_context: RunContext, wire: Any = None
    ) -> None:
        self._batch = batch_client
        self._submit_client = submit_client
        self._call = call
        self._run_context = run_context
        self._wire = wire  # aws/wire.BatchWire, or None: `batch_client` for every call

    def _reader(self) -> Any:
        """What sends DescribeJobs and ListJobs: the wire, or the boto3 client while tracing is on."""
        return self._wire if self._wire is not None and not botocore_traced() else self._batch

    def _to_run(self, job: dict, job_queue: str = "") -> Run:
        return to_run(job, self._run_context, job_queue=job_queue)

    async def pipelines(self, name: str | None = None, revision: int | None = None) -> list[Pipeline]:
        kwargs: dict[str, Any] = {"status": "ACTIVE"}
        if name:
            kwargs["jobDefinitionName"] = name

        def fetch_all() -> list[dict]:  # follows nextToken to the end
            paginator = self._batch.get_paginator("describe_job_definitions")
            return [d for page in paginator.paginate(**kwargs) for d in page.get("jobDefinitions", [])]

        # By name, then the revision: one path for names, name:revision and ARNs (the
        # jobDefinitions=[name:revision] form is not understood by every emulator).
        found = [
            d
            for d in await self._call("DescribeJobDefinitions", fetch_all, {"pipeline": name or ""})
            if (not name or d["jobDefinitionName"] == name) and (revision is None or d["revision"] == revision)
        ]
        return [to_pipeline(d) for d in latest_revisions(found)]

    async def sample_pipelines(self) -> None:
        await self._call("DescribeJobDefinitions", self._batch.describe_job_definitions, status="ACTIVE", maxResults=1)

    async def sample_compute_environments(self) -> None:
        await self._call("DescribeComputeEnvironments", self._batch.describe_compute_environments, maxResults=1)

    async def submit(self, request: SubmitRequest, job_queue: str, job_name: str) -> str:
        response = await self._call(
            "SubmitJob",
            self._submit_client.submit_job,
            {"job_queue": job_queue, "pipeline": request.pipeline},
            translate=aws_errors.translate_submit,
            **submit_job_request(request, job_queue, job_name),
        )
        return response["jobId"]

    async def runs_named(self, job_queue: str, job_name: str) -> list[Run]:
        response = await self._call(
            "ListJobs",
            self._reader().list_jobs,
            {"job_queue": job_queue},
            jobQueue=job_queue,
            filters=[{"name": "JOB_NAME", "values": [job_name]}],
        )
        matches = [s for s in response.get("jobSummaryList", []) if s.get("jobName") == job_name]
        return [self._to_run(s, job_queue) for s in sorted(matches, key=lambda s: s.get("createdAt", 0))]

    async def describe_runs(self, run_ids: list[str]) -> list[Run]:
        if len(run_ids) > DESCRIBE_LIMIT:
            raise ValueError(f"DescribeJobs takes at most {DESCRIBE_LIMIT} ids")
        response = await self._call("DescribeJobs", self._reader().describe_jobs, jobs=run_ids)
        return [self._to_run(job) for job in response.get("jobs", [])]

    async def list_runs_page(
        self,
        *,
        job_queue: str,
        array_parent_run_id: str,
        native_status: str | None,
        name_prefix: str,
        max_results: int,
        next_token: str,
    ) -> tuple[list[Run], str]:
        request: dict[str, Any] = {"maxResults": max_results}
        if array_parent_run_id:
            request["arrayJobId"] = array_parent_run_id
        else:
            request["jobQueue"] = job_queue
        if name_prefix:
            request["filters"] = [{"name": "JOB_NAME", "values": [f"{name_prefix}*"]}]
        elif native_status:
            request["jobStatus"] = native_status
        if next_token:
            request["nextToken"] = next_token
        response = await self._call("ListJobs", self._reader().list_jobs, {"job_queue": job_queue}, **request)
        runs = [self._to_run(summary, job_queue) for summary in response.get("jobSummaryList", [])]
        return runs, response.get("nextToken") or ""

    async def list_runs(
        self, job_queue: str, *, native_status: str | None = None, created_after: datetime | None = None
    ) -> list[ListedRun]:
        """Every job of the queue (following nextToken, 1,000 per page): in `native_status`, or
        created after `created_after` (the AFTER_CREATED_AT filter lists every status), with the
        status and reason its summary gives. The feed's discovery."""
        request: dict[str, Any] = {"jobQueue": job_queue, "maxResults": 1000}
        if created_after is not None:
            millis = str(int(created_after.timestamp() * 1000))
            request["filters"] = [{"name": "AFTER_CREATED_AT", "values": [millis]}]
        elif native_status:
            request["jobStatus"] = native_status
        listed: list[ListedRun] = []
        while True:
            response = await self._call("ListJobs", self._reader().list_jobs, {"job_queue": job_queue}, **request)
            listed += [
                ListedRun(summary["jobId"], summary.get("status", ""), summary.get("statusReason", ""))
                for summary in response.get("jobSummaryList", [])
            ]
            if not response.get("nextToken"):
                return listed
            request["nextToken"] = response["nextToken"]

    async def terminate(self, run_id: str, reason: str) -> None:
        await self._call("TerminateJob", self._batch.terminate_job, {"run_id": run_id}, jobId=run_id, reason=reason)

    async def job_queue(self, job_queue: str) -> QueueStatus:
        response = await self._call(
            "DescribeJobQueues", self._batch.describe_job_queues, {"job_queue": job_queue}, jobQueues=[job_queue]
        )
        queues = response.get("jobQueues", [])
        if not queues:
            return QueueStatus(name=job_queue, exists=False)
        return _queue_status(job_queue, queues[0])

    async def queue_capacity(self, job_queue: str) -> QueueCapacity:
        response = await self._call(
            "DescribeJobQueues", self._batch.describe_job_queues, {"job_queue": job_queue}, jobQueues=[job_queue]
        )
        queues = response.get("jobQueues", [])
        if not queues:
            return QueueCapacity(QueueStatus(name=job_queue, exists=False), ())
        found = queues[0]
        queue = _queue_status(job_queue, found)
        order = sorted(found.get("computeEnvironmentOrder") or [], key=lambda o: o.get("order", 0))
        names = [o["computeEnvironment"] for o in order if o.get("computeEnvironment")]
        if not names:
            return QueueCapacity(queue, ())
        try:
            described = await self._call(
                "DescribeComputeEnvironments",
                self._batch.describe_compute_environments,
                {"job_queue": job_queue},
                computeEnvironments=names,
            )
        except PermissionDenied as denied:
            return QueueCapacity(queue, None, unreadable=denied.message)
        return QueueCapacity(
            queue, tuple(_compute_environment(env) for env in described.get("computeEnvironments", []))
        )

    async def queue_front(self, job_queue: str) -> QueueFront:
        response = await self._call(
            "GetJobQueueSnapshot", self._batch.get_job_queue_snapshot, {"job_queue": job_queue}, jobQueue=job_queue
        )
        return translate.to_queue_front(response)


def _compute_environment(env: dict[str, Any]) -> ComputeEnvironment:
    resources = env.get("computeResources") or {}
    max_vcpus = resources.get("maxvCpus")
    return ComputeEnvironment(
        name=env.get("computeEnvironmentName", ""),
        type=resources.get("type", "") if env.get("type") == "MANAGED" else "UNMANAGED",
        state=env.get("state", ""),
        status=env.get("status", ""),
        max_vcpus=float(max_vcpus) if max_vcpus is not None and env.get("type") == "MANAGED" else None,
        instance_types=tuple(resources.get("instanceTypes") or ()),
    )


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
    resources = [
        (kind, value)
        for kind, value in (("VCPU", request.vcpus), ("MEMORY", request.memory_mib), ("GPU", request.gpus))
        if value is not None
    ]
    if resources:
        overrides["resourceRequirements"] = [
            {"type": kind, "value": _resource_value(value)} for kind, value in resources
        ]
    if overrides:
        body["containerOverrides"] = overrides
    return body


def _resource_value(value: float | int) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _queue_status(job_queue: str, found: dict) -> QueueStatus:
    """A queue as DescribeJobQueues describes it."""
    return QueueStatus(
        name=job_queue,
        exists=True,
        arn=found.get("jobQueueArn", ""),
        state=found.get("state", ""),
        status=found.get("status", ""),
        status_reason=found.get("statusReason", ""),
        scheduling_policy_arn=found.get("schedulingPolicyArn", ""),
    )
