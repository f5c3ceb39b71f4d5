"""The AWS Batch port: every AWS call the service makes, run off the event loop in a bounded
executor, with botocore errors turned into the platform's typed errors."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, Protocol

from polysync_batch.aws import errors as aws_errors
from polysync_batch.aws.clients import AwsClients

# DescribeJobs takes at most 100 job ids per call.
DESCRIBE_JOBS_LIMIT = 100


class BatchPort(Protocol):
    """What the platform logic needs from AWS, in AWS's words."""

    async def describe_active_job_definitions(self, name: str | None = None) -> list[dict]: ...
    async def submit_job(self, request: dict[str, Any], context: dict[str, str]) -> dict: ...
    async def describe_jobs(self, job_ids: list[str]) -> list[dict]: ...
    async def list_jobs(self, request: dict[str, Any], context: dict[str, str]) -> dict: ...
    async def terminate_job(self, job_id: str, reason: str) -> None: ...
    async def describe_job_queue(self, queue: str) -> dict | None: ...
    async def get_caller_identity(self) -> dict: ...


class BatchGateway:
    def __init__(self, clients: AwsClients, executor: Executor | None, context: dict[str, str]) -> None:
        self.clients = clients
        self._executor = executor
        self._context = context  # platform and region, for error metadata

    async def call(self, operation: str, fn: Callable[..., Any], context: dict[str, str] | None = None,
                   **kwargs: Any) -> Any:
        """Runs one blocking boto3 call in the executor; any failure becomes a PlatformError."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, lambda: fn(**kwargs))
        except Exception as exc:  # noqa: BLE001 — translated, never leaked
            raise aws_errors.translate(exc, operation, {**self._context, **(context or {})}) from exc

    async def describe_active_job_definitions(self, name: str | None = None) -> list[dict]:
        """Every ACTIVE revision (of one name, or of all), following nextToken to the end."""
        kwargs: dict[str, Any] = {"status": "ACTIVE"}
        if name:
            kwargs["jobDefinitionName"] = name

        def fetch_all() -> list[dict]:
            paginator = self.clients.batch.get_paginator("describe_job_definitions")
            return [d for page in paginator.paginate(**kwargs) for d in page.get("jobDefinitions", [])]

        return await self.call("DescribeJobDefinitions", fetch_all, {"pipeline": name or ""})

    async def submit_job(self, request: dict[str, Any], context: dict[str, str]) -> dict:
        return await self.call("SubmitJob", self.clients.batch.submit_job, context, **request)

    async def describe_jobs(self, job_ids: list[str]) -> list[dict]:
        if len(job_ids) > DESCRIBE_JOBS_LIMIT:
            raise ValueError(f"DescribeJobs takes at most {DESCRIBE_JOBS_LIMIT} ids")
        response = await self.call("DescribeJobs", self.clients.batch.describe_jobs, jobs=job_ids)
        return response.get("jobs", [])

    async def list_jobs(self, request: dict[str, Any], context: dict[str, str]) -> dict:
        return await self.call("ListJobs", self.clients.batch.list_jobs, context, **request)

    async def terminate_job(self, job_id: str, reason: str) -> None:
        await self.call("TerminateJob", self.clients.batch.terminate_job, {"run_id": job_id},
                        jobId=job_id, reason=reason)

    async def describe_job_queue(self, queue: str) -> dict | None:
        response = await self.call("DescribeJobQueues", self.clients.batch.describe_job_queues,
                                   {"job_queue": queue}, jobQueues=[queue])
        queues = response.get("jobQueues", [])
        return queues[0] if queues else None

    async def get_caller_identity(self) -> dict:
        return await self.call("GetCallerIdentity", self.clients.sts.get_caller_identity)

    async def get_log_events(self, group: str, stream: str, token: str, start_from_head: bool) -> dict | None:
        """One page of a log stream (GetLogEvents); None while the stream does not exist yet."""
        kwargs: dict[str, Any] = {"logGroupName": group, "logStreamName": stream, "startFromHead": start_from_head}
        if token:
            kwargs["nextToken"] = token

        def fetch() -> dict | None:
            try:
                return self.clients.logs.get_log_events(**kwargs)
            except self.clients.logs.exceptions.ResourceNotFoundException:
                return None

        return await self.call("GetLogEvents", fetch, {"log_group": group, "log_stream": stream})
