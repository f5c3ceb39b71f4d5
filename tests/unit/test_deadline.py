"""A call whose caller's deadline has passed starts no AWS call (aws/calls.py + domain/deadline.py)."""

import pytest
from polysync_batch.aws.calls import AwsCaller
from polysync_batch.domain import deadline, errors


async def test_an_aws_call_is_not_started_after_the_deadline():
    started = []
    call = AwsCaller(None, "prod", "eu-west-1")
    token = deadline.set_remaining(-0.001)
    try:
        with pytest.raises(errors.DeadlineExceeded) as caught:
            await call("SubmitJob", lambda: started.append(1))
    finally:
        deadline.reset(token)
    assert started == [] and caught.value.reason == "DEADLINE_EXCEEDED"


async def test_an_aws_call_within_the_deadline_or_without_one_runs():
    started = []
    call = AwsCaller(None, "prod", "eu-west-1")
    await call("DescribeJobs", lambda: started.append("no deadline"))
    token = deadline.set_remaining(30)
    try:
        await call("DescribeJobs", lambda: started.append("in time"))
        assert 29 < deadline.remaining() <= 30
    finally:
        deadline.reset(token)
    assert started == ["no deadline", "in time"] and deadline.remaining() is None
