"""A submit request in Polysync's words, and the job name that makes `request_id` idempotent.
Its checks are in `domain.requests`."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from polysync_batch.domain.models import Run

JOB_NAME_PREFIX = "Polysync-"
MAX_REQUEST_ID = 128
# Fixed forever: changing it would break idempotency for requests retried across an upgrade.
_REQUEST_ID_NAMESPACE = uuid.UUID("6f1d3c52-8b0e-4d55-9a43-6d2b1f5e0c11")


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
    validate_only: bool = False  # SPEC §13: every check, nothing submitted, no request_id claimed

    @property
    def has_container_overrides(self) -> bool:
        return bool(self.command or self.environment) or any(
            v is not None for v in (self.vcpus, self.memory_mib, self.gpus)
        )


@dataclass(frozen=True)
class Submitted:
    """What ExecutePipeline answers: the run (None for validate_only), whether an earlier submit
    of the same request_id was found instead, and anything doubtful that did not stop it."""

    run: Run | None
    deduplicated: bool = False
    warnings: list[str] = field(default_factory=list)


def job_name(platform: str, request_id: str, caller: str | None = None) -> str:
    """`Polysync-<guid>`; the guid is derived from platform + request_id when one is given, so
    any replica, before or after a restart, finds the job a retried request already submitted.
    With caller authentication the identified caller is part of it (SPEC §8.5): another
    caller's identical request_id names another job. Without it the name is what it always was."""
    if not request_id:
        return f"{JOB_NAME_PREFIX}{uuid.uuid4()}"
    # JSON has no raw NUL, so no caller's key is ever a key of the first form.
    key = platform + chr(0) + request_id if caller is None else json.dumps(["caller", platform, caller, request_id])
    return f"{JOB_NAME_PREFIX}{uuid.uuid5(_REQUEST_ID_NAMESPACE, key)}"


# The job tag that carries a submit's fingerprint, so that any replica, even after a restart,
# tells a retry of the request (same fingerprint) from a different request under its request_id.
FINGERPRINT_TAG = "polysync:request-fingerprint"


def fingerprint(request: SubmitRequest, job_queue: str) -> str:
    """A digest of everything the request asks for except its request_id, with the queue it
    resolved to (by name): equal for a retry, different if anything else differs."""
    fields = dataclasses.asdict(request)
    fields.pop("request_id")
    fields["job_queue"] = job_queue.rsplit("/", 1)[-1] if job_queue.startswith("arn:") else job_queue
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def with_fingerprint(request: SubmitRequest, value: str) -> SubmitRequest:
    """The request with its fingerprint among the job's tags."""
    return dataclasses.replace(request, tags={**request.tags, FINGERPRINT_TAG: value})
