"""TestConnection: which identity the platform resolves to, whether its queue exists, and which
of the permissions the service needs it has. A failed check is reported, never raised; only a
job queue outside the platform's `job_queues` (SPEC §8.5) is refused, before any AWS call.

The §13 reads (batch:DescribeComputeEnvironments for the placement check, batch:GetJobQueueSnapshot
for queue positions) are optional: the service works without them and only loses that part of
the diagnosis. SPEC §2 fixes that a failed check makes `ok` false, so a denial is a problem like
any other, but its line says what is lost and that everything else works."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from polysync_batch.domain import errors, requests
from polysync_batch.domain.connection import CheckResult, ConnectionReport, PermissionCheck, QueueStatus
from polysync_batch.domain.models import PlatformInfo
from polysync_batch.domain.queues import QueueScope
from polysync_batch.service.ports import BatchPort, IdentityPort

# Actions that cannot be exercised without side effects; IAM policy simulation checks them when
# the caller may use it (iam:SimulatePrincipalPolicy), otherwise they are reported UNVERIFIED.
SIMULATED_ACTIONS = ("batch:SubmitJob", "batch:TerminateJob", "iam:PassRole")
# DescribeJobs of an id that matches no job answers with an empty list, changing nothing.
PROBE_RUN_ID = "polysync-connection-test"
# The optional §13 reads: what the service cannot do without each.
LOST_WITHOUT = {
    "batch:DescribeComputeEnvironments": (
        "submits and validate_only skip the placement check (whether the queue's compute environments could "
        "ever place the job; JOB_CANNOT_BE_PLACED) and warn instead"
    ),
    "batch:GetJobQueueSnapshot": "RUNNABLE runs carry no queue_position",
}


async def check_connection(
    info: PlatformInfo, batch: BatchPort, identity: IdentityPort, job_queue: str, queues: QueueScope | None = None
) -> ConnectionReport:
    requests.check_job_queue(job_queue)
    if job_queue and queues is not None:  # another platform's queue is not this one's to probe
        queues.check(job_queue, done="nothing was checked")
    report = ConnectionReport(platform=info.name, region=info.region)
    try:
        report.caller_arn = await identity.caller_arn()
    except errors.PlatformError as error:
        report.problems.append(f"credentials: {error.message}")
        return report  # nothing else can work without an identity

    queue = job_queue or info.default_job_queue
    if not queue:
        report.problems.append(f"job queue: platform {info.name!r} has no default_job_queue and none was given")
    else:

        async def describe_queue() -> None:
            report.queue = found = await batch.job_queue(queue)
            if not found.exists:
                report.problems.append(
                    f"job queue {queue!r} does not exist in region {info.region}: check the queue "
                    "name or ARN and the platform's region"
                )
            elif found.state != "ENABLED":
                report.problems.append(f"job queue {queue!r} is {found.state}: it accepts no jobs")

        await _check(report, "batch:DescribeJobQueues", "DescribeJobQueues on the job queue", describe_queue)

    async def describe_jobs() -> None:
        await batch.describe_runs([PROBE_RUN_ID])

    await _check(report, "batch:DescribeJobDefinitions", "DescribeJobDefinitions (1 result)", batch.sample_pipelines)
    await _check(report, "batch:DescribeJobs", "DescribeJobs on an unknown id", describe_jobs)
    if report.queue is not None and report.queue.exists:

        async def list_jobs() -> None:
            await batch.list_runs_page(
                job_queue=queue,
                array_parent_run_id="",
                native_status=None,
                name_prefix="",
                max_results=1,
                next_token="",
            )

        await _check(report, "batch:ListJobs", "ListJobs on the job queue (1 result)", list_jobs)
    await _optional(
        report,
        "batch:DescribeComputeEnvironments",
        "DescribeComputeEnvironments (1 result)",
        batch.sample_compute_environments,
    )
    if report.queue is not None and report.queue.exists:

        async def snapshot() -> None:
            await batch.queue_front(queue)

        await _optional(report, "batch:GetJobQueueSnapshot", "GetJobQueueSnapshot of the job queue", snapshot)
    report.checks.extend(await _simulate(identity, report.caller_arn, report.queue))
    return report


async def _check(report: ConnectionReport, permission: str, how: str, probe: Callable[[], Awaitable[None]]) -> None:
    try:
        await probe()
    except errors.PermissionDenied as error:
        report.checks.append(PermissionCheck(permission, CheckResult.DENIED, error.message))
        report.problems.append(f"{permission} is denied: {error.message}")
    except errors.PlatformError as error:
        report.checks.append(PermissionCheck(permission, CheckResult.ERROR, error.message))
        report.problems.append(f"{permission} could not be checked: {error.message}")
    else:
        report.checks.append(PermissionCheck(permission, CheckResult.ALLOWED, how))


async def _optional(report: ConnectionReport, permission: str, how: str, probe: Callable[[], Awaitable[None]]) -> None:
    """A §13 read: denied or failing, it is reported with what is lost (and, as every failed check, makes `ok`
    false)."""
    lost = LOST_WITHOUT[permission]
    try:
        await probe()
    except errors.PermissionDenied as error:
        detail = f"{error.message}; without it {lost} (everything else works)"
        report.checks.append(PermissionCheck(permission, CheckResult.DENIED, detail))
        report.problems.append(f"{permission} is denied: without it {lost} (everything else works)")
    except errors.PlatformError as error:
        detail = f"could not be checked ({error.message}); if it is denied, {lost}"
        report.checks.append(PermissionCheck(permission, CheckResult.ERROR, detail))
        report.problems.append(f"{permission} could not be checked: {error.message}")
    else:
        report.checks.append(PermissionCheck(permission, CheckResult.ALLOWED, how))


async def _simulate(identity: IdentityPort, caller_arn: str, queue: QueueStatus | None) -> list[PermissionCheck]:
    resource = queue.arn if queue is not None and queue.arn else "*"
    try:
        decisions = await identity.simulate(caller_arn, list(SIMULATED_ACTIONS), resource)
    except errors.PlatformError as error:
        detail = f"not checked: it has side effects and IAM policy simulation failed ({error.message})"
        return [PermissionCheck(action, CheckResult.UNVERIFIED, detail) for action in SIMULATED_ACTIONS]
    checks = []
    for action in SIMULATED_ACTIONS:
        decision = decisions.get(action, "")
        if decision == "allowed":
            checks.append(PermissionCheck(action, CheckResult.ALLOWED, f"IAM policy simulation on {resource}"))
        elif decision:
            checks.append(
                PermissionCheck(action, CheckResult.DENIED, f"IAM policy simulation on {resource}: {decision}")
            )
        else:
            checks.append(PermissionCheck(action, CheckResult.UNVERIFIED, "IAM policy simulation gave no decision"))
    return checks
