"""Two replicas given the same request_id at the same moment: with the DynamoDB idempotency
ledger they make one job and both answer it; an abandoned claim is resolved by the job-name
look-up before anyone submits again."""

from __future__ import annotations

import asyncio
import time
import uuid

import grpc
import pytest
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync_batch.domain.submit import job_name

from tests.faults.conftest import jobs_for, platforms_via
from tests.faults.proxy import Action, Fault
from tests.support import reason_of, serve

HOLD = Action(Fault.HOLD, seconds=0.5)  # SubmitJob reaches AWS late: both replicas' look-ups miss


@pytest.fixture
def ledger_table(emulator):
    name = f"polysync-idempotency-{uuid.uuid4().hex[:8]}"
    dynamodb = emulator.client("dynamodb")
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )
    return name


async def race(emulator, proxy, request_ids, **aws):
    """Each request_id sent to two replicas at once; the pairs of answers."""
    proxy.rule = lambda e: HOLD if e.operation == "SubmitJob" else None
    async with (
        serve(platforms_via(emulator, proxy.endpoint_url, **aws)) as one,
        serve(platforms_via(emulator, proxy.endpoint_url, **aws)) as two,
    ):

        async def both(request_id):
            request = pb.ExecutePipelineRequest(pipeline="hello", request_id=request_id)
            return await asyncio.gather(
                one.stub.ExecutePipeline(request, timeout=30), two.stub.ExecutePipeline(request, timeout=30)
            )

        return await asyncio.gather(*(both(request_id) for request_id in request_ids))


async def test_with_a_ledger_two_replicas_racing_make_one_job(emulator, proxy, ledger_table):
    request_ids = [str(uuid.uuid4()) for _ in range(10)]
    pairs = await race(emulator, proxy, request_ids, idempotency_table=ledger_table)
    for request_id, (first, second) in zip(request_ids, pairs, strict=False):
        assert first.run.run_id == second.run.run_id
        assert jobs_for(emulator, request_id) == [first.run.run_id]
        assert sorted([first.deduplicated, second.deduplicated]) == [False, True]
    assert len(proxy.of("SubmitJob")) == 10
    items = emulator.client("dynamodb").scan(TableName=ledger_table)["Items"]
    assert {item["run_id"]["S"] for item in items} == {first.run.run_id for first, _ in pairs}
    assert all(int(item["expires_at"]["N"]) > time.time() + 86000 for item in items)


async def test_without_a_ledger_two_replicas_racing_can_both_submit(emulator, proxy):
    """The window the ledger closes (README: what a caller without the table risks)."""
    request_ids = [str(uuid.uuid4()) for _ in range(5)]
    await race(emulator, proxy, request_ids)
    assert sum(len(jobs_for(emulator, request_id)) for request_id in request_ids) > len(request_ids)


def put_claim(emulator, table, request_id, *, age_seconds, run_id=""):
    item = {
        "key": {"S": job_name("demo", request_id)},
        "owner": {"S": "a-caller-that-died"},
        "claimed_at": {"N": repr(time.time() - age_seconds)},
        "expires_at": {"N": str(int(time.time()) + 3600)},
    }
    if run_id:
        item["run_id"] = {"S": run_id}
    emulator.client("dynamodb").put_item(TableName=table, Item=item)


async def test_an_abandoned_claim_whose_job_exists_returns_that_job(emulator, proxy, ledger_table):
    request_id = str(uuid.uuid4())
    batch = emulator.client("batch")  # the dead claimer's SubmitJob went through
    existing = batch.submit_job(
        jobName=job_name("demo", request_id), jobQueue=emulator.job_queue, jobDefinition="hello"
    )["jobId"]
    put_claim(emulator, ledger_table, request_id, age_seconds=3600)
    async with serve(platforms_via(emulator, proxy.endpoint_url, idempotency_table=ledger_table)) as served:
        answer = await served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello", request_id=request_id))
    assert answer.deduplicated and answer.run.run_id == existing
    assert jobs_for(emulator, request_id) == [existing] and proxy.of("SubmitJob") == []


async def test_an_abandoned_claim_without_a_job_is_taken_over_and_submitted_once(emulator, proxy, ledger_table):
    request_id = str(uuid.uuid4())
    put_claim(emulator, ledger_table, request_id, age_seconds=3600)
    async with serve(platforms_via(emulator, proxy.endpoint_url, idempotency_table=ledger_table)) as served:
        answer = await served.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello", request_id=request_id))
    assert not answer.deduplicated and jobs_for(emulator, request_id) == [answer.run.run_id]


async def test_a_live_claim_makes_a_caller_wait_within_its_deadline(emulator, proxy, ledger_table):
    request_id = str(uuid.uuid4())
    put_claim(emulator, ledger_table, request_id, age_seconds=0)  # someone is submitting right now
    async with serve(platforms_via(emulator, proxy.endpoint_url, idempotency_table=ledger_table)) as served:
        started = time.monotonic()
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await served.stub.ExecutePipeline(
                pb.ExecutePipelineRequest(pipeline="hello", request_id=request_id), timeout=2
            )
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE and reason_of(caught.value) == "SUBMIT_IN_PROGRESS"
    assert time.monotonic() - started < 2.5 and jobs_for(emulator, request_id) == []
