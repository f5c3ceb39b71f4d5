#!/usr/bin/env bash
# polysync-batch event-driven watches with the AWS CLI (docs/events.md): one queue, one rule.
# Usage: REGION=eu-west-1 ACCOUNT=111122223333 ROLE=polysync-batch-target bash events-cli.sh
# Run again with QUEUE=polysync-batch-events-2 for another replica's queue (and rule), or see
# docs/events.md for the SNS fan-out variant.
set -euo pipefail
: "${REGION:?}" "${ACCOUNT:?}" "${ROLE:?}"
QUEUE=${QUEUE:-polysync-batch-events}
RULE=${RULE:-$QUEUE-batch-job-state-change}

QUEUE_URL=$(aws sqs create-queue --region "$REGION" --queue-name "$QUEUE" \
  --attributes MessageRetentionPeriod=86400 --query QueueUrl --output text)
QUEUE_ARN="arn:aws:sqs:$REGION:$ACCOUNT:$QUEUE"

RULE_ARN=$(aws events put-rule --region "$REGION" --name "$RULE" \
  --event-pattern '{"source":["aws.batch"],"detail-type":["Batch Job State Change","Batch Job Queue Blocked"]}' \
  --query RuleArn --output text)
aws events put-targets --region "$REGION" --rule "$RULE" --targets "Id=polysync-batch,Arn=$QUEUE_ARN"

POLICY=$(cat <<JSON
{"Version":"2012-10-17","Statement":[{"Sid":"polysync-batch-events","Effect":"Allow",
 "Principal":{"Service":"events.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"$QUEUE_ARN",
 "Condition":{"ArnEquals":{"aws:SourceArn":"$RULE_ARN"}}}]}
JSON
)
aws sqs set-queue-attributes --region "$REGION" --queue-url "$QUEUE_URL" \
  --attributes "$(python3 -c 'import json,sys; print(json.dumps({"Policy": sys.argv[1]}))' "$POLICY")"

aws iam put-role-policy --role-name "$ROLE" --policy-name "$QUEUE-consume" --policy-document "$(cat <<JSON
{"Version":"2012-10-17","Statement":[{"Sid":"ConsumeBatchJobEvents","Effect":"Allow",
 "Action":["sqs:ReceiveMessage","sqs:DeleteMessage","sqs:GetQueueAttributes","sqs:ChangeMessageVisibility"],
 "Resource":"$QUEUE_ARN"}]}
JSON
)"

echo "platforms.<name>.events.sqs_queue_url = \"$QUEUE_URL\""
