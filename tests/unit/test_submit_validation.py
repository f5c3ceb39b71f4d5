import pytest
from polysync_batch.domain.errors import InvalidArgument
from polysync_batch.domain.requests import validate_submit
from polysync_batch.domain.submit import SubmitRequest, job_name


def violations(**fields):
    with pytest.raises(InvalidArgument) as caught:
        validate_submit(SubmitRequest(**{"pipeline": "hello", **fields}))
    assert caught.value.reason == "INVALID_ARGUMENT"
    return {v.field for v in caught.value.violations}


def test_a_plain_request_is_valid():
    validate_submit(SubmitRequest(pipeline="hello"))
    validate_submit(
        SubmitRequest(
            pipeline="hello:2",
            job_queue="arn:aws:batch:us-east-1:123456789012:job-queue/q",
            scheduling_priority_override=0,
            array_size=2,
            timeout_seconds=60,
            retry_attempts=10,
            tags={f"k{i}": "v" for i in range(50)},
        )
    )


@pytest.mark.parametrize(
    "fields,field",
    [
        ({"pipeline": ""}, "pipeline"),
        ({"pipeline": "no spaces allowed"}, "pipeline"),
        ({"job_queue": "bad queue!"}, "job_queue"),
        ({"parameters": {"": "x"}}, "parameters"),
        ({"request_id": "r" * 129}, "request_id"),
        ({"share_identifier": "has-dash"}, "share_identifier"),
        ({"scheduling_priority_override": -1}, "scheduling_priority_override"),
        ({"scheduling_priority_override": 10000}, "scheduling_priority_override"),
        ({"array_size": 1}, "array_size"),
        ({"array_size": 10001}, "array_size"),
        ({"timeout_seconds": 59}, "timeout_seconds"),
        ({"retry_attempts": 0}, "retry_attempts"),
        ({"retry_attempts": 11}, "retry_attempts"),
        ({"tags": {f"k{i}": "v" for i in range(51)}}, "tags"),
        ({"tags": {"aws:reserved": "v"}}, "tags[aws:reserved]"),
        ({"environment": {"AWS_BATCH_X": "1"}}, "environment[AWS_BATCH_X]"),
        ({"vcpus": 0.0}, "vcpus"),
        ({"memory_mib": 1}, "memory_mib"),
        ({"depends_on": [""]}, "depends_on[0]"),
        ({"depends_on": [f"id{i}" for i in range(21)]}, "depends_on"),
    ],
)
def test_each_limit_is_enforced(fields, field):
    assert field in violations(**fields)


def test_every_bad_field_is_reported_at_once():
    assert violations(array_size=1, retry_attempts=0, timeout_seconds=1) == {
        "array_size",
        "retry_attempts",
        "timeout_seconds",
    }


def test_job_names_are_polysync_guids_and_derived_from_request_id():
    assert job_name("prod", "").startswith("Polysync-")
    assert job_name("prod", "") != job_name("prod", "")
    assert job_name("prod", "r1") == job_name("prod", "r1")
    assert job_name("prod", "r1") != job_name("dev", "r1")
    assert job_name("prod", "r1") != job_name("prod", "r2")
    assert len(job_name("prod", "x" * 128)) <= 128
