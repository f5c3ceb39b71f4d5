"""The emulator publishes AWS Batch's "Batch Job State Change" events for its own jobs, through
moto's EventBridge into its own SQS queue, with AWS's whole envelope (fails loudly if moto's
delivery changes)."""

import json
import re
import time

from polysync_batch.emulator import Lifecycle, start_emulator

AWS_ENVELOPE_KEYS = {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}


def drain(emulator, job_id, until_status, seconds=10.0):
    sqs, bodies = emulator.client("sqs"), []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        answer = sqs.receive_message(QueueUrl=emulator.events_queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in answer.get("Messages", []):
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=emulator.events_queue_url, ReceiptHandle=message["ReceiptHandle"])
        mine = [b for b in bodies if b["detail"]["jobId"] == job_id]
        if mine and mine[-1]["detail"]["status"] == until_status:
            return mine
    raise AssertionError(f"no {until_status} event in {seconds} s: {[b['detail']['status'] for b in bodies]}")


def test_each_status_change_after_submitted_is_an_event_with_the_aws_envelope():
    with start_emulator(Lifecycle(submitted=0.2, pending=0.2, runnable=0.2, starting=0.2, running=0.3)) as emulator:
        batch = emulator.client("batch")
        job_id = batch.submit_job(jobName="events", jobQueue=emulator.job_queue, jobDefinition="hello")["jobId"]
        events = drain(emulator, job_id, "SUCCEEDED")
        assert [e["detail"]["status"] for e in events] == ["PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"]
        for event in events:
            assert set(event) == AWS_ENVELOPE_KEYS
            assert (event["source"], event["detail-type"]) == ("aws.batch", "Batch Job State Change")
            assert (event["account"], event["region"]) == (emulator.account_id, emulator.region)
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"])
        described = batch.describe_jobs(jobs=[job_id])["jobs"][0]
        assert events[-1]["detail"] == described  # detail is the job as DescribeJobs returns it

        running = batch.submit_job(
            jobName="cancel", jobQueue=emulator.job_queue, jobDefinition="hello", parameters={"duration_seconds": "60"}
        )["jobId"]
        drain(emulator, running, "RUNNING")
        batch.terminate_job(jobId=running, reason="Cancelled by Polysync")
        failed = drain(emulator, running, "FAILED")[-1]["detail"]
        assert failed["statusReason"] == "Cancelled by Polysync"


def test_an_emulator_without_events_has_no_queue():
    with start_emulator(events=False) as emulator:
        assert emulator.events_queue_url is None and emulator.publisher is None
