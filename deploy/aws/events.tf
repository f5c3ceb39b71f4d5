# polysync-batch event-driven watches (docs/events.md): AWS Batch "Batch Job State Change"
# events -> an EventBridge rule -> one SQS queue per replica. With replicas > 1 the rule
# publishes to an SNS topic that fans out to every replica's queue (SQS gives each message to
# one consumer only). Set each replica's platforms.<name>.events.sqs_queue_url to its queue URL.

variable "name" {
  type    = string
  default = "polysync-batch-events"
}

variable "replicas" {
  type    = number
  default = 1
}

variable "job_queue_arns" {
  description = "Only events of these Batch job queues; empty: every job of the account and region"
  type        = list(string)
  default     = []
}

variable "service_role_name" {
  description = "The role polysync-batch runs as (gets the SQS permissions)"
  type        = string
}

locals {
  fan_out = var.replicas > 1
  event_pattern = merge(
    { source = ["aws.batch"], "detail-type" = ["Batch Job State Change", "Batch Job Queue Blocked"] },
    length(var.job_queue_arns) > 0 ? { detail = { jobQueue = var.job_queue_arns } } : {},
  )
}

resource "aws_sqs_queue" "events" {
  count                      = var.replicas
  name                       = var.replicas > 1 ? "${var.name}-${count.index}" : var.name
  message_retention_seconds  = 86400
  visibility_timeout_seconds = 30
}

resource "aws_cloudwatch_event_rule" "batch_job_state_change" {
  name          = "${var.name}-batch-job-state-change"
  description   = "AWS Batch job state changes for polysync-batch"
  event_pattern = jsonencode(local.event_pattern)
}

# One replica: the rule delivers into the queue.
resource "aws_cloudwatch_event_target" "queue" {
  count = local.fan_out ? 0 : 1
  rule  = aws_cloudwatch_event_rule.batch_job_state_change.name
  arn   = aws_sqs_queue.events[0].arn
}

# N replicas: the rule publishes to a topic; each replica's queue subscribes with raw delivery.
resource "aws_sns_topic" "events" {
  count = local.fan_out ? 1 : 0
  name  = "${var.name}-fan-out"
}

resource "aws_sns_topic_policy" "events" {
  count = local.fan_out ? 1 : 0
  arn   = aws_sns_topic.events[0].arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sns:Publish"
      Resource  = aws_sns_topic.events[0].arn
      Condition = { ArnEquals = { "aws:SourceArn" = aws_cloudwatch_event_rule.batch_job_state_change.arn } }
    }]
  })
}

resource "aws_cloudwatch_event_target" "topic" {
  count = local.fan_out ? 1 : 0
  rule  = aws_cloudwatch_event_rule.batch_job_state_change.name
  arn   = aws_sns_topic.events[0].arn
}

resource "aws_sns_topic_subscription" "queue" {
  count                = local.fan_out ? var.replicas : 0
  topic_arn            = aws_sns_topic.events[0].arn
  protocol             = "sqs"
  endpoint             = aws_sqs_queue.events[count.index].arn
  raw_message_delivery = true
}

resource "aws_sqs_queue_policy" "events" {
  count     = var.replicas
  queue_url = aws_sqs_queue.events[count.index].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "polysync-batch-events"
      Effect    = "Allow"
      Principal = { Service = local.fan_out ? "sns.amazonaws.com" : "events.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.events[count.index].arn
      Condition = { ArnEquals = { "aws:SourceArn" = local.fan_out ? aws_sns_topic.events[0].arn : aws_cloudwatch_event_rule.batch_job_state_change.arn } }
    }]
  })
}

resource "aws_iam_role_policy" "consume" {
  name = "${var.name}-consume"
  role = var.service_role_name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "ConsumeBatchJobEvents"
      Effect   = "Allow"
      Action   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"]
      Resource = aws_sqs_queue.events[*].arn
    }]
  })
}

output "queue_urls" {
  description = "One per replica: platforms.<name>.events.sqs_queue_url"
  value       = aws_sqs_queue.events[*].url
}
