"""boto3 adapters: credentials, AWS Batch calls, AWS errors translated to domain errors."""
