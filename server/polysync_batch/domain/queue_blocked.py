"""A blocked job queue (SPEC §13; issue 19 item 4). When AWS Batch finds a RUNNABLE job at the
front of a queue that it cannot place, it sends a "Batch Job Queue Blocked" event (the AWS
Batch user guide, "Job queue blocked events") whose `detail` is that job as DescribeJobs returns
it, with the reason in `statusReason` ("Jobs stuck in a RUNNABLE status" lists the reasons).
Every RUNNABLE run behind it waits on it. Pure: the event's facts in, the warning out; the
service keeps the blocks (service/blocked_queues.py) and adds the warning to the RUNNABLE runs
of the queue that are read or watched."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from polysync_batch.domain.diagnosis import SRC_RUNNABLE, SRC_RUNNABLE_CAPACITY

DETAIL_TYPE = "Batch Job Queue Blocked"
SRC_EVENT = "https://docs.aws.amazon.com/batch/latest/userguide/batch-job-queue-blocked-events.html"
SRC_SERVICE_ROLE = "https://docs.aws.amazon.com/batch/latest/userguide/service_IAM_role.html"
# "Automatic remediation with jobStateTimeLimitActions": which reasons a queue's rule can act on.
SRC_TIME_LIMIT = "https://docs.aws.amazon.com/batch/latest/userguide/job_stuck_in_runnable_time_limit_actions.html"


@dataclass(frozen=True)
class QueueBlocked:
    """One "Batch Job Queue Blocked" event: the queue, the job at its front that blocks it, and why."""

    job_queue: str  # the queue's ARN, as the event names it
    job_id: str  # the blocking job (its run id)
    reason: str  # its statusReason: why AWS Batch cannot place it
    time: datetime | None = None  # the event's time


@dataclass(frozen=True)
class BlockAdvice:
    prefix: str  # the statusReason's start ("Jobs stuck in a RUNNABLE status" lists them)
    text: str
    link: str


# What to do, by the reason AWS gives ("Jobs stuck in a RUNNABLE status" and its capacity,
# misconfiguration and time-limit-action pages); the first matching prefix wins, the last entry
# matches any reason. A jobStateTimeLimitActions rule acts only on CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY,
# MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE, …:JOB_RESOURCE_REQUIREMENT and
# …:EC2_INSTANCE_CONFIGURATION_UNSUPPORTED; SERVICE_ROLE_PERMISSIONS, ACTION_REQUIRED and
# UNDETERMINED need a person.
ADVICE: tuple[BlockAdvice, ...] = (
    BlockAdvice(
        "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY",
        "EC2 has no capacity for the instance types the compute environments allow: wait, allow more instance "
        "types or subnets in other Availability Zones, or give the queue a jobStateTimeLimitActions rule that "
        "cancels a job stuck for this reason so the next one can move up.",
        SRC_RUNNABLE_CAPACITY,
    ),
    BlockAdvice(
        "MISCONFIGURATION:SERVICE_ROLE_PERMISSIONS",
        "The AWS Batch service role lacks permissions it needs to launch instances: fix the compute "
        "environment's service role; cancelling the job only moves the block to the next one.",
        SRC_SERVICE_ROLE,
    ),
    BlockAdvice(
        "MISCONFIGURATION:EC2_INSTANCE_CONFIGURATION_UNSUPPORTED",
        "The compute environments' instance configuration cannot run the job at the front (for example its "
        "AMI or architecture): fix the compute environment, or cancel that job (a jobStateTimeLimitActions rule "
        "can do it) so the next one can move up.",
        SRC_TIME_LIMIT,
    ),
    BlockAdvice(
        "MISCONFIGURATION:",
        "No compute environment of the queue could ever place the job at its front (its vCPUs, memory or GPUs "
        "exceed what they allow): cancel that job (or let a jobStateTimeLimitActions rule do it) and submit it "
        "with less, or raise the compute environments' limits; ExecutePipeline with validate_only checks this "
        "before submitting.",
        SRC_RUNNABLE,
    ),
    BlockAdvice(
        "ACTION_REQUIRED",
        "A compute environment of the queue is INVALID: fix it (DescribeComputeEnvironments shows its "
        "statusReason), then the queue moves again.",
        SRC_RUNNABLE,
    ),
    BlockAdvice(
        "",
        "The job at the front of the queue cannot be placed, so nothing behind it starts: look into what its "
        "reason names (the queue's compute environments, their service role and network), or cancel it so the "
        "next one can move up.",
        SRC_RUNNABLE,
    ),
)


def advice(reason: str) -> BlockAdvice:
    return next(a for a in ADVICE if reason.strip().startswith(a.prefix))


def queue_name(queue: str) -> str:
    """A queue's name from its name or ARN (arn:aws:batch:<region>:<account>:job-queue/<name>)."""
    return queue.rsplit("/", 1)[-1]


def warning(blocked: QueueBlocked, run_id: str) -> str:
    """The warning of a RUNNABLE run of the blocked queue (`run_id` may be the blocking job's)."""
    found = advice(blocked.reason)
    queue = queue_name(blocked.job_queue)
    if run_id == blocked.job_id:
        head = f"Job queue {queue} is blocked by this run, at its front: AWS Batch cannot place it ({blocked.reason})."
    else:
        head = (
            f"Job queue {queue} is blocked: run {blocked.job_id} at its front cannot be placed "
            f"({blocked.reason}), so this run waits behind it."
        )
    return f"{head} {found.text} See {found.link}"
