from datetime import UTC, datetime, timedelta

from polysync_batch.aws.translate import RunContext, to_pipeline, to_run
from polysync_batch.domain.status import RunStatus

CTX = RunContext("prod", "eu-west-1", None, 600)
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
ARN = "arn:aws:batch:eu-west-1:111122223333:job-definition/hello:3"


def job(**extra):
    return {
        "jobId": "j-1",
        "jobName": "Polysync-x",
        "jobQueue": "arn:q",
        "status": "RUNNING",
        "jobDefinition": ARN,
        "createdAt": int(NOW.timestamp() * 1000),
        **extra,
    }


def test_failed_job_surfaces_exit_code_reason_and_hint():
    run = to_run(
        job(
            status="FAILED",
            statusReason="Essential container in task exited",
            container={"exitCode": 3, "logStreamName": "hello/default/t1"},
        ),
        CTX,
        NOW,
    )
    assert run.status is RunStatus.FAILED and run.terminal
    assert run.exit_code == 3
    assert run.message == "Failed: Essential container in task exited (exit code 3)"
    assert run.pipeline == "hello" and run.pipeline_revision == 3
    assert run.log_group_name == "/aws/batch/job"
    assert "log-events/hello$252Fdefault$252Ft1" in run.logs_url
    assert any("Ref::" in w for w in run.warnings)


def test_exit_code_is_absent_not_zero_when_unknown():
    run = to_run(job(), CTX, NOW)
    assert run.exit_code is None and run.logs_url == "" and not run.terminal


def test_exit_code_from_last_attempt_and_awslogs_group():
    run = to_run(
        job(
            status="SUCCEEDED",
            attempts=[{"container": {"exitCode": 1}}, {"container": {"exitCode": 0, "logStreamName": "s"}}],
            container={"logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/custom"}}},
        ),
        CTX,
        NOW,
    )
    assert run.exit_code == 0 and run.attempts == 2
    assert run.log_stream_name == "s" and run.log_group_name == "/custom"


def test_terminated_is_cancelled():
    run = to_run(job(status="FAILED", statusReason="Terminated"), CTX, NOW)
    assert run.status is RunStatus.CANCELLED


def test_runnable_too_long_warns_about_compute_environment():
    created = NOW - timedelta(minutes=11)
    run = to_run(job(status="RUNNABLE", createdAt=int(created.timestamp() * 1000)), CTX, NOW)
    assert run.warnings and "max" in run.warnings[0].lower() and "vCPU" in run.warnings[0]
    fresh = to_run(job(status="RUNNABLE"), CTX, NOW)
    assert fresh.warnings == []
    misconfigured = to_run(job(status="RUNNABLE", statusReason="MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT"), CTX, NOW)
    assert "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT" in misconfigured.warnings[0]


def test_array_parent_and_child():
    parent = to_run(job(arrayProperties={"size": 3, "statusSummary": {"SUCCEEDED": 2, "RUNNING": 1}}), CTX, NOW)
    assert parent.array.size == 3 and parent.array.status_counts == {"SUCCEEDED": 2, "RUNNING": 1}
    child = to_run(job(jobId="j-1:2", arrayProperties={"index": 2}), CTX, NOW)
    assert child.array.index == 2


def test_pipeline_from_definition():
    p = to_pipeline(
        {
            "jobDefinitionName": "greet",
            "revision": 2,
            "jobDefinitionArn": "arn:x",
            "type": "container",
            "parameters": {"greeting": "Hello"},
            "containerProperties": {
                "image": "busybox",
                "jobRoleArn": "arn:role",
                "command": ["echo", "Ref::greeting", "Ref::name"],
            },
        }
    )
    assert (p.name, p.revision, p.image, p.job_role_arn) == ("greet", 2, "busybox", "arn:role")
    assert p.required_parameters == ["name"] and p.parameters == {"greeting": "Hello"}
