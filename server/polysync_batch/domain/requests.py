"""What a request may hold: every check of a request field, in one place, against the
contract's limits and AWS Batch's documented ones, so nothing invalid reaches AWS. Each check
collects into `Violations`, so a caller learns every bad field at once."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from polysync_batch.domain.errors import Violations
from polysync_batch.domain.pipelines import parse_pipeline_ref
from polysync_batch.domain.status import RunStatus
from polysync_batch.domain.submit import FINGERPRINT_TAG, MAX_REQUEST_ID, SubmitRequest

# The contract's limits.
MAX_RUN_IDS = 1000  # BatchGetPipelineRuns and WatchPipelineRuns
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
MAX_CANCEL_REASON = 1000

_QUEUE_NAME_RE = re.compile(r"^[A-Za-z0-9_\-]{1,128}$")
_QUEUE_ARN_RE = re.compile(r"^arn:aws[a-z\-]*:batch:[a-z0-9\-]+:\d{12}:job-queue/[A-Za-z0-9_\-]{1,128}$")
_SHARE_ID_RE = re.compile(r"^[A-Za-z0-9_]{1,255}$")
_ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PIPELINE_REQUIRED = "is required: a job definition name, name:revision, or ARN"


@dataclass(frozen=True)
class RunQuery:
    """ListPipelineRuns. `statuses` holds None for a value that is not a RunStatus."""

    job_queue: str = ""
    statuses: list[RunStatus | None] = field(default_factory=list)
    name_prefix: str = ""
    array_parent_run_id: str = ""
    page_size: int = 0
    page_token: str = ""


@dataclass(frozen=True)
class LogsRequest:
    run_id: str
    follow: bool = False
    start_from_head: bool = False
    attempt: int | None = None
    array_index: int | None = None


def check_run_id(run_id: str) -> None:
    v = Violations()
    validate_run_id(run_id, v)
    v.raise_if_any()


def check_run_ids(run_ids: list[str]) -> None:
    v = Violations()
    if not 1 <= len(run_ids) <= MAX_RUN_IDS:
        v.add("run_ids", f"must hold 1 to {MAX_RUN_IDS} run ids ({len(run_ids)} given)")
    for index, run_id in enumerate(run_ids):
        validate_run_id(run_id, v, f"run_ids[{index}]")
    v.raise_if_any()


def check_job_queue(queue: str) -> None:
    v = Violations()
    validate_job_queue(queue, v)
    v.raise_if_any()


def check_pipeline(pipeline: str) -> None:
    v = Violations()
    _validate_pipeline(pipeline, v)
    v.raise_if_any()


def check_cancel(run_id: str, reason: str) -> None:
    v = Violations()
    validate_run_id(run_id, v)
    if len(reason) > MAX_CANCEL_REASON:
        v.add("reason", f"must be at most {MAX_CANCEL_REASON} characters")
    v.raise_if_any()


def check_run_query(query: RunQuery) -> None:
    v = Violations()
    validate_job_queue(query.job_queue, v)
    if query.array_parent_run_id:
        validate_run_id(query.array_parent_run_id, v, "array_parent_run_id")
    if any(status is None for status in query.statuses):
        v.add("statuses", "must hold RUN_STATUS_RUNNING, _SUCCEEDED, _FAILED or _CANCELLED")
    _validate_page_size(query.page_size, v)
    v.raise_if_any()


def check_page_size(requested: int) -> int:
    """The page size to use: the requested one, or the default for 0."""
    v = Violations()
    _validate_page_size(requested, v)
    v.raise_if_any()
    return requested or DEFAULT_PAGE_SIZE


def check_logs(request: LogsRequest) -> None:
    v = Violations()
    validate_run_id(request.run_id, v)
    for name in ("attempt", "array_index"):
        value = getattr(request, name)
        if value is not None and value < 0:
            v.add(name, "must be 0 or more")
    v.raise_if_any()


def check_queue_given(queue: str, platform: str) -> None:
    """A job queue resolved from the request or the platform's default."""
    if not queue:
        v = Violations()
        v.add("job_queue", f"is required: platform {platform!r} has no default_job_queue")
        v.raise_if_any()


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


def _validate_pipeline(pipeline: str, v: Violations) -> None:
    if not pipeline:
        v.add("pipeline", PIPELINE_REQUIRED)
    elif parse_pipeline_ref(pipeline) is None:
        v.add(
            "pipeline",
            "must be a job definition name (up to 128 letters, digits, '-' and '_'), "
            "name:revision, or a job definition ARN",
        )


def _validate_page_size(requested: int, v: Violations) -> None:
    if requested < 0 or requested > MAX_PAGE_SIZE:
        v.add("page_size", f"must be between 0 and {MAX_PAGE_SIZE} ({requested} given)")


def validate_submit(request: SubmitRequest) -> None:
    """Checks every field against AWS Batch's limits, so nothing invalid is sent to AWS."""
    v = Violations()
    _validate_pipeline(request.pipeline, v)
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
    if request.request_id and (len(request.tags) >= 50 or FINGERPRINT_TAG in request.tags):
        v.add("tags", f"with a request_id, at most 49 tags and none named {FINGERPRINT_TAG} (the service's own)")
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


def check_feed_tags(tags: dict[str, str]) -> None:
    """WatchRunChanges' tag filter: tags as a run can have them (at most 50, AWS's sizes)."""
    v = Violations()
    _validate_tags(tags, v)
    v.raise_if_any()
