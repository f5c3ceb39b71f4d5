"""Run-level troubleshooting hints from the original provider description (docs/errors in the README)."""

from __future__ import annotations

from datetime import datetime

RESOURCE_HINT = (
    "the compute environment cannot satisfy the job's vCPU/memory/GPU requirements: check its "
    "maximum vCPUs, its instance types, and the EC2 or Fargate vCPU service quotas"
)
ESSENTIAL_CONTAINER = "Essential container in task exited"
# AWS Batch's own reasons for a job that stays RUNNABLE, e.g. MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT.
STUCK_REASON_PREFIXES = ("MISCONFIGURATION:", "CAPACITY:")


def run_warnings(
    native_status: str,
    status_reason: str,
    create_time: datetime | None,
    now: datetime,
    runnable_warning_seconds: float,
    logs_url: str,
) -> list[str]:
    warnings: list[str] = []
    if native_status == "RUNNABLE":
        if status_reason.startswith(STUCK_REASON_PREFIXES):
            warnings.append(f"AWS Batch reports {status_reason}: {RESOURCE_HINT}.")
        elif create_time and (now - create_time).total_seconds() >= runnable_warning_seconds:
            minutes = int((now - create_time).total_seconds() // 60)
            warnings.append(f"RUNNABLE for {minutes} min: {RESOURCE_HINT}.")
    if native_status == "FAILED" and ESSENTIAL_CONTAINER in status_reason:
        where = f" ({logs_url})" if logs_url else ""
        warnings.append(
            "The container's command failed at start: see its logs" + where + ". Common causes "
            "are a missing Ref:: parameter, a missing IAM permission inside the container, or a "
            "wrong container image."
        )
    return warnings
