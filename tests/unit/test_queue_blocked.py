"""AWS Batch's "Batch Job Queue Blocked" event: the parser on AWS's documented example, the
advice per reason, and the blocks kept per queue (service/blocked_queues.py) without gRPC."""

import json
from datetime import UTC, datetime

import pytest
from polysync_batch.aws.event_queue import EVENT_PATTERN, SqsEventQueue
from polysync_batch.aws.translate import RunContext
from polysync_batch.domain import errors, queue_blocked
from polysync_batch.domain.models import Run
from polysync_batch.domain.queue_blocked import QueueBlocked
from polysync_batch.domain.status import RunStatus
from polysync_batch.service.blocked_queues import BlockedQueues
from polysync_batch.service.ports import Source

# The example event of the AWS Batch user guide's "Job queue blocked events" page
# (https://docs.aws.amazon.com/batch/latest/userguide/batch-job-queue-blocked-events.html), its
# `detail` a JobDetail with the blocker reason in `statusReason` ("blocked-reason" there).
DOCUMENTED = {
    "version": "0",
    "id": "c8f9c4b5-76e5-d76a-f980-7011e206042b",
    "detail-type": "Batch Job Queue Blocked",
    "source": "aws.batch",
    "account": "123456789012",
    "time": "2022-01-11T23:36:40Z",
    "region": "us-east-1",
    "resources": [
        "arn:aws:batch:us-east-1:123456789012:job/4c7599ae-0a82-49aa-ba5a-4727fcce14a8",
        "arn:aws:batch:us-east-1:123456789012:job-queue/PexjEHappyPathCanary2JobQueue",
    ],
    "detail": {
        "jobArn": "arn:aws:batch:us-east-1:123456789012:job/4c7599ae-0a82-49aa-ba5a-4727fcce14a8",
        "jobName": "event-test",
        "jobId": "4c7599ae-0a82-49aa-ba5a-4727fcce14a8",
        "jobQueue": "arn:aws:batch:us-east-1:123456789012:job-queue/PexjEHappyPathCanary2JobQueue",
        "status": "RUNNABLE",
        "statusReason": "blocked-reason",
        "attempts": [],
        "createdAt": 1641944200058,
        "retryStrategy": {"attempts": 2, "evaluateOnExit": []},
        "dependsOn": [],
        "jobDefinition": "arn:aws:batch:us-east-1:123456789012:job-definition/first-run-job-definition:1",
        "parameters": {},
        "container": {
            "image": "137112412989.dkr.ecr.us-east-1.amazonaws.com/amazonlinux:latest",
            "command": ["sleep", "600"],
            "volumes": [],
            "environment": [],
            "mountPoints": [],
            "ulimits": [],
            "networkInterfaces": [],
            "resourceRequirements": [{"value": "2", "type": "VCPU"}, {"value": "256", "type": "MEMORY"}],
            "secrets": [],
        },
        "tags": {"resourceArn": "arn:aws:batch:us-east-1:123456789012:job/4c7599ae-0a82-49aa-ba5a-4727fcce14a8"},
        "propagateTags": False,
        "platformCapabilities": [],
    },
}
JOB = DOCUMENTED["detail"]["jobId"]
QUEUE_ARN = DOCUMENTED["detail"]["jobQueue"]
# Reasons as "Jobs stuck in a RUNNABLE status" and its capacity page word them.
CAPACITY = (
    "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY - Service cannot fulfill the capacity requested for instance type "
    "[m5.large]"
)
ROLE = "MISCONFIGURATION:SERVICE_ROLE_PERMISSIONS - Batch service role has insufficient permissions"
RESOURCES = (
    "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - The job resource requirement (vCPU/memory/GPU) is higher than that "
    "can be met by the CE(s) attached to the job queue."
)
UNSUPPORTED = "MISCONFIGURATION:EC2_INSTANCE_CONFIGURATION_UNSUPPORTED"
INVALID_CE = "ACTION_REQUIRED - CE(s) associated with the job queue are invalid."


def parse(body: dict):
    queue = SqsEventQueue(None, None, "url", RunContext("prod", "us-east-1", None, 600), "123456789012")
    return queue.parse("receipt", json.dumps(body))


def test_the_documented_example_is_a_block_of_its_queue_and_the_blockers_state():
    event = parse(DOCUMENTED)
    assert not event.rejected, event.problem
    assert event.blocked == QueueBlocked(
        QUEUE_ARN, JOB, "blocked-reason", datetime(2022, 1, 11, 23, 36, 40, tzinfo=UTC)
    )
    # The detail is the blocking job's state, applied like any job event (its reason kept in history).
    assert (event.run.run_id, event.run.native_status, event.run.status_reason) == (JOB, "RUNNABLE", "blocked-reason")
    assert event.run.job_queue == QUEUE_ARN
    assert event.time == event.blocked.time


def test_a_block_without_its_queue_in_detail_takes_it_from_resources_and_a_state_change_has_none():
    body = json.loads(json.dumps(DOCUMENTED))
    del body["detail"]["jobQueue"]
    assert parse(body).blocked.job_queue == QUEUE_ARN
    changed = dict(DOCUMENTED, **{"detail-type": "Batch Job State Change"})
    assert parse(changed).blocked is None and parse(changed).run.run_id == JOB


@pytest.mark.parametrize(
    ("change", "rejected"),
    [
        ({"detail": {"jobId": JOB}}, "malformed"),  # not a job's state
        ({"detail": dict(DOCUMENTED["detail"], status="RUNNING")}, "malformed"),  # AWS sends it for RUNNABLE jobs
        ({"source": "aws.ec2"}, "foreign"),
        ({"account": "999999999999"}, "foreign"),
        ({"detail-type": "Batch Service Job Queue Blocked"}, "foreign"),  # SageMaker service jobs: not runs
    ],
)
def test_what_is_not_a_block_of_this_platform_is_rejected(change, rejected):
    assert parse(dict(DOCUMENTED, **change)).rejected == rejected


def test_the_rule_pattern_delivers_both_kinds():
    assert EVENT_PATTERN["detail-type"] == ["Batch Job State Change", "Batch Job Queue Blocked"]


@pytest.mark.parametrize(
    ("reason", "says", "link"),
    [
        (CAPACITY, "Availability Zones", "job_stuck_in_runnable_capacity.html"),
        (ROLE, "service role", "service_IAM_role.html"),
        (RESOURCES, "validate_only", "job_stuck_in_runnable.html"),
        (UNSUPPORTED, "instance configuration", "time_limit_actions.html"),
        (INVALID_CE, "INVALID", "job_stuck_in_runnable.html"),
        ("blocked-reason", "cancel it", "job_stuck_in_runnable.html"),
    ],
)
def test_advice_follows_the_reason_with_awss_page(reason, says, link):
    text = queue_blocked.warning(QueueBlocked(QUEUE_ARN, JOB, reason), "behind")
    assert says in text and link in text and reason in text
    assert text.startswith(f"Job queue PexjEHappyPathCanary2JobQueue is blocked: run {JOB} at its front")
    assert "blocked by this run" in queue_blocked.warning(QueueBlocked(QUEUE_ARN, JOB, reason), JOB)


# --- the blocks kept per queue -------------------------------------------------------------------


def run(run_id: str, native: str = "RUNNABLE", queue: str = QUEUE_ARN, warnings=()) -> Run:
    return Run(
        run_id, "prod", "hello", 1, "", "job", queue, RunStatus.RUNNING, native, "", None, "", "", False,
        warnings=list(warnings),
    )  # fmt: skip


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def blocks(reads: dict | Exception | None = None):
    clock, told, asked = Clock(), [], []

    async def read(run_ids):
        asked.append(list(run_ids))
        if isinstance(reads, Exception):
            raise reads
        return {run_id: (reads or {}).get(run_id) for run_id in run_ids}

    kept = BlockedQueues("prod", read, told.append, recheck_seconds=60, clock=clock)
    return kept, clock, told, asked


async def test_runnable_runs_of_the_queue_get_the_warning_until_the_blocker_moves_on():
    kept, _, told, _ = blocks()
    kept.record(QueueBlocked(QUEUE_ARN, JOB, CAPACITY))
    assert len(told) == 1 and told[0](run("w")) and not told[0](run("w", "STARTING"))
    assert not told[0](run("w", queue="arn:aws:batch:us-east-1:1:job-queue/other"))
    behind = await kept.annotate(run("behind", warnings=["earlier"]))
    assert behind.warnings[0] == "earlier" and f"run {JOB} at its front" in behind.warnings[1]
    assert "blocked by this run" in (await kept.annotate(run(JOB))).warnings[0]
    assert (await kept.annotate(run("started", "STARTING"))).warnings == []  # no longer RUNNABLE: no warning
    other = "arn:aws:batch:us-east-1:123456789012:job-queue/other"
    assert (await kept.annotate(run("elsewhere", queue=other))).warnings == []
    kept.record(QueueBlocked(QUEUE_ARN, JOB, CAPACITY))  # the same block again: nothing new to tell
    assert len(told) == 1
    kept.on_change(run(JOB, "RUNNABLE"), Source.EVENT, datetime.now(UTC))  # still RUNNABLE: still blocked
    assert (await kept.annotate(run("behind"))).warnings
    kept.on_change(run(JOB, "FAILED"), Source.EVENT, datetime.now(UTC))
    assert (await kept.annotate(run("behind"))).warnings == []
    assert len(told) == 2  # the watchers got their runs again, without it


async def test_a_block_is_rechecked_by_a_read_once_it_is_old_and_ends_when_its_job_has_moved_on():
    kept, clock, _, asked = blocks({JOB: run(JOB, "STARTING")})
    kept.record(QueueBlocked(QUEUE_ARN, JOB, CAPACITY))
    assert (await kept.annotate(run("behind"))).warnings and asked == []  # fresh: no read
    clock.now = 61
    assert (await kept.annotate(run("behind"))).warnings == []
    assert asked == [[JOB]]


async def test_a_failed_recheck_keeps_the_block_and_is_not_retried_within_the_interval():
    kept, clock, _, asked = blocks(errors.aws_unavailable("down", "try later", {}))
    kept.record(QueueBlocked(QUEUE_ARN, JOB, CAPACITY))
    clock.now = 61
    for _ in range(3):
        assert (await kept.annotate(run("behind"))).warnings
    assert asked == [[JOB]]


async def test_memory_is_bounded_per_queue_and_in_queues():
    kept, *_ = blocks()
    for i in range(100):
        kept.record(QueueBlocked(f"arn:aws:batch:r:1:job-queue/q{i}", f"j{i}", CAPACITY))
        kept.record(QueueBlocked(QUEUE_ARN, f"k{i}", CAPACITY))
    assert len(kept._queues) <= 64 and len(kept._queues["PexjEHappyPathCanary2JobQueue"]) <= 8
    assert len(kept._blockers) == sum(len(b) for b in kept._queues.values())
