"""The demo platform, created through the public AWS APIs of a running emulator.

Seeding is idempotent: it only creates what is missing, so running it again against the same
account changes nothing.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.client import BaseClient

JOB_QUEUE = "polysync-demo"
COMPUTE_ENVIRONMENT = "polysync-demo"
# A second queue on a small Fargate compute environment (at most 4 vCPUs, no GPUs), so the demo
# and the tests can show a job no compute environment could place (JOB_CANNOT_BE_PLACED).
SMALL_JOB_QUEUE = "polysync-demo-small"
SMALL_COMPUTE_ENVIRONMENT = "polysync-demo-fargate"
SMALL_MAX_VCPUS = 4
USER = "polysync-demo"
SERVICE_ROLE = "polysync-demo-batch-service"
JOB_ROLE = "polysync-demo-job"
DEMO_LOG_GROUP = "/aws/batch/polysync-demo"
IMAGE = "public.ecr.aws/docker/library/busybox:latest"

ClientFactory = Callable[[str], BaseClient]


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str


def create_credentials(bootstrap_iam: BaseClient, account_id: str) -> Credentials:
    """An IAM user and access key in `account_id`.

    moto files a request under the account that owns its access key, so requests signed with
    these credentials reach this account. The bootstrap client must not have such a key yet:
    it names the account with moto's x-moto-account-id header instead.
    """

    def name_account(request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = account_id

    bootstrap_iam.meta.events.register("before-sign.iam.*", name_account)
    bootstrap_iam.create_user(UserName=USER)
    key = bootstrap_iam.create_access_key(UserName=USER)["AccessKey"]
    return Credentials(key["AccessKeyId"], key["SecretAccessKey"])


def seed_demo_platform(client: ClientFactory) -> None:
    iam, batch = client("iam"), client("batch")
    service_role = _ensure_role(iam, SERVICE_ROLE, "batch.amazonaws.com")
    job_role = _ensure_role(iam, JOB_ROLE, "ecs-tasks.amazonaws.com")

    # UNMANAGED: moto creates no EC2 instances for it, and nothing needs to run anyway.
    if not batch.describe_compute_environments(computeEnvironments=[COMPUTE_ENVIRONMENT])["computeEnvironments"]:
        batch.create_compute_environment(
            computeEnvironmentName=COMPUTE_ENVIRONMENT,
            type="UNMANAGED",
            state="ENABLED",
            serviceRole=service_role,
        )
    if not batch.describe_job_queues(jobQueues=[JOB_QUEUE])["jobQueues"]:
        batch.create_job_queue(
            jobQueueName=JOB_QUEUE,
            state="ENABLED",
            priority=1,
            computeEnvironmentOrder=[{"order": 1, "computeEnvironment": COMPUTE_ENVIRONMENT}],
        )

    for name, revisions in job_definitions(job_role).items():
        active = batch.describe_job_definitions(jobDefinitionName=name, status="ACTIVE")
        for revision in revisions[len(active["jobDefinitions"]) :]:
            batch.register_job_definition(jobDefinitionName=name, type="container", **revision)


def seed_small_queue(client: ClientFactory) -> None:
    """The demo's second queue: a Fargate compute environment of at most SMALL_MAX_VCPUS vCPUs."""
    iam, batch = client("iam"), client("batch")
    service_role = _ensure_role(iam, SERVICE_ROLE, "batch.amazonaws.com")
    if not batch.describe_compute_environments(computeEnvironments=[SMALL_COMPUTE_ENVIRONMENT])["computeEnvironments"]:
        ec2 = client("ec2")
        batch.create_compute_environment(
            computeEnvironmentName=SMALL_COMPUTE_ENVIRONMENT,
            type="MANAGED",
            state="ENABLED",
            serviceRole=service_role,
            computeResources={
                "type": "FARGATE",
                "maxvCpus": SMALL_MAX_VCPUS,
                "subnets": [ec2.describe_subnets()["Subnets"][0]["SubnetId"]],
                "securityGroupIds": [ec2.describe_security_groups()["SecurityGroups"][0]["GroupId"]],
            },
        )
    if not batch.describe_job_queues(jobQueues=[SMALL_JOB_QUEUE])["jobQueues"]:
        batch.create_job_queue(
            jobQueueName=SMALL_JOB_QUEUE,
            state="ENABLED",
            priority=1,
            computeEnvironmentOrder=[{"order": 1, "computeEnvironment": SMALL_COMPUTE_ENVIRONMENT}],
        )


def job_definitions(job_role_arn: str) -> dict[str, list[dict[str, Any]]]:
    """Each definition's revisions, oldest first."""

    def container(command: list[str], **extra: Any) -> dict[str, Any]:
        return {
            "image": IMAGE,
            "command": command,
            "resourceRequirements": [
                {"type": "VCPU", "value": "1"},
                {"type": "MEMORY", "value": "512"},
            ],
            **extra,
        }

    common = {"platformCapabilities": ["EC2"], "tags": {"app": "polysync-demo"}}
    return {
        # Two revisions: a bare name runs revision 2, "hello:1" pins the first.
        "hello": [
            {**common, "containerProperties": container(["echo", "hello from polysync"])},
            {
                **common,
                "parameters": {"exit_code": "0"},
                "containerProperties": container(
                    ["sh", "-c", "echo hello from polysync, revision 2; exit Ref::exit_code"]
                ),
            },
        ],
        # `name` has no default, so callers must supply it.
        "greet": [
            {
                **common,
                "parameters": {"greeting": "Hello"},
                "containerProperties": container(
                    ["echo", "Ref::greeting", "Ref::name"],
                    jobRoleArn=job_role_arn,
                    logConfiguration={
                        "logDriver": "awslogs",
                        "options": {"awslogs-group": DEMO_LOG_GROUP},
                    },
                ),
            }
        ],
        # Array-friendly: each child reports its own index.
        "fan-out": [
            {
                **common,
                "retryStrategy": {"attempts": 2},
                "timeout": {"attemptDurationSeconds": 600},
                "containerProperties": container(
                    ["sh", "-c", "echo fan-out child $AWS_BATCH_JOB_ARRAY_INDEX starting"],
                    jobRoleArn=job_role_arn,
                ),
            }
        ],
    }


def _ensure_role(iam: BaseClient, name: str, service: str) -> str:
    try:
        return str(iam.get_role(RoleName=name)["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
        return str(role["Role"]["Arn"])


HISTORY_TABLE = "polysync-demo-history"


def seed_history_table(dynamodb: BaseClient) -> str:
    """The demo platform's feed history table (SPEC §12), as the README defines it for AWS:
    string `pk` and `sk`, TTL on `expires_at`; idempotent. Returns its name."""
    if HISTORY_TABLE not in dynamodb.list_tables()["TableNames"]:
        dynamodb.create_table(
            TableName=HISTORY_TABLE,
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.update_time_to_live(
            TableName=HISTORY_TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
        )
    return HISTORY_TABLE
