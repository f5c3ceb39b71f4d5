"""An uncached GetPipelineRun and a ListPipelineRuns read AWS Batch through aws/wire.BatchWire, not
botocore's per-call pipeline (issue 16 item 8, bench/unary.py): the boto3 Batch client sends no
DescribeJobs or ListJobs, the platform's AWS call metrics still count every attempt, and the
answer is the job the emulator holds."""

from polysync.platform.v1 import platform_service_pb2 as pb
from polysync_batch.bootstrap import demo_platforms

from tests.support import FAST_WATCH, aws_attempts, serve


async def test_an_uncached_get_and_a_list_go_over_the_wire_and_every_attempt_is_counted(emulator):
    batch = emulator.client("batch")
    job_id = batch.submit_job(jobName="made-elsewhere", jobQueue=emulator.job_queue, jobDefinition="hello")["jobId"]
    platforms = demo_platforms(emulator, None, FAST_WATCH, events=False)
    clients = platforms.get("demo").clients
    sent_by_botocore: list[str] = []
    clients.batch.meta.events.register(
        "before-send.batch", lambda event_name, **kwargs: sent_by_botocore.append(event_name.rsplit(".", 1)[-1])
    )
    async with serve(platforms) as served:
        run = (await served.stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id=job_id))).run
        listed = (
            await served.stub.ListPipelineRuns(pb.ListPipelineRunsRequest(name_prefix="made-else", page_size=10))
        ).runs
    at_aws = batch.describe_jobs(jobs=[job_id])["jobs"][0]
    assert (run.run_id, run.job_name, run.pipeline) == (job_id, at_aws["jobName"], "hello")
    assert run.pipeline_revision == int(at_aws["jobDefinition"].rsplit(":", 1)[1])
    assert job_id in [r.run_id for r in listed]
    assert "DescribeJobs" not in sent_by_botocore and "ListJobs" not in sent_by_botocore, sent_by_botocore
    assert aws_attempts(clients, "DescribeJobs").get("ok", 0) >= 1
    assert aws_attempts(clients, "ListJobs").get("ok", 0) >= 1
