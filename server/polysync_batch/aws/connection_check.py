"""TestConnection: which identity the platform resolves to, whether its queue exists, and which
of the permissions the service needs it has. A failed check is reported, never raised."""

from __future__ import annotations

import re

from polysync_batch.aws.gateway import BatchGateway
from polysync_batch.aws.platform import PlatformInfo
from polysync_batch.domain import errors
from polysync_batch.domain.connection import CheckResult, ConnectionReport, PermissionCheck, QueueStatus

# Actions that cannot be exercised without side effects; IAM policy simulation checks them when
# the caller may use it (iam:SimulatePrincipalPolicy), otherwise they are reported UNVERIFIED.
SIMULATED_ACTIONS = ("batch:SubmitJob", "batch:TerminateJob", "iam:PassRole")
_ASSUMED_ROLE = re.compile(r"^arn:(aws[a-z\-]*):sts::(\d{12}):assumed-role/([^/]+)/.+$")


async def test_connection(info: PlatformInfo, gateway: BatchGateway, job_queue: str) -> ConnectionReport:
    report = ConnectionReport(platform=info.name, region=info.region)
    try:
        report.caller_arn = (await gateway.get_caller_identity()).get("Arn", "")
    except errors.PlatformError as error:
        report.problems.append(f"credentials: {error.message}")
        return report  # nothing else can work without an identity

    batch = gateway.clients.batch
    queue = job_queue or info.default_job_queue
    if not queue:
        report.problems.append(f"job queue: platform {info.name!r} has no default_job_queue and none was given")
    else:
        async def describe_queue() -> None:
            found = await gateway.describe_job_queue(queue)
            if found is None:
                report.queue = QueueStatus(name=queue, exists=False)
                report.problems.append(
                    f"job queue {queue!r} does not exist in region {info.region}: check the queue "
                    "name or ARN and the platform's region")
                return
            report.queue = QueueStatus(
                name=queue, exists=True, arn=found.get("jobQueueArn", ""), state=found.get("state", ""),
                status=found.get("status", ""), status_reason=found.get("statusReason", ""),
                scheduling_policy_arn=found.get("schedulingPolicyArn", ""))
            if found.get("state") != "ENABLED":
                report.problems.append(f"job queue {queue!r} is {found.get('state')}: it accepts no jobs")

        await _check(report, "batch:DescribeJobQueues", "DescribeJobQueues on the job queue", describe_queue)

    async def describe_definitions() -> None:
        await gateway.call("DescribeJobDefinitions", batch.describe_job_definitions, status="ACTIVE", maxResults=1)

    async def describe_jobs() -> None:
        # An id that matches no job: DescribeJobs answers with an empty list, changing nothing.
        await gateway.describe_jobs(["polysync-connection-test"])

    await _check(report, "batch:DescribeJobDefinitions", "DescribeJobDefinitions (1 result)", describe_definitions)
    await _check(report, "batch:DescribeJobs", "DescribeJobs on an unknown id", describe_jobs)
    if report.queue is not None and report.queue.exists:
        async def list_jobs() -> None:
            await gateway.list_jobs({"jobQueue": queue, "maxResults": 1}, {"job_queue": queue})
        await _check(report, "batch:ListJobs", "ListJobs on the job queue (1 result)", list_jobs)
    report.checks.extend(await _simulate(gateway, report.caller_arn, report.queue))
    return report


async def _check(report: ConnectionReport, permission: str, how: str, probe) -> None:
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


def _policy_source(caller_arn: str) -> str:
    """The IAM principal to simulate: an assumed role's role ARN (without its path, which STS
    does not tell), or the caller ARN itself for users."""
    match = _ASSUMED_ROLE.match(caller_arn)
    if match:
        partition, account, role = match.groups()
        return f"arn:{partition}:iam::{account}:role/{role}"
    return caller_arn


async def _simulate(gateway: BatchGateway, caller_arn: str, queue: QueueStatus | None) -> list[PermissionCheck]:
    resource = queue.arn if queue is not None and queue.arn else "*"
    try:
        response = await gateway.call(
            "SimulatePrincipalPolicy", gateway.clients.iam.simulate_principal_policy,
            PolicySourceArn=_policy_source(caller_arn), ActionNames=list(SIMULATED_ACTIONS), ResourceArns=[resource])
    except errors.PlatformError as error:
        detail = f"not checked: it has side effects and IAM policy simulation failed ({error.message})"
        return [PermissionCheck(action, CheckResult.UNVERIFIED, detail) for action in SIMULATED_ACTIONS]
    decisions = {r["EvalActionName"]: r["EvalDecision"] for r in response.get("EvaluationResults", [])}
    checks = []
    for action in SIMULATED_ACTIONS:
        decision = decisions.get(action, "")
        if decision == "allowed":
            checks.append(PermissionCheck(action, CheckResult.ALLOWED, f"IAM policy simulation on {resource}"))
        elif decision:
            checks.append(PermissionCheck(action, CheckResult.DENIED, f"IAM policy simulation on {resource}: {decision}"))
        else:
            checks.append(PermissionCheck(action, CheckResult.UNVERIFIED, "IAM policy simulation gave no decision"))
    return checks
