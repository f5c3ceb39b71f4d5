"""A submit request in Polysync's words, its validation against AWS Batch's documented limits,
and the job name that makes `request_id` idempotent."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from polysync_batch.domain.errors import Violations
from polysync_batch.domain.pipelines import parse_pipeline_ref

JOB_NAME_PREFIX = "Polysync-"
MAX_REQUEST_ID = 128
# Fixed forever: changing it would break idempotency for requests retried across an upgrade.
_REQUEST_ID_NAMESPACE = uuid.UUID("6f1d3c52-8b0e-4d55-9a43-6d2b1f5e0c11")

_QUEUE_NAME_RE = re.compile(r"^[A-Za-z0-9_\-]{1,128}$")
_QUEUE_ARN_RE = re.compile(r"^arn:aws[a-z\-]*:batch:[a-z0-9\-]+:\d{12}:job-queue/[A-Za-z0-9_\-]{1,128}$")
_SHARE_ID_RE = re.compile(r"^[A-Za-z0-9_]{1,255}$")
_ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class SubmitRequest:
    pipeline: str
    job_queue: str = ""
    parameters: dict[str, str] = field(default_factory=dict)
    request_id: str = ""
    share_identifier: str = ""
    scheduling_priority_override: int | None = None
    array_size: int | None = None
    timeout_seconds: int | None = None
    retry_attempts: int | None = None
    command: list[str] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)
    vcpus: float | None = None
    memory_mib: int | None = None
    gpus: int | None = None
    tags: dict[str, str] = field(default_factory=dict)
    propagate_tags: bool | None = None
    depends_on: list[str] = field(default_factory=list)

    @property
    def has_container_overrides(self) -> bool:
        return bool(self.command or self.environment) or any(
            v is not None for v in (self.vcpus, self.memory_mib, self.gpus)
        )


def job_name(platform: str, request_id: str) -> str:
    """`Polysync-<guid>`; the guid is derived from platform + request_id when one is given, so
    any replica, before or after a restart, finds the job a retried request already submitted."""
    if not request_id:
        return f"{JOB_NAME_PREFIX}{uuid.uuid4()}"
    return f"{JOB_NAME_PREFIX}{uuid.uuid5(_REQUEST_ID_NAMESPACE, platform + chr(0) + request_id)}"


def validate_job_queue(queue: str, violations: Violations, field_name: str = "job_queue") -> None:
    if queue and not (_QUEUE_NAME_RE.match(queue) or _QUEUE_ARN_RE.match(queue)):
        violations.add(
            field_name,
            "must be a job queue name (up to 128 letters, digits, '-' and '_') or a job queue ARN",
        )


def validate_run_id(run_id: str, violations: Violations, field_name: str = "run_id") -> None:
    if not run_id:
        violations.add(field_name, "is required: the run id is the AWS Batch job id")
    elif len(run_id) > 128 or any(c.isspace() for c in run_id):
        violations.add(field_name, "must be an AWS Batch job id (no spaces, at most 128 characters)")


def validate_submit(request: SubmitRequest) -> None:
    """Checks every field against AWS Batch's limits, so nothing invalid is sent to AWS."""
    v = Violations()
    if not request.pipeline:
        v.add("pipeline", "is required: a job definition name, name:revision, or ARN")
    elif parse_pipeline_ref(request.pipeline) is None:
        v.add("pipeline", "must be a job definition name (up to 128 letters, digits, '-' and '_'), "
              "name:revision, or a job definition ARN")
    validate_job_queue(request.job_queue, v)
    for key in request.parameters:
        if not key.strip():
            v.add("parameters", "parameter names must not be empty")
    if len(request.request_id) > MAX_REQUEST_ID:
        v.add("request_id", f"must be at most {MAX_REQUEST_ID} characters")
    if request.share_identifier and not _SHARE_ID_RE.match(request.share_identifier):
        v.add("share_identifier", "must be 1-255 letters, digits and '_'")
    _check_range(v, "scheduling_priority_override", request.scheduling_priority_override, 0, 9999)
    _check_range(v, "array_size", request.array_size, 2, 10000)
    _check_range(v, "timeout_seconds", request.timeout_seconds, 60, None)
    _check_range(v, "retry_attempts", request.retry_attempts, 1, 10)
    _check_range(v, "memory_mib", request.memory_mib, 4, None)
    _check_range(v, "gpus", request.gpus, 0, None)
    if request.vcpus is not None and not request.vcpus > 0:
        v.add("vcpus", "must be greater than 0")
    for name in request.environment:
        if not _ENV_NAME_RE.match(name):
            v.add(f"environment[{name}]", "must be a variable name: letters, digits and '_'")
        elif name.startswith("AWS_BATCH"):
            v.add(f"environment[{name}]", "names starting with AWS_BATCH are reserved by AWS Batch")
    _validate_tags(request.tags, v)
    if len(request.depends_on) > 20:
        v.add("depends_on", "at most 20 run ids")
    for index, run_id in enumerate(request.depends_on):
        validate_run_id(run_id, v, f"depends_on[{index}]")
    v.raise_if_any()


def _validate_tags(tags: dict[str, str], v: Violations) -> None:
    if len(tags) > 50:
        v.add("tags", f"at most 50 tags ({len(tags)} given)")
    for key, value in tags.items():
        if not 1 <= len(key) <= 128:
            v.add("tags", "tag keys must be 1-128 characters")
        elif key.lower().startswith("aws:"):
            v.add(f"tags[{key}]", "keys starting with 'aws:' are reserved by AWS")
        if len(value) > 256:
            v.add(f"tags[{key}]", "tag values must be at most 256 characters")


def _check_range(v: Violations, name: str, value: int | None, low: int, high: int | None) -> None:
    if value is None:
        return
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        v.add(name, f"must be {bounds} ({value} given)")
