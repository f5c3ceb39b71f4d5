// Generated from server/polysync_batch/domain/reasons.py by scripts/generate-reasons.py; do not edit.
package io.polysync.platform.client;

import java.util.List;

/**
 * Every {@code google.rpc.ErrorInfo} reason the Polysync platform service sends. Compare with
 * {@link Errors#reason(Throwable)}; each constant says the gRPC status code it comes with.
 */
public final class Reasons {
  /** The {@code ErrorInfo.domain} of every error the service reports. */
  public static final String DOMAIN = "polysync.platform";

  /** NOT_FOUND: the job queue does not exist in the platform's region. */
  public static final String JOB_QUEUE_NOT_FOUND = "JOB_QUEUE_NOT_FOUND";

  /** NOT_FOUND: the pipeline has no ACTIVE job definition revision. */
  public static final String JOB_DEFINITION_NOT_FOUND = "JOB_DEFINITION_NOT_FOUND";

  /** NOT_FOUND: AWS Batch does not know the run id. */
  public static final String RUN_NOT_FOUND = "RUN_NOT_FOUND";

  /** NOT_FOUND: the request names a platform that is not configured. */
  public static final String PLATFORM_NOT_FOUND = "PLATFORM_NOT_FOUND";

  /** PERMISSION_DENIED: AWS denied the call (IAM permissions of the platform's role). */
  public static final String AWS_ACCESS_DENIED = "AWS_ACCESS_DENIED";

  /** FAILED_PRECONDITION: AWS STS rejected the platform's web identity token. */
  public static final String AWS_IDENTITY_TOKEN_INVALID = "AWS_IDENTITY_TOKEN_INVALID";

  /** FAILED_PRECONDITION: the platform's AWS credentials are missing, expired or invalid. */
  public static final String AWS_CREDENTIALS_INVALID = "AWS_CREDENTIALS_INVALID";

  /** RESOURCE_EXHAUSTED: AWS throttled the call after retries (RetryInfo says when to retry). */
  public static final String AWS_THROTTLED = "AWS_THROTTLED";

  /** UNAVAILABLE: AWS answered 5xx or could not be reached after retries. */
  public static final String AWS_UNAVAILABLE = "AWS_UNAVAILABLE";

  /** INVALID_ARGUMENT: AWS Batch rejected the request for another reason (its message is passed on). */
  public static final String AWS_REQUEST_REJECTED = "AWS_REQUEST_REJECTED";

  /** INVALID_ARGUMENT: a request field is invalid (BadRequest lists each one). */
  public static final String INVALID_ARGUMENT = "INVALID_ARGUMENT";

  /** INVALID_ARGUMENT: the pipeline's Ref:: parameters without defaults were not given (BadRequest lists them). */
  public static final String MISSING_PARAMETERS = "MISSING_PARAMETERS";

  /** UNAUTHENTICATED: caller authentication is configured and the call has no valid token or certificate. */
  public static final String CALLER_UNAUTHENTICATED = "CALLER_UNAUTHENTICATED";

  /** PERMISSION_DENIED: the caller is not in the platform's access list. */
  public static final String CALLER_NOT_ALLOWED = "CALLER_NOT_ALLOWED";

  /** RESOURCE_EXHAUSTED: the caller already holds server.max_streams_per_caller streams (or, without a caller, server.max_unidentified_streams are open). */
  public static final String TOO_MANY_STREAMS = "TOO_MANY_STREAMS";

  /** UNAVAILABLE: the server is stopping; reconnect and the watch resumes with the current state. */
  public static final String SERVER_SHUTTING_DOWN = "SERVER_SHUTTING_DOWN";

  /** DEADLINE_EXCEEDED: the caller's deadline passed before the work could start or finish (no AWS call is started after it). */
  public static final String DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED";

  /** UNAVAILABLE: another call with the same request_id is still submitting; retry (RetryInfo) and get its run. */
  public static final String SUBMIT_IN_PROGRESS = "SUBMIT_IN_PROGRESS";

  /** INTERNAL: an unexpected server error (the server log has the details). */
  public static final String INTERNAL = "INTERNAL";

  /** ALREADY_EXISTS: the caller already used this request_id for a different request; nothing was submitted. */
  public static final String REQUEST_ID_REUSED = "REQUEST_ID_REUSED";

  /** PERMISSION_DENIED: the job queue is not in the platform's job_queues; nothing was submitted or listed. */
  public static final String JOB_QUEUE_NOT_ALLOWED = "JOB_QUEUE_NOT_ALLOWED";

  /** FAILED_PRECONDITION: no compute environment of the queue could ever place the job (ErrorInfo has what was asked and the most the queue offers). */
  public static final String JOB_CANNOT_BE_PLACED = "JOB_CANNOT_BE_PLACED";

  /** FAILED_PRECONDITION: the feed cursor is from another process or older than the history kept; start again with snapshot = true. */
  public static final String CURSOR_EXPIRED = "CURSOR_EXPIRED";

  /** Every reason above, in the catalogue's order. */
  public static final List<String> ALL = List.of(
      JOB_QUEUE_NOT_FOUND,
      JOB_DEFINITION_NOT_FOUND,
      RUN_NOT_FOUND,
      PLATFORM_NOT_FOUND,
      AWS_ACCESS_DENIED,
      AWS_IDENTITY_TOKEN_INVALID,
      AWS_CREDENTIALS_INVALID,
      AWS_THROTTLED,
      AWS_UNAVAILABLE,
      AWS_REQUEST_REJECTED,
      INVALID_ARGUMENT,
      MISSING_PARAMETERS,
      CALLER_UNAUTHENTICATED,
      CALLER_NOT_ALLOWED,
      TOO_MANY_STREAMS,
      SERVER_SHUTTING_DOWN,
      DEADLINE_EXCEEDED,
      SUBMIT_IN_PROGRESS,
      INTERNAL,
      REQUEST_ID_REUSED,
      JOB_QUEUE_NOT_ALLOWED,
      JOB_CANNOT_BE_PLACED,
      CURSOR_EXPIRED);

  private Reasons() {}
}
