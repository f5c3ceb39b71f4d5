// Generated from server/polysync_batch/domain/reasons.py by scripts/generate-reasons.py; do not edit.
namespace Polysync.Platform.Client;

/// <summary>
/// Every <c>google.rpc.ErrorInfo</c> reason the Polysync platform service sends. Compare with
/// <see cref="Errors.Reason"/>; each constant says the gRPC status code it comes with.
/// </summary>
public static class Reasons
{
    /// <summary>The <c>ErrorInfo.Domain</c> of every error the service reports.</summary>
    public const string Domain = "polysync.platform";

    /// <summary>NOT_FOUND: the job queue does not exist in the platform's region.</summary>
    public const string JobQueueNotFound = "JOB_QUEUE_NOT_FOUND";

    /// <summary>NOT_FOUND: the pipeline has no ACTIVE job definition revision.</summary>
    public const string JobDefinitionNotFound = "JOB_DEFINITION_NOT_FOUND";

    /// <summary>NOT_FOUND: AWS Batch does not know the run id.</summary>
    public const string RunNotFound = "RUN_NOT_FOUND";

    /// <summary>NOT_FOUND: the request names a platform that is not configured.</summary>
    public const string PlatformNotFound = "PLATFORM_NOT_FOUND";

    /// <summary>PERMISSION_DENIED: AWS denied the call (IAM permissions of the platform's role).</summary>
    public const string AwsAccessDenied = "AWS_ACCESS_DENIED";

    /// <summary>FAILED_PRECONDITION: AWS STS rejected the platform's web identity token.</summary>
    public const string AwsIdentityTokenInvalid = "AWS_IDENTITY_TOKEN_INVALID";

    /// <summary>FAILED_PRECONDITION: the platform's AWS credentials are missing, expired or invalid.</summary>
    public const string AwsCredentialsInvalid = "AWS_CREDENTIALS_INVALID";

    /// <summary>RESOURCE_EXHAUSTED: AWS throttled the call after retries (RetryInfo says when to retry).</summary>
    public const string AwsThrottled = "AWS_THROTTLED";

    /// <summary>UNAVAILABLE: AWS answered 5xx or could not be reached after retries.</summary>
    public const string AwsUnavailable = "AWS_UNAVAILABLE";

    /// <summary>INVALID_ARGUMENT: AWS Batch rejected the request for another reason (its message is passed on).</summary>
    public const string AwsRequestRejected = "AWS_REQUEST_REJECTED";

    /// <summary>INVALID_ARGUMENT: a request field is invalid (BadRequest lists each one).</summary>
    public const string InvalidArgument = "INVALID_ARGUMENT";

    /// <summary>INVALID_ARGUMENT: the pipeline's Ref:: parameters without defaults were not given (BadRequest lists them).</summary>
    public const string MissingParameters = "MISSING_PARAMETERS";

    /// <summary>UNAUTHENTICATED: caller authentication is configured and the call has no valid token or certificate.</summary>
    public const string CallerUnauthenticated = "CALLER_UNAUTHENTICATED";

    /// <summary>PERMISSION_DENIED: the caller is not in the platform's access list.</summary>
    public const string CallerNotAllowed = "CALLER_NOT_ALLOWED";

    /// <summary>RESOURCE_EXHAUSTED: the caller already holds server.max_streams_per_caller streams (or, without a caller, server.max_unidentified_streams are open).</summary>
    public const string TooManyStreams = "TOO_MANY_STREAMS";

    /// <summary>UNAVAILABLE: the server is stopping; reconnect and the watch resumes with the current state.</summary>
    public const string ServerShuttingDown = "SERVER_SHUTTING_DOWN";

    /// <summary>DEADLINE_EXCEEDED: the caller's deadline passed before the work could start or finish (no AWS call is started after it).</summary>
    public const string DeadlineExceeded = "DEADLINE_EXCEEDED";

    /// <summary>UNAVAILABLE: another call with the same request_id is still submitting; retry (RetryInfo) and get its run.</summary>
    public const string SubmitInProgress = "SUBMIT_IN_PROGRESS";

    /// <summary>INTERNAL: an unexpected server error (the server log has the details).</summary>
    public const string Internal = "INTERNAL";

    /// <summary>ALREADY_EXISTS: the caller already used this request_id for a different request; nothing was submitted.</summary>
    public const string RequestIdReused = "REQUEST_ID_REUSED";

    /// <summary>PERMISSION_DENIED: the job queue is not in the platform's job_queues; nothing was submitted or listed.</summary>
    public const string JobQueueNotAllowed = "JOB_QUEUE_NOT_ALLOWED";

    /// <summary>FAILED_PRECONDITION: no compute environment of the queue could ever place the job (ErrorInfo has what was asked and the most the queue offers).</summary>
    public const string JobCannotBePlaced = "JOB_CANNOT_BE_PLACED";

    /// <summary>FAILED_PRECONDITION: the feed cursor is from another process or older than the history kept; start again with snapshot = true.</summary>
    public const string CursorExpired = "CURSOR_EXPIRED";

    /// <summary>Every reason above, in the catalogue's order.</summary>
    public static readonly IReadOnlyList<string> All = new[]
    {
        JobQueueNotFound,
        JobDefinitionNotFound,
        RunNotFound,
        PlatformNotFound,
        AwsAccessDenied,
        AwsIdentityTokenInvalid,
        AwsCredentialsInvalid,
        AwsThrottled,
        AwsUnavailable,
        AwsRequestRejected,
        InvalidArgument,
        MissingParameters,
        CallerUnauthenticated,
        CallerNotAllowed,
        TooManyStreams,
        ServerShuttingDown,
        DeadlineExceeded,
        SubmitInProgress,
        Internal,
        RequestIdReused,
        JobQueueNotAllowed,
        JobCannotBePlaced,
        CursorExpired,
    };
}
