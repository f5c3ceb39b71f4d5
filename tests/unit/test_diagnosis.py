"""The failure-cause classifier against AWS's own wording (SPEC §13; README "Why a run failed")."""

from datetime import UTC, datetime

import pytest
from polysync_batch.aws.translate import RunContext, to_run
from polysync_batch.domain import diagnosis
from polysync_batch.domain.diagnosis import FailureCause as C
from polysync_batch.domain.status import RunStatus

CTX = RunContext("prod", "eu-west-1", None, 600)
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
MS = int(NOW.timestamp() * 1000)
DEF = "arn:aws:batch:eu-west-1:111122223333:job-definition/hello:3"

# The strings as AWS writes them (sources in domain/diagnosis.py and the README table).
OOM = "OutOfMemoryError: Container killed due to memory usage"
SPOT = "Host EC2 (instance i-0282b396e52b4c95d) terminated."
PULL = (
    'CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "123456789012'
    '.dkr.ecr.us-east-1.amazonaws.com/api:v42": not found'
)
INIT = "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed"
START = "CannotStartContainerError: failed to get container status: context deadline exceeded"
TIMEOUT = "Job attempt duration exceeded timeout"
DEPENDENCY = "Dependent Job failed"
LIMIT = "Canceled by JobStateTimeLimit action due to reason: CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY"
LIMIT_MISCONFIG = "Canceled by JobStateTimeLimit action due to reason: MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT"
ESSENTIAL = "Essential container in task exited"


@pytest.mark.parametrize(
    ("reason", "container_reason", "exit_code", "cause"),
    [
        (ESSENTIAL, "", 3, C.APPLICATION),
        ("", "", 2, C.APPLICATION),
        (ESSENTIAL, OOM, 137, C.OUT_OF_MEMORY),
        (OOM, OOM, 137, C.OUT_OF_MEMORY),
        (SPOT, "", None, C.HOST_TERMINATED),
        (SPOT, "", 143, C.HOST_TERMINATED),
        (PULL, PULL, None, C.IMAGE_PULL),
        (ESSENTIAL, PULL, None, C.IMAGE_PULL),
        (TIMEOUT, "", None, C.TIMEOUT),
        (DEPENDENCY, "", None, C.DEPENDENCY),
        ("Cancelled by Polysync", "", None, C.CANCELLED),
        ("Cancelled by Polysync: nightly rerun", "", None, C.CANCELLED),
        ("Terminated by admin", "", 143, C.CANCELLED),
        (LIMIT, "", None, C.UNSCHEDULABLE),
        (LIMIT_MISCONFIG, "", None, C.UNSCHEDULABLE),
        ("Terminated by JobStateTimeLimit action due to reason: MISCONFIGURATION:X", "", None, C.UNSCHEDULABLE),
        (INIT, INIT, None, C.PLATFORM),
        (ESSENTIAL, START, None, C.PLATFORM),
        ("Task failed to start", "", None, C.PLATFORM),
        # Unknown wording is never guessed.
        ("Something new AWS says", "", None, C.UNSPECIFIED),
        ("Something new AWS says", "", 1, C.UNSPECIFIED),
        (ESSENTIAL, "", None, C.UNSPECIFIED),
        ("", "", None, C.UNSPECIFIED),
    ],
)
def test_failed_job_cause(reason, container_reason, exit_code, cause):
    assert diagnosis.classify("FAILED", reason, container_reason, exit_code) is cause


@pytest.mark.parametrize("native", ["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"])
def test_no_cause_unless_failed(native):
    assert diagnosis.classify(native, OOM, OOM, 137) is C.UNSPECIFIED


def test_cancel_wins_whatever_an_attempt_said():
    cause = diagnosis.classify("FAILED", "Cancelled by Polysync", "", None, (SPOT, "", None))
    assert cause is C.CANCELLED


def test_last_attempt_decides_when_the_job_says_nothing_specific():
    assert diagnosis.classify("FAILED", ESSENTIAL, "", None, (ESSENTIAL, OOM, 137)) is C.OUT_OF_MEMORY


def test_host_ec2_must_name_an_instance():
    assert diagnosis.classify("FAILED", "Host EC2 terminated somewhere", "", None) is C.UNSPECIFIED


def test_every_cause_but_application_and_cancel_has_advice_with_a_link():
    for cause in C:
        advice = diagnosis.advice(cause)
        if cause in (C.UNSPECIFIED, C.APPLICATION, C.CANCELLED):
            assert advice == []
        else:
            assert len(advice) == 1 and "https://docs.aws.amazon.com/" in advice[0], cause
    assert "evaluateOnExit" in diagnosis.advice(C.HOST_TERMINATED)[0]
    assert "memory_mib" in diagnosis.advice(C.OUT_OF_MEMORY)[0]
    assert "registry" in diagnosis.advice(C.IMAGE_PULL)[0]
    assert "maximum vCPUs" in diagnosis.advice(C.UNSCHEDULABLE)[0]


def job(**extra):
    return {
        "jobArn": "arn:aws:batch:eu-west-1:111122223333:job/j-1",
        "jobId": "j-1",
        "jobName": "Polysync-x",
        "jobQueue": "arn:aws:batch:eu-west-1:111122223333:job-queue/q",
        "status": "FAILED",
        "jobDefinition": DEF,
        "createdAt": MS,
        **extra,
    }


def test_spot_reclaim_then_success_is_two_attempts_with_their_own_causes():
    run = to_run(
        job(
            status="SUCCEEDED",
            statusReason=ESSENTIAL,
            container={"exitCode": 0, "logStreamName": "hello/default/t2"},
            attempts=[
                {
                    "container": {"logStreamName": "hello/default/t1", "taskArn": "t1"},
                    "startedAt": MS + 1000,
                    "stoppedAt": MS + 5000,
                    "statusReason": SPOT,
                },
                {
                    "container": {"exitCode": 0, "logStreamName": "hello/default/t2", "reason": ""},
                    "startedAt": MS + 9000,
                    "stoppedAt": MS + 12000,
                    "statusReason": ESSENTIAL,
                },
            ],
        ),
        CTX,
        NOW,
    )
    assert run.failure_cause is C.UNSPECIFIED and run.status is RunStatus.SUCCEEDED
    first, second = run.attempt_details
    assert (first.index, first.failure_cause, first.exit_code, first.log_stream_name) == (
        0,
        C.HOST_TERMINATED,
        None,
        "hello/default/t1",
    )
    assert first.start_time == datetime.fromtimestamp((MS + 1000) / 1000, UTC)
    assert (second.index, second.failure_cause, second.exit_code) == (1, C.UNSPECIFIED, 0)


def test_oom_on_the_last_attempt_gives_the_run_its_cause_and_advice():
    run = to_run(
        job(
            statusReason=ESSENTIAL,
            container={"exitCode": 137, "reason": OOM, "logStreamName": "s"},
            attempts=[{"container": {"exitCode": 137, "reason": OOM, "logStreamName": "s"}, "statusReason": ESSENTIAL}],
        ),
        CTX,
        NOW,
    )
    assert run.failure_cause is C.OUT_OF_MEMORY
    assert run.attempt_details[0].container_reason == OOM
    assert any("memory_mib" in w for w in run.warnings)


def test_multi_node_child_and_array_child_classify_like_any_job():
    node = to_run(
        job(jobId="j-1#1", statusReason=ESSENTIAL, container={"exitCode": 137, "reason": OOM}, attempts=[]), CTX, NOW
    )
    child = to_run(job(jobId="j-1:7", statusReason=PULL, arrayProperties={"index": 7}), CTX, NOW)
    parent = to_run(job(statusReason="", nodeProperties={"numNodes": 2}), CTX, NOW)
    assert node.failure_cause is C.OUT_OF_MEMORY
    assert child.failure_cause is C.IMAGE_PULL and child.array.index == 7
    assert parent.failure_cause is C.UNSPECIFIED  # the parent says nothing: its nodes carry the cause


def test_running_job_lists_the_attempt_in_progress_after_the_failed_one():
    run = to_run(
        job(
            status="RUNNING",
            startedAt=MS + 9000,
            container={"logStreamName": "t2"},
            attempts=[{"container": {"logStreamName": "t1"}, "statusReason": SPOT, "stoppedAt": MS + 5000}],
        ),
        CTX,
        NOW,
    )
    assert [(a.index, a.log_stream_name, a.failure_cause) for a in run.attempt_details] == [
        (0, "t1", C.HOST_TERMINATED),
        (1, "t2", C.UNSPECIFIED),
    ]
    assert run.failure_cause is C.UNSPECIFIED


def test_a_list_jobs_summary_names_its_queue_by_arn():
    summary = {k: v for k, v in job(status="RUNNING").items() if k != "jobQueue"}
    run = to_run(summary, CTX, NOW, job_queue="q")
    assert run.job_queue == "arn:aws:batch:eu-west-1:111122223333:job-queue/q"
