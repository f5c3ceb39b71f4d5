"""AWS Batch's "Batch Job Queue Blocked" EventBridge event → QueueBlocked (domain/queue_blocked.py).

The envelope is EventBridge's (source `aws.batch`, detail-type "Batch Job Queue Blocked"),
`resources` names the job's and the queue's ARNs, and `detail` resembles the JobDetail of
DescribeJobs: `jobId`, `jobQueue`, `status` RUNNABLE and the blocker reason in `statusReason`
(the AWS Batch user guide, "Job queue blocked events"). aws/event_queue.py checks the envelope's
source, account, region and time and reads `detail` as the job's state; this reads the block."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from polysync_batch.domain.queue_blocked import DETAIL_TYPE, QueueBlocked

__all__ = ["DETAIL_TYPE", "parse_blocked"]


def parse_blocked(envelope: dict[str, Any], time: datetime | None) -> QueueBlocked:
    """The block an event reports; KeyError, TypeError or ValueError when it is not one."""
    detail = envelope["detail"]
    job_id = detail["jobId"]
    queue = detail.get("jobQueue") or next(
        (r for r in envelope.get("resources") or [] if isinstance(r, str) and ":job-queue/" in r), ""
    )
    reason = detail.get("statusReason") or ""
    if detail.get("status") != "RUNNABLE":  # AWS sends it for a RUNNABLE job at the front of the queue
        raise ValueError(f"a queue blocked event of a job that is {detail.get('status')!r}, not RUNNABLE")
    if not (isinstance(job_id, str) and job_id and isinstance(queue, str) and queue and isinstance(reason, str)):
        raise ValueError("a queue blocked event names its job (detail.jobId) and its queue (detail.jobQueue)")
    return QueueBlocked(job_queue=queue, job_id=job_id, reason=reason, time=time)
