"""Who reaches what (SPEC §8.5): a platform's queues and a caller's idempotency key."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from polysync_batch.domain.errors import InvalidArgument, NotFound, PermissionDenied
from polysync_batch.domain.models import Run
from polysync_batch.domain.queues import QueueScope, queue_name
from polysync_batch.domain.requests import validate_submit
from polysync_batch.domain.status import RunStatus
from polysync_batch.domain.submit import FINGERPRINT_TAG, SubmitRequest, fingerprint, job_name, with_fingerprint

ARN = "arn:aws:batch:eu-west-1:111122223333:job-queue/"


def run_in(queue: str) -> Run:
    return Run(
        "r1",
        "team",
        "hello",
        1,
        "",
        "Polysync-x",
        queue,
        RunStatus.RUNNING,
        "RUNNING",
        "",
        None,
        "",
        "",
        False,
    )


def test_queue_names_compare_by_name_whether_given_as_name_or_arn():
    assert queue_name(ARN + "team") == "team" and queue_name("team") == "team"
    scope = QueueScope.of("team", "team", [ARN + "team-2"])
    assert scope.allows("team") and scope.allows(ARN + "team") and scope.allows("team-2")
    assert not scope.allows("prod") and not scope.allows(ARN + "prod")


def test_without_job_queues_any_queue_is_allowed():
    scope = QueueScope.of("team", "team", None)
    assert not scope.confined and scope.allows("prod")
    assert scope.visible(run_in(ARN + "prod")) is not None


def test_a_queue_or_run_outside_the_platform_is_refused_like_an_unknown_one():
    scope = QueueScope.of("team", "team", ["team"])
    with pytest.raises(PermissionDenied) as refused:
        scope.check("prod")
    assert refused.value.reason == "JOB_QUEUE_NOT_ALLOWED"
    assert scope.visible(run_in(ARN + "prod")) is None
    with pytest.raises(NotFound) as missing:
        scope.readable(run_in(ARN + "prod"))
    assert missing.value.reason == "RUN_NOT_FOUND" and "prod" not in missing.value.message
    assert scope.readable(run_in(ARN + "team")).run_id == "r1"


def test_the_job_name_is_unchanged_without_a_caller_and_the_callers_own_with_one():
    # Fixed forever: requests retried across an upgrade must find their job.
    namespace = uuid.UUID("6f1d3c52-8b0e-4d55-9a43-6d2b1f5e0c11")
    assert job_name("demo", "abc") == f"Polysync-{uuid.uuid5(namespace, 'demo' + chr(0) + 'abc')}"
    alice, bob = job_name("team", "X", "alice"), job_name("team", "X", "bob")
    assert len({alice, bob, job_name("team", "X")}) == 3
    assert alice == job_name("team", "X", "alice") and len(alice) <= 128


def test_the_fingerprint_differs_for_anything_but_the_request_id():
    base = SubmitRequest(pipeline="hello", parameters={"a": "1"}, request_id="r")
    same = fingerprint(base, "q")
    assert fingerprint(dataclasses.replace(base, request_id="other"), "q") == same
    assert fingerprint(base, ARN + "q") == same  # the queue by name
    for change in (
        {"pipeline": "greet"},
        {"parameters": {"a": "2"}},
        {"timeout_seconds": 600},
        {"command": ["echo"]},
        {"share_identifier": "s"},
    ):
        assert fingerprint(dataclasses.replace(base, **change), "q") != same, change
    assert fingerprint(base, "other-queue") != same
    assert with_fingerprint(base, same).tags == {FINGERPRINT_TAG: same}


def test_a_request_id_leaves_room_for_the_fingerprint_tag():
    full = {f"k{i}": "v" for i in range(50)}
    validate_submit(SubmitRequest(pipeline="hello", tags=full))  # no request_id: AWS's 50
    for tags in (full, {FINGERPRINT_TAG: "mine"}):
        with pytest.raises(InvalidArgument) as refused:
            validate_submit(SubmitRequest(pipeline="hello", request_id="r", tags=tags))
        assert [v.field for v in refused.value.violations] == ["tags"]
