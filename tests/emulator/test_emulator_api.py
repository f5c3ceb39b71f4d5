"""The emulator as clients see it: boto3 against its endpoint."""

import socket
import threading
import time
import uuid
from typing import Any
from urllib.parse import urlparse

import botocore.exceptions
import pytest
from botocore.client import BaseClient
from polysync_batch.emulator import Emulator, Lifecycle, ManualJobClock, start_emulator

ESSENTIAL = "Essential container in task exited"
# Default Lifecycle: RUNNABLE during [1.0, 2.0) s, STARTING [2.0, 2.5), RUNNING [2.5, 5.5).
TO_RUNNABLE, TO_STARTING, TO_RUNNING, TO_DONE = 1.2, 1.0, 0.5, 3.0


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def submit(emulator: Emulator, definition: str = "hello", **kwargs: Any) -> str:
    kwargs.setdefault("jobName", unique())
    response = emulator.client("batch").submit_job(jobQueue=emulator.job_queue, jobDefinition=definition, **kwargs)
    return str(response["jobId"])


def describe(batch: BaseClient, job_id: str) -> dict[str, Any]:
    jobs = batch.describe_jobs(jobs=[job_id])["jobs"]
    assert len(jobs) == 1, f"DescribeJobs returned {len(jobs)} jobs for {job_id}"
    return dict(jobs[0])


def listed_ids(batch: BaseClient, emulator: Emulator, **kwargs: Any) -> list[str]:
    summaries = batch.list_jobs(jobQueue=emulator.job_queue, **kwargs)["jobSummaryList"]
    return [s["jobId"] for s in summaries]


def client_error(call: Any, **kwargs: Any) -> dict[str, str]:
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call(**kwargs)
    return dict(raised.value.response["Error"])


# --- server and seed ---------------------------------------------------------------------


def test_listens_on_loopback_only(fast_emulator: Emulator) -> None:
    assert urlparse(fast_emulator.endpoint_url).hostname == "127.0.0.1"
    bound = fast_emulator._server._server.socket.getsockname()  # the listening socket itself
    assert bound[0] == "127.0.0.1"


def test_a_second_emulator_is_isolated_and_stop_releases_port_and_thread(
    fast_emulator: Emulator,
) -> None:
    job_id = submit(fast_emulator)
    second = start_emulator(Lifecycle(running=60))
    port = urlparse(second.endpoint_url).port
    assert port is not None and second.account_id != fast_emulator.account_id
    batch = second.client("batch")
    assert batch.describe_jobs(jobs=[job_id])["jobs"] == []
    assert len(batch.describe_job_definitions(status="ACTIVE")["jobDefinitions"]) == 4

    second.stop()

    assert not [t for t in threading.enumerate() if t.name == f"moto-emulator-{port}"]
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))  # fails if anything still listens there


def test_seed(manual_emulator: Emulator) -> None:
    batch = manual_emulator.client("batch")
    identity = manual_emulator.client("sts").get_caller_identity()
    assert identity["Account"] == manual_emulator.account_id

    queues = batch.describe_job_queues(jobQueues=["polysync-demo"])["jobQueues"]
    assert [(q["jobQueueName"], q["state"]) for q in queues] == [("polysync-demo", "ENABLED")]
    assert batch.describe_job_queues(jobQueues=["missing"])["jobQueues"] == []
    environments = batch.describe_compute_environments()["computeEnvironments"]
    assert [e["type"] for e in environments] == ["UNMANAGED"]

    definitions = batch.describe_job_definitions(status="ACTIVE")["jobDefinitions"]
    by_name: dict[str, list[dict[str, Any]]] = {}
    for definition in definitions:
        by_name.setdefault(definition["jobDefinitionName"], []).append(definition)
    assert sorted(by_name) == ["fan-out", "greet", "hello"]
    hello = sorted(by_name["hello"], key=lambda d: d["revision"])
    assert [d["revision"] for d in hello] == [1, 2]
    assert hello[0]["containerProperties"]["command"] != hello[1]["containerProperties"]["command"]

    (greet,) = by_name["greet"]
    assert greet["containerProperties"]["command"] == ["echo", "Ref::greeting", "Ref::name"]
    assert greet["parameters"] == {"greeting": "Hello"}  # so `name` has no default
    assert greet["containerProperties"]["jobRoleArn"].startswith("arn:aws:iam::")
    log_configuration = greet["containerProperties"]["logConfiguration"]
    assert log_configuration["logDriver"] == "awslogs"
    assert log_configuration["options"]["awslogs-group"]
    (fan_out,) = by_name["fan-out"]
    assert "AWS_BATCH_JOB_ARRAY_INDEX" in " ".join(fan_out["containerProperties"]["command"])


# --- lifecycle ---------------------------------------------------------------------------


def test_full_lifecycle_as_seen_by_polling(fast_emulator: Emulator) -> None:
    batch = fast_emulator.client("batch")
    job_id = submit(fast_emulator)
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10
    while not seen or seen[-1]["status"] not in ("SUCCEEDED", "FAILED"):
        assert time.monotonic() < deadline, f"job never finished: {seen[-1:]}"
        job = describe(batch, job_id)
        if not seen or job["status"] != seen[-1]["status"]:
            seen.append(job)

    statuses = [job["status"] for job in seen]
    assert statuses == ["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"]
    submitted, _, runnable, starting, running, succeeded = seen
    assert "logStreamName" not in runnable["container"] and "startedAt" not in starting
    assert starting["container"]["logStreamName"].startswith("hello/default/")
    assert running["startedAt"] >= submitted["createdAt"] and "stoppedAt" not in running
    assert succeeded["stoppedAt"] > succeeded["startedAt"] == running["startedAt"]
    assert succeeded["container"]["exitCode"] == 0
    assert succeeded["statusReason"] == ESSENTIAL
    assert [a["container"]["exitCode"] for a in succeeded["attempts"]] == [0]


def test_list_jobs_status_filters_follow_the_lifecycle(manual_emulator: Emulator, manual_clock: ManualJobClock) -> None:
    batch = manual_emulator.client("batch")
    job_id = submit(manual_emulator)
    for status, advance in [
        ("SUBMITTED", 0.0),
        ("PENDING", 0.6),
        ("RUNNABLE", 0.6),
        ("STARTING", TO_STARTING),
        ("RUNNING", TO_RUNNING),
        ("SUCCEEDED", TO_DONE),
    ]:
        manual_clock.advance(advance)
        assert describe(batch, job_id)["status"] == status
        for candidate in ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"):
            listed = job_id in listed_ids(batch, manual_emulator, jobStatus=candidate)
            assert listed == (candidate == status), f"ListJobs({candidate}) while {status}"
        # Without jobStatus or filters AWS lists RUNNING jobs only.
        assert (job_id in listed_ids(batch, manual_emulator)) == (status == "RUNNING")


def test_exit_code_parameter_fails_the_job(manual_emulator: Emulator, manual_clock: ManualJobClock) -> None:
    batch = manual_emulator.client("batch")
    job_id = submit(manual_emulator, parameters={"exit_code": "3"})
    manual_clock.advance(10)
    job = describe(batch, job_id)
    assert (job["status"], job["statusReason"]) == ("FAILED", ESSENTIAL)
    assert job["container"]["exitCode"] == 3
    assert job["attempts"][0]["container"]["exitCode"] == 3
    events = manual_emulator.client("logs").get_log_events(
        logGroupName="/aws/batch/job", logStreamName=job["container"]["logStreamName"]
    )["events"]
    assert [e["message"] for e in events] == [
        "hello from polysync, revision 2",
        "[emulator] container exited with code 3",
    ]


def test_duration_seconds_parameter_keeps_the_job_running(
    manual_emulator: Emulator, manual_clock: ManualJobClock
) -> None:
    batch = manual_emulator.client("batch")
    job_id = submit(manual_emulator, parameters={"duration_seconds": "60"})
    manual_clock.advance(50)
    assert describe(batch, job_id)["status"] == "RUNNING"
    manual_clock.advance(20)
    assert describe(batch, job_id)["status"] == "SUCCEEDED"


@pytest.mark.parametrize(("state", "advance"), [("RUNNABLE", TO_RUNNABLE), ("RUNNING", TO_RUNNABLE + 1.8)])
def test_terminate_fails_the_job_with_the_reason_and_it_stays_failed(
    manual_emulator: Emulator, manual_clock: ManualJobClock, state: str, advance: float
) -> None:
    batch = manual_emulator.client("batch")
    job_id = submit(manual_emulator)
    manual_clock.advance(advance)
    assert describe(batch, job_id)["status"] == state

    batch.terminate_job(jobId=job_id, reason="Cancelled by Polysync: test")
    for _ in range(2):
        job = describe(batch, job_id)
        assert (job["status"], job["statusReason"]) == ("FAILED", "Cancelled by Polysync: test")
        assert "exitCode" not in job["container"]
        assert ("startedAt" in job) == (state == "RUNNING")
        assert job_id in listed_ids(batch, manual_emulator, jobStatus="FAILED")
        manual_clock.advance(100)


def test_cancel_job_only_stops_jobs_that_have_not_started(
    manual_emulator: Emulator, manual_clock: ManualJobClock
) -> None:
    batch = manual_emulator.client("batch")
    queued, running = submit(manual_emulator), submit(manual_emulator, jobName=unique())
    manual_clock.advance(TO_RUNNABLE)
    batch.cancel_job(jobId=queued, reason="no longer needed")
    manual_clock.advance(1.8)
    batch.cancel_job(jobId=running, reason="no longer needed")
    manual_clock.advance(10)
    assert describe(batch, queued)["statusReason"] == "no longer needed"
    assert describe(batch, running)["status"] == "SUCCEEDED"


def test_dependent_job_waits_for_its_dependency(manual_emulator: Emulator, manual_clock: ManualJobClock) -> None:
    batch = manual_emulator.client("batch")
    first = submit(manual_emulator, parameters={"duration_seconds": "20"})
    second = submit(manual_emulator, dependsOn=[{"jobId": first}])
    manual_clock.advance(10)
    assert describe(batch, second)["status"] == "PENDING"
    manual_clock.advance(30)
    assert describe(batch, second)["status"] == "SUCCEEDED"


# --- listing and definitions -------------------------------------------------------------


def test_job_name_filter_exact_and_prefix(manual_emulator: Emulator) -> None:
    batch = manual_emulator.client("batch")
    prefix = unique("Polysync")
    first = submit(manual_emulator, jobName=f"{prefix}-1")
    second = submit(manual_emulator, jobName=f"{prefix}-2")
    submit(manual_emulator, jobName=unique("other"))

    def by_name(*values: str) -> set[str]:
        filters = [{"name": "JOB_NAME", "values": list(values)}]
        return set(listed_ids(batch, manual_emulator, filters=filters, jobStatus="RUNNING"))

    assert by_name(f"{prefix}-1") == {first}  # jobStatus is ignored with a filter
    assert by_name(f"{prefix.lower()}*") == {first, second}  # case-insensitive prefix
    assert by_name(f"{prefix}-9") == set()


def test_list_jobs_paginates_newest_first(manual_emulator: Emulator) -> None:
    batch = manual_emulator.client("batch")
    prefix = unique("page")
    submitted = [submit(manual_emulator, jobName=f"{prefix}-{i}") for i in range(3)]
    filters = [{"name": "JOB_NAME", "values": [f"{prefix}*"]}]
    first = batch.list_jobs(jobQueue=manual_emulator.job_queue, filters=filters, maxResults=2)
    rest = batch.list_jobs(
        jobQueue=manual_emulator.job_queue,
        filters=filters,
        maxResults=2,
        nextToken=first["nextToken"],
    )
    assert "nextToken" not in rest
    pages = [[s["jobId"] for s in page["jobSummaryList"]] for page in (first, rest)]
    assert [len(page) for page in pages] == [2, 1]
    assert sorted(pages[0] + pages[1]) == sorted(submitted)


def test_describe_job_definitions_paginates(manual_emulator: Emulator) -> None:
    batch = manual_emulator.client("batch")
    seen, token, pages = [], None, 0
    while True:
        kwargs: dict[str, str] = {"nextToken": token} if token else {}
        page = batch.describe_job_definitions(status="ACTIVE", maxResults=1, **kwargs)
        seen += [(d["jobDefinitionName"], d["revision"]) for d in page["jobDefinitions"]]
        pages += 1
        token = page.get("nextToken")
        if not token:
            break
    assert pages == 4
    assert sorted(seen) == [("fan-out", 1), ("greet", 1), ("hello", 1), ("hello", 2)]


def test_submit_job_accepts_every_optional_field(manual_emulator: Emulator) -> None:
    batch = manual_emulator.client("batch")
    dependency = submit(manual_emulator)
    job_id = submit(
        manual_emulator,
        definition="hello:1",
        shareIdentifier="teamA",
        schedulingPriorityOverride=42,
        containerOverrides={
            "command": ["echo", "overridden"],
            "environment": [{"name": "COLOUR", "value": "blue"}],
            "resourceRequirements": [{"type": "VCPU", "value": "2"}],
        },
        tags={"owner": "polysync"},
        propagateTags=True,
        timeout={"attemptDurationSeconds": 120},
        retryStrategy={"attempts": 3},
        dependsOn=[{"jobId": dependency}],
    )
    job = describe(batch, job_id)
    assert job["jobDefinition"].endswith(":job-definition/hello:1")
    assert (job["shareIdentifier"], job["schedulingPriority"]) == ("teamA", 42)
    assert job["container"]["command"] == ["echo", "overridden"]
    assert {"name": "COLOUR", "value": "blue"} in job["container"]["environment"]
    assert {"type": "VCPU", "value": "2"} in job["container"]["resourceRequirements"]
    assert job["tags"] == {"owner": "polysync"} and job["propagateTags"] is True
    assert job["timeout"] == {"attemptDurationSeconds": 120}
    assert job["retryStrategy"] == {"attempts": 3}
    assert job["dependsOn"] == [{"jobId": dependency}]


def test_error_codes_and_messages(manual_emulator: Emulator) -> None:
    """The service maps these; keep them in sync with its error mapping."""
    batch = manual_emulator.client("batch")
    queue, definition = manual_emulator.job_queue, "hello"
    assert client_error(batch.submit_job, jobName="x", jobQueue="missing-queue", jobDefinition=definition) == {
        "Code": "ClientException",
        "Message": "Job queue missing-queue does not exist",
    }
    assert client_error(batch.submit_job, jobName="x", jobQueue=queue, jobDefinition="missing-definition") == {
        "Code": "ClientException",
        "Message": "Job definition missing-definition does not exist",
    }
    assert client_error(batch.list_jobs, jobQueue="missing-queue")["Code"] == "ClientException"
    assert client_error(batch.describe_jobs, jobs=[f"id-{i}" for i in range(101)])["Code"] == ("ClientException")
    # Unknown job ids are not errors: DescribeJobs leaves them out, TerminateJob accepts them.
    assert batch.describe_jobs(jobs=["unknown-id"])["jobs"] == []
    batch.terminate_job(jobId="unknown-id", reason="whatever")


def test_describe_jobs_accepts_ids_and_arns_once_each(manual_emulator: Emulator) -> None:
    batch = manual_emulator.client("batch")
    job_id = submit(manual_emulator)
    arn = describe(batch, job_id)["jobArn"]
    jobs = batch.describe_jobs(jobs=[arn, job_id, "unknown-id"])["jobs"]
    assert [job["jobId"] for job in jobs] == [job_id]


# --- arrays and logs ---------------------------------------------------------------------


def test_array_job(manual_emulator: Emulator, manual_clock: ManualJobClock) -> None:
    batch = manual_emulator.client("batch")
    parent_id = submit(manual_emulator, definition="fan-out", arrayProperties={"size": 3})
    parent = describe(batch, parent_id)
    assert parent["status"] == "SUBMITTED"
    assert parent["arrayProperties"]["size"] == 3
    assert parent["arrayProperties"]["statusSummary"]["SUBMITTED"] == 3

    manual_clock.advance(TO_RUNNABLE + 1.8)
    parent = describe(batch, parent_id)
    assert parent["status"] == "PENDING"  # AWS keeps the parent PENDING while children run
    assert parent["arrayProperties"]["statusSummary"]["RUNNING"] == 3
    child = describe(batch, f"{parent_id}:1")
    assert (child["status"], child["arrayProperties"]) == ("RUNNING", {"index": 1})
    assert parent_id not in listed_ids(batch, manual_emulator)  # RUNNING listing: children only…
    assert f"{parent_id}:1" not in listed_ids(batch, manual_emulator)  # …under arrayJobId
    children = batch.list_jobs(arrayJobId=parent_id)["jobSummaryList"]
    assert sorted(c["jobId"] for c in children) == [f"{parent_id}:{i}" for i in range(3)]

    manual_clock.advance(TO_DONE)
    parent = describe(batch, parent_id)
    assert parent["status"] == "SUCCEEDED"
    assert parent["arrayProperties"]["statusSummary"]["SUCCEEDED"] == 3
    child = describe(batch, f"{parent_id}:2")
    events = manual_emulator.client("logs").get_log_events(
        logGroupName="/aws/batch/job", logStreamName=child["container"]["logStreamName"]
    )["events"]
    assert [e["message"] for e in events] == ["fan-out child 2 starting"]


def test_logs_go_to_the_definitions_log_group(manual_emulator: Emulator, manual_clock: ManualJobClock) -> None:
    batch = manual_emulator.client("batch")
    job_id = submit(manual_emulator, definition="greet", parameters={"name": "World"})
    manual_clock.advance(TO_RUNNABLE + 1.8)
    job = describe(batch, job_id)
    events = manual_emulator.client("logs").get_log_events(
        logGroupName="/aws/batch/polysync-demo", logStreamName=job["container"]["logStreamName"]
    )["events"]
    assert [e["message"] for e in events] == ["Hello World"]
    assert events[0]["timestamp"] == job["startedAt"]


def test_greet_without_name_fails_like_a_real_container(
    manual_emulator: Emulator, manual_clock: ManualJobClock
) -> None:
    batch = manual_emulator.client("batch")
    job_id = submit(manual_emulator, definition="greet")
    manual_clock.advance(10)
    job = describe(batch, job_id)
    assert (job["status"], job["statusReason"]) == ("FAILED", ESSENTIAL)
    assert job["container"]["exitCode"] == 1
    assert job["container"]["command"] == ["echo", "Hello", "Ref::name"]
