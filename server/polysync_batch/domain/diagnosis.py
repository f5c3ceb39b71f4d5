"""Why a run failed (SPEC §13): AWS Batch's and ECS's own wording, classified into a cause, and
the advice each cause gets. Pure: strings in, a FailureCause out.

Each pattern names the AWS page its wording comes from (the README's "Why a run failed" table
lists them too). Wording no pattern knows is FailureCause.UNSPECIFIED: never a guess.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass

from polysync_batch.domain.status import CANCELLED_MARKERS


class FailureCause(enum.Enum):
    UNSPECIFIED = "UNSPECIFIED"
    APPLICATION = "APPLICATION"
    OUT_OF_MEMORY = "OUT_OF_MEMORY"
    HOST_TERMINATED = "HOST_TERMINATED"
    IMAGE_PULL = "IMAGE_PULL"
    TIMEOUT = "TIMEOUT"
    DEPENDENCY = "DEPENDENCY"
    CANCELLED = "CANCELLED"
    UNSCHEDULABLE = "UNSCHEDULABLE"
    PLATFORM = "PLATFORM"


# The AWS pages the patterns come from.
SRC_RUNNABLE = "https://docs.aws.amazon.com/batch/latest/userguide/job_stuck_in_runnable.html"
SRC_RUNNABLE_CAPACITY = "https://docs.aws.amazon.com/batch/latest/userguide/job_stuck_in_runnable_capacity.html"
SRC_ECS_STOPPED = "https://docs.aws.amazon.com/AmazonECS/latest/userguide/stopped-task-error-codes.html"
SRC_ECS_OOM = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/out-of-memory.html"
SRC_ECS_CANNOT_START = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cannot-start-container.html"
SRC_RETRIES = "https://docs.aws.amazon.com/batch/latest/userguide/job_retries.html"
SRC_TIMEOUTS = "https://docs.aws.amazon.com/batch/latest/userguide/job_timeouts.html"
SRC_DEPENDENCIES = "https://docs.aws.amazon.com/batch/latest/userguide/job_dependencies.html"
SRC_SPOT = "https://support.seqera.io/support/solutions/articles/73000652826-managing-aws-spot-interruptions-in-seqera-platform"

ESSENTIAL_CONTAINER = "Essential container in task exited"


@dataclass(frozen=True)
class Pattern:
    cause: FailureCause
    regex: re.Pattern[str]
    wording: str  # the AWS wording, as the README table shows it
    source: str  # the page it comes from


def _p(cause: FailureCause, regex: str, wording: str, source: str) -> Pattern:
    return Pattern(cause, re.compile(regex), wording, source)


# In priority order: the first pattern any of a job's texts matches decides.
PATTERNS: tuple[Pattern, ...] = (
    # "Jobs stuck in a RUNNABLE status" (AWS Batch user guide): the statusReason after a job state
    # time limit action ("Canceled by JobStateTimeLimit action due to reason: CAPACITY:…"; the
    # SageMaker variant says "Terminated by …"), and the blocker reasons themselves.
    _p(
        FailureCause.UNSCHEDULABLE,
        r"^(Canceled|Cancelled|Terminated) by JobStateTimeLimit action",
        "Canceled by JobStateTimeLimit action due to reason: <reason>",
        SRC_RUNNABLE_CAPACITY,
    ),
    _p(
        FailureCause.UNSCHEDULABLE,
        r"^MISCONFIGURATION:[A-Z_]+",
        "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT, MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE, …",
        SRC_RUNNABLE,
    ),
    _p(
        FailureCause.UNSCHEDULABLE,
        r"^CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY",
        "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY - Service cannot fulfill the capacity requested …",
        SRC_RUNNABLE_CAPACITY,
    ),
    _p(
        FailureCause.UNSCHEDULABLE,
        r"^ACTION_REQUIRED - CE\(s\) associated with the job queue are invalid",
        "ACTION_REQUIRED - CE(s) associated with the job queue are invalid.",
        SRC_RUNNABLE,
    ),
    # "Job dependencies" (AWS Batch user guide): a failed dependency moves the job PENDING → FAILED;
    # AWS writes this statusReason on it.
    _p(FailureCause.DEPENDENCY, r"^Dependent Job failed", "Dependent Job failed", SRC_DEPENDENCIES),
    # "Job timeouts" (AWS Batch user guide): the attempt is terminated after attemptDurationSeconds.
    _p(
        FailureCause.TIMEOUT,
        r"^Job attempt duration exceeded timeout",
        "Job attempt duration exceeded timeout",
        SRC_TIMEOUTS,
    ),
    # "Automated job retries" (AWS Batch user guide) lists EC2 instance termination as a failure;
    # the statusReason of a Spot reclaim is "Host EC2 (instance i-…) terminated." (as Seqera's
    # "Managing AWS Spot interruptions" quotes it).
    _p(
        FailureCause.HOST_TERMINATED,
        r"^Host EC2 \(instance i-[0-9a-f]+\) terminated",
        "Host EC2 (instance i-…) terminated.",
        SRC_SPOT,
    ),
    # "Troubleshooting Amazon ECS OutOfMemoryError errors".
    _p(
        FailureCause.OUT_OF_MEMORY,
        r"^OutOfMemoryError: Container killed due to memory usage",
        "OutOfMemoryError: Container killed due to memory usage",
        SRC_ECS_OOM,
    ),
    # "Stopped tasks error codes" (Amazon ECS).
    _p(FailureCause.IMAGE_PULL, r"^CannotPullContainerError", "CannotPullContainerError: …", SRC_ECS_STOPPED),
    _p(
        FailureCause.PLATFORM,
        r"^(ResourceInitializationError|CannotStartContainerError|CannotCreateContainerError"
        r"|CannotInspectContainerError|ContainerRuntimeTimeoutError|DockerTimeoutError)",
        "ResourceInitializationError: …, CannotStartContainerError: …, ContainerRuntimeTimeoutError: …",
        SRC_ECS_STOPPED,
    ),
    # "Automated job retries" (AWS Batch user guide) uses this status reason in its evaluateOnExit example.
    _p(FailureCause.PLATFORM, r"^Task failed to start", "Task failed to start", SRC_RETRIES),
)


def match(text: str) -> Pattern | None:
    """The first pattern the text matches, or None."""
    text = text.strip()
    if not text:
        return None
    return next((p for p in PATTERNS if p.regex.search(text)), None)


def _first(texts: Sequence[str]) -> FailureCause | None:
    """The cause of the highest-priority pattern any of the texts matches."""
    found = [p for p in (match(t) for t in texts) if p is not None]
    if not found:
        return None
    return min(found, key=PATTERNS.index).cause


def classify_attempt(status_reason: str, container_reason: str, exit_code: int | None) -> FailureCause:
    """One finished attempt (DescribeJobs attempts[]): what ended it, if it failed."""
    cause = _first([status_reason, container_reason])
    if cause is not None:
        return cause
    return _application(status_reason, container_reason, exit_code)


def classify(
    native_status: str,
    status_reason: str,
    container_reason: str,
    exit_code: int | None,
    last_attempt: tuple[str, str, int | None] | None = None,
) -> FailureCause:
    """A run's cause from the job's statusReason, container.reason and exitCode and its last
    attempt's (statusReason, container.reason, exitCode): UNSPECIFIED unless FAILED."""
    if native_status != "FAILED":
        return FailureCause.UNSPECIFIED
    reason = status_reason or ""
    # A job state time limit action says "Canceled by …" / "Terminated by …": AWS's doing, not a caller's.
    limit = match(reason)
    if limit is not None and limit is PATTERNS[0]:
        return FailureCause.UNSCHEDULABLE
    # A caller's cancel (SPEC §2 status mapping), whatever state the run was in.
    if any(marker in reason for marker in CANCELLED_MARKERS):
        return FailureCause.CANCELLED
    attempt_reason, attempt_container, attempt_exit = last_attempt or ("", "", None)
    cause = _first([reason, container_reason or "", attempt_reason or "", attempt_container or ""])
    if cause is not None:
        return cause
    code = exit_code if exit_code is not None else attempt_exit
    return _application(reason or attempt_reason or "", container_reason or attempt_container or "", code)


def _application(status_reason: str, container_reason: str, exit_code: int | None) -> FailureCause:
    """The container's own command exited non-zero: AWS's wording for it, or no wording at all."""
    if exit_code is None or exit_code == 0:
        return FailureCause.UNSPECIFIED
    known = ("", ESSENTIAL_CONTAINER)
    if status_reason.strip() in known and container_reason.strip() in known:
        return FailureCause.APPLICATION
    return FailureCause.UNSPECIFIED  # an exit code with wording we do not know: not a guess


# -- advice --------------------------------------------------------------------------------------

EVALUATE_ON_EXIT_RULE = (
    '"retryStrategy": {"attempts": 3, "evaluateOnExit": [{"onStatusReason": "Host EC2*", "action": "RETRY"}, '
    '{"onReason": "*", "action": "EXIT"}]}'
)


@dataclass(frozen=True)
class Advice:
    text: str
    link: str  # where AWS documents the fix


ADVICE: dict[FailureCause, Advice] = {
    FailureCause.HOST_TERMINATED: Advice(
        "The host the job ran on was terminated (typically a Spot reclaim), not the job's own fault: run it "
        "again, or let AWS Batch retry it automatically with a retry strategy on the job definition such as "
        + EVALUATE_ON_EXIT_RULE
        + ".",
        SRC_RETRIES,
    ),
    FailureCause.OUT_OF_MEMORY: Advice(
        "The container was killed for using more memory than it was given: raise memory_mib on the submit "
        "(or the definition's MEMORY resource requirement), or lower the job's memory use.",
        SRC_ECS_OOM,
    ),
    FailureCause.IMAGE_PULL: Advice(
        "The container image could not be pulled, so the command never ran (no exit code): check the image "
        "name and tag in the job definition, the registry credentials (the execution role needs "
        "ecr:GetAuthorizationToken and ecr:BatchGetImage; a private registry needs repositoryCredentials), and "
        "that the compute environment can reach the registry (NAT gateway or VPC endpoints).",
        SRC_ECS_STOPPED,
    ),
    FailureCause.TIMEOUT: Advice(
        "An attempt ran longer than its timeout and AWS Batch stopped it: raise timeout_seconds (or the "
        "definition's attemptDurationSeconds), or find out why the job ran long in its logs.",
        SRC_TIMEOUTS,
    ),
    FailureCause.DEPENDENCY: Advice(
        "A run this one depends on failed, so this one never ran: see the failed run among depends_on and "
        "submit again once it succeeds.",
        SRC_DEPENDENCIES,
    ),
    FailureCause.UNSCHEDULABLE: Advice(
        "AWS Batch could never place the job: check the queue's compute environments' limits (maximum vCPUs, "
        "instance types and their memory and GPUs, EC2 or Fargate quotas) against the job's vCPU, memory and "
        "GPU requirements; ExecutePipeline with validate_only checks this before submitting.",
        SRC_RUNNABLE,
    ),
    FailureCause.PLATFORM: Advice(
        "The task failed to start for an AWS-side reason (see the container reason): commonly networking "
        "(a VPC without DNS resolution, no route to ECR, Secrets Manager or CloudWatch Logs) or a secret the "
        "execution role may not read. Running it again may succeed.",
        SRC_ECS_STOPPED,
    ),
}


def advice(cause: FailureCause) -> list[str]:
    """The warning a run with this cause gets: what to do, and where AWS documents it."""
    found = ADVICE.get(cause)
    return [f"{found.text} See {found.link}"] if found else []
