"""The shipped event set-up (deploy/aws/): the CloudFormation template deployed into moto makes
a queue that receives Batch job events the SQS adapter accepts; the Terraform and CLI variants
use the same rule pattern and IAM actions. (moto's EventBridge cannot target SNS, so the
fan-out variant is checked by reading it only.)"""

import json
import subprocess
import sys
import warnings
from pathlib import Path

from polysync_batch.aws.event_queue import EVENT_PATTERN, SqsEventQueue
from polysync_batch.aws.translate import RunContext
from polysync_batch.emulator import start_emulator

DEPLOY = Path(__file__).parents[2] / "deploy" / "aws"
ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")


def test_the_cloudformation_stack_delivers_batch_job_events_into_its_queue():
    template = (DEPLOY / "events.cfn.json").read_text()
    with start_emulator(events=False) as emulator, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # moto cannot create AWS::SQS::QueuePolicy; the rest it does
        emulator.client("iam").create_role(RoleName="polysync-batch", AssumeRolePolicyDocument="{}")
        cfn = emulator.client("cloudformation")
        cfn.create_stack(
            StackName="events",
            TemplateBody=template,
            Parameters=[{"ParameterKey": "ServiceRoleName", "ParameterValue": "polysync-batch"}],
        )
        outputs = {
            o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName="events")["Stacks"][0]["Outputs"]
        }
        rule = emulator.client("events").list_rules()["Rules"][0]
        assert json.loads(rule["EventPattern"]) == EVENT_PATTERN
        batch = emulator.client("batch")
        job_id = batch.submit_job(jobName="x", jobQueue=emulator.job_queue, jobDefinition="hello")["jobId"]
        detail = batch.describe_jobs(jobs=[job_id])["jobs"][0]
        emulator.client("events").put_events(
            Entries=[
                {"Source": "aws.batch", "DetailType": "Batch Job State Change", "Detail": json.dumps(detail)},
                {"Source": "aws.ec2", "DetailType": "EC2 Instance State-change Notification", "Detail": "{}"},
            ]
        )
        sqs = emulator.client("sqs")
        url = outputs["QueueUrl"]
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=2)["Messages"]
        assert len(messages) == 1  # the rule matched only the Batch event
        queue = SqsEventQueue(sqs, None, url, RunContext("prod", emulator.region, None, 600), emulator.account_id)
        event = queue.parse(messages[0]["ReceiptHandle"], messages[0]["Body"])
        assert not event.rejected, event.problem
        assert event.run.run_id == job_id
        policy = emulator.client("iam").get_role_policy(
            RoleName="polysync-batch", PolicyName="polysync-batch-events-consume"
        )
        assert set(ACTIONS) <= set(policy["PolicyDocument"]["Statement"][0]["Action"])


def test_every_variant_uses_the_rule_pattern_the_policy_and_the_iam_actions():
    cfn = json.loads((DEPLOY / "events.cfn.json").read_text())
    statement = cfn["Resources"]["EventsQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Action"] == "sqs:SendMessage"
    assert "events.amazonaws.com" in json.dumps(statement["Principal"])
    for name in ("events.tf", "events-cli.sh", "events.cfn.json"):
        text = (DEPLOY / name).read_text()
        assert "aws.batch" in text and "Batch Job State Change" in text, name
        assert "events.amazonaws.com" in text, name
        assert all(action in text for action in ACTIONS), name
    docs = (Path(__file__).parents[2] / "docs" / "events.md").read_text()
    assert json.dumps(EVENT_PATTERN, indent=2) in docs
    assert all(action in docs for action in ACTIONS)


def test_events_create_makes_queue_rule_and_policy_idempotently():
    from polysync_batch.aws.event_queue import ensure_event_queue

    with start_emulator(events=False) as emulator:
        sqs, events = emulator.client("sqs"), emulator.client("events")
        url = ensure_event_queue(sqs, events, "created-events", "polysync-batch-created-events")
        assert ensure_event_queue(sqs, events, "created-events", "polysync-batch-created-events") == url
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy", "QueueArn"])["Attributes"]
        statement = json.loads(attributes["Policy"])["Statement"][0]
        assert statement["Principal"] == {"Service": "events.amazonaws.com"}
        assert statement["Resource"] == attributes["QueueArn"]
        assert len(events.list_targets_by_rule(Rule="polysync-batch-created-events")["Targets"]) == 1
        events.put_events(
            Entries=[
                {
                    "Source": "aws.batch",
                    "DetailType": "Batch Job State Change",
                    "Detail": json.dumps({"jobId": "x", "status": "RUNNING"}),
                }
            ]
        )
        assert len(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2).get("Messages", [])) == 1


def test_cfn_lint_passes_the_template():
    linter = Path(sys.executable).with_name("cfn-lint")  # installed with moto
    result = subprocess.run([str(linter), str(DEPLOY / "events.cfn.json")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
