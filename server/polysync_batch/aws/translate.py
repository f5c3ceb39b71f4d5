"""AWS Batch shapes (job details, job summaries, job definitions) → Polysync's Run and
Pipeline. The one place where AWS words become Polysync words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from polysync_batch.domain import diagnosis, diagnostics, links
from polysync_batch.domain.models import ArrayInfo, Pipeline, QueueFront, Run, RunAttempt
from polysync_batch.domain.pipelines import required_parameters
from polysync_batch.domain.status import is_terminal, run_message, run_status

DEFAULT_LOG_GROUP = "/aws/batch/job"


@dataclass(frozen=True)
class RunContext:
    """What a job's translation needs to know beyond the job itself."""

    platform: str
    region: str
    console_domain: str | None
    runnable_warning_seconds: float


def to_pipeline(definition: Mapping[str, Any]) -> Pipeline:
    container = definition.get("containerProperties") or {}
    return Pipeline(
        name=definition["jobDefinitionName"],
        revision=int(definition["revision"]),
        arn=definition.get("jobDefinitionArn", ""),
        type=definition.get("type", ""),
        parameters=dict(definition.get("parameters") or {}),
        required_parameters=required_parameters(definition),
        image=container.get("image", "") or _first_image(definition),
        job_role_arn=container.get("jobRoleArn", "") or _ecs_task(definition).get("taskRoleArn", ""),
        tags=dict(definition.get("tags") or {}),
        platform_capabilities=list(definition.get("platformCapabilities") or []),
        container_overrides="containerProperties" in definition,
        **_resources(definition),
    )


def _resources(definition: Mapping[str, Any]) -> dict[str, Any]:
    """vcpus, memory_mib and gpus one container of the definition asks for (resourceRequirements,
    or the older vcpus/memory fields); for a multi-node definition, the largest node range."""
    containers = [definition.get("containerProperties") or {}] + [
        node_range.get("container") or {}
        for node_range in (definition.get("nodeProperties") or {}).get("nodeRangeProperties") or []
    ]
    found: dict[str, Any] = {}
    for container in containers:
        values = {r.get("type"): r.get("value") for r in container.get("resourceRequirements") or []}
        for key, kind, legacy, cast in (
            ("vcpus", "VCPU", "vcpus", float),
            ("memory_mib", "MEMORY", "memory", int),
            ("gpus", "GPU", None, int),
        ):
            raw = values.get(kind, container.get(legacy) if legacy else None)
            try:
                value = cast(float(raw)) if raw is not None else None
            except (TypeError, ValueError):
                value = None
            if value is not None and (found.get(key) is None or value > found[key]):
                found[key] = value
    return found


def to_run(job: Mapping[str, Any], ctx: RunContext, now: datetime | None = None, job_queue: str = "") -> Run:
    """A run from a DescribeJobs job detail or a ListJobs job summary (which has fewer fields)."""
    native = job["status"]
    reason = job.get("statusReason", "") or ""
    exit_code = _exit_code(job)
    status = run_status(native, reason)
    definition_arn = job.get("jobDefinition", "")
    name, revision = _definition_name_revision(definition_arn)
    log_stream = _log_stream(job)
    log_group = _log_group(job)
    logs_url = links.log_stream_console_url(ctx.region, log_group, log_stream, ctx.console_domain) if log_stream else ""
    create_time = _time(job.get("createdAt"))
    attempts = _attempts(job)
    last = attempts[-1] if attempts and attempts[-1].stop_time is not None else None
    cause = diagnosis.classify(
        native,
        reason,
        (job.get("container") or {}).get("reason", "") or "",
        exit_code,
        (last.status_reason, last.container_reason, last.exit_code) if last else None,
    )
    return Run.made(
        run_id=job["jobId"],
        platform=ctx.platform,
        pipeline=name,
        pipeline_revision=revision,
        pipeline_arn=definition_arn,
        job_name=job.get("jobName", ""),
        job_queue=job.get("jobQueue", "") or _queue_arn(job_queue, job),
        status=status,
        native_status=native,
        status_reason=reason,
        exit_code=exit_code,
        message=run_message(status, native, reason, exit_code),
        console_url=links.job_console_url(ctx.region, job["jobId"], ctx.console_domain),
        terminal=is_terminal(native),
        logs_url=logs_url,
        log_stream_name=log_stream,
        log_group_name=log_group if log_stream else "",
        create_time=create_time,
        start_time=_time(job.get("startedAt")),
        stop_time=_time(job.get("stoppedAt")),
        parameters=dict(job.get("parameters") or {}),
        tags=dict(job.get("tags") or {}),
        share_identifier=job.get("shareIdentifier", "") or "",
        scheduling_priority=job.get("schedulingPriority"),
        attempts=len(job.get("attempts") or []),
        attempt_log_streams=[(a.get("container") or {}).get("logStreamName", "") for a in job.get("attempts") or []],
        array=_array(job),
        warnings=diagnostics.run_warnings(
            native,
            reason,
            create_time,
            now or datetime.now(UTC),
            ctx.runnable_warning_seconds,
            logs_url,
        )
        + diagnosis.advice(cause),
        failure_cause=cause,
        attempt_details=attempts,
    )


def _attempts(job: Mapping[str, Any]) -> tuple[RunAttempt, ...]:
    """Each finished attempt (DescribeJobs attempts[]) with its own cause, then the attempt in
    progress while the job is STARTING or RUNNING (AWS lists an attempt only once it ended)."""
    attempts: list[RunAttempt] = []
    for index, attempt in enumerate(job.get("attempts") or []):
        container = attempt.get("container") or {}
        code = container.get("exitCode")
        exit_code = int(code) if code is not None else None
        status_reason = attempt.get("statusReason", "") or ""
        container_reason = container.get("reason", "") or ""
        attempts.append(
            RunAttempt(
                index=index,
                start_time=_time(attempt.get("startedAt")),
                stop_time=_time(attempt.get("stoppedAt")),
                exit_code=exit_code,
                status_reason=status_reason,
                container_reason=container_reason,
                failure_cause=diagnosis.classify_attempt(status_reason, container_reason, exit_code),
                log_stream_name=container.get("logStreamName", "") or "",
            )
        )
    if job.get("status") in ("STARTING", "RUNNING"):
        stream = (job.get("container") or {}).get("logStreamName", "") or ""
        if not attempts or stream != attempts[-1].log_stream_name:
            attempts.append(
                RunAttempt(index=len(attempts), start_time=_time(job.get("startedAt")), log_stream_name=stream)
            )
    return tuple(attempts)


def _queue_arn(job_queue: str, job: Mapping[str, Any]) -> str:
    """A ListJobs summary has no jobQueue: the queue listed, as the ARN DescribeJobs gives, built
    from the job's own ARN (same partition, region and account) when only the name is known."""
    if not job_queue or job_queue.startswith("arn:"):
        return job_queue
    job_arn = job.get("jobArn", "") or ""
    parts = job_arn.split(":")
    if len(parts) < 6 or parts[2] != "batch":
        return job_queue
    return f"arn:{parts[1]}:batch:{parts[3]}:{parts[4]}:job-queue/{job_queue}"


def to_queue_front(snapshot: Mapping[str, Any]) -> QueueFront:
    """A GetJobQueueSnapshot answer: the job ids at the front of the queue, next first."""
    jobs = (snapshot.get("frontOfQueue") or {}).get("jobs") or []
    return [(str(job.get("jobArn", "")).rsplit("/", 1)[-1], _time(job.get("earliestTimeAtPosition"))) for job in jobs]


def _time(millis: Any) -> datetime | None:
    if not millis:
        return None
    return datetime.fromtimestamp(int(millis) / 1000, tz=UTC)


def _exit_code(job: Mapping[str, Any]) -> int | None:
    container = job.get("container") or {}
    if container.get("exitCode") is not None:
        return int(container["exitCode"])
    for attempt in reversed(job.get("attempts") or []):
        code = (attempt.get("container") or {}).get("exitCode")
        if code is not None:
            return int(code)
    return None


def _log_stream(job: Mapping[str, Any]) -> str:
    stream = (job.get("container") or {}).get("logStreamName")
    if stream:
        return stream
    for attempt in reversed(job.get("attempts") or []):
        stream = (attempt.get("container") or {}).get("logStreamName")
        if stream:
            return stream
    return ""


def _log_group(job: Mapping[str, Any]) -> str:
    log_config = (job.get("container") or {}).get("logConfiguration") or {}
    if log_config.get("logDriver") == "awslogs":
        return (log_config.get("options") or {}).get("awslogs-group", DEFAULT_LOG_GROUP)
    return DEFAULT_LOG_GROUP


def _array(job: Mapping[str, Any]) -> ArrayInfo | None:
    props = job.get("arrayProperties")
    if not props:
        return None
    return ArrayInfo(
        size=int(props.get("size") or 0),
        index=props.get("index"),
        status_counts={k: int(v) for k, v in (props.get("statusSummary") or {}).items()},
    )


def _definition_name_revision(arn: str) -> tuple[str, int]:
    """("hello", 2) from arn:aws:batch:...:job-definition/hello:2 (or from "hello:2")."""
    tail = arn.rsplit("/", 1)[-1]
    name, _, revision = tail.partition(":")
    return name, int(revision) if revision.isdigit() else 0


def _ecs_task(definition: Mapping[str, Any]) -> Mapping[str, Any]:
    tasks = (definition.get("ecsProperties") or {}).get("taskProperties") or []
    return tasks[0] if tasks else {}


def _first_image(definition: Mapping[str, Any]) -> str:
    for node_range in (definition.get("nodeProperties") or {}).get("nodeRangeProperties") or []:
        image = (node_range.get("container") or {}).get("image")
        if image:
            return image
    for container in _ecs_task(definition).get("containers") or []:
        if container.get("image"):
            return container["image"]
    for container in ((definition.get("eksProperties") or {}).get("podProperties") or {}).get("containers") or []:
        if container.get("image"):
            return container["image"]
    return ""
