"""Typed errors of the service, independent of gRPC, and every factory that builds one.

A reason's status code comes from one place, the catalogue (domain/reasons.py): an error's
`code` is its reason's catalogue code, and its class (the kind callers catch: NotFound,
Unavailable, …) is chosen from that code, so a reason cannot be raised as another kind. Build
errors with the factories below (or `PlatformError(reason, …)`, which picks the kind itself);
the call chain (api/chain/errors.py) turns them into statuses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from polysync_batch.domain.reasons import CATALOGUE, ERROR_DOMAIN, Reason

__all__ = ["ERROR_DOMAIN", "Reason"]

# The status code name (grpc.StatusCode.<name>) of each reason: the catalogue's, nowhere else.
CODES: dict[str, str] = {info.reason.value: info.code for info in CATALOGUE}


@dataclass(frozen=True)
class FieldViolation:
    """One bad request field, reported as google.rpc.BadRequest.FieldViolation."""

    field: str
    description: str


class PlatformError(Exception):
    """A failure reported to the caller with a stable `reason` (google.rpc.ErrorInfo.reason)."""

    kind_code: ClassVar[str] = "INTERNAL"  # the status code this kind stands for
    _kinds: ClassVar[dict[str, type[PlatformError]]] = {}

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        PlatformError._kinds.setdefault(cls.kind_code, cls)

    def __new__(cls, reason: str, *args: object, **kwargs: object) -> PlatformError:
        code = CODES.get(str(reason))
        if code is None:  # not a catalogued reason (only tests make those): the kind asked for
            return super().__new__(cls)
        kind = PlatformError._kinds.get(code, PlatformError)
        if cls is PlatformError:
            return super().__new__(kind)
        if not issubclass(cls, kind):
            raise TypeError(f"{reason} is sent as {code} (domain/reasons.py), not as {cls.__name__}")
        return super().__new__(cls)

    def __init__(
        self,
        reason: Reason,
        message: str,
        *,
        hint: str = "",
        metadata: dict[str, str] | None = None,
        violations: list[FieldViolation] | None = None,
        retry_after_seconds: float | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.hint = hint
        self.metadata = {k: v for k, v in (metadata or {}).items() if v}
        self.violations = list(violations or [])
        self.retry_after_seconds = retry_after_seconds

    @property
    def code(self) -> str:
        """The status code name the error is sent with: its reason's, from the catalogue."""
        return CODES.get(str(self.reason), self.kind_code)


# The kinds callers catch, one per status code the catalogue uses.
class NotFound(PlatformError):
    kind_code = "NOT_FOUND"


class InvalidArgument(PlatformError):
    kind_code = "INVALID_ARGUMENT"


class PermissionDenied(PlatformError):
    kind_code = "PERMISSION_DENIED"


class FailedPrecondition(PlatformError):
    kind_code = "FAILED_PRECONDITION"


class Unauthenticated(PlatformError):
    kind_code = "UNAUTHENTICATED"


class ResourceExhausted(PlatformError):
    kind_code = "RESOURCE_EXHAUSTED"


class Unavailable(PlatformError):
    kind_code = "UNAVAILABLE"


class Internal(PlatformError):
    kind_code = "INTERNAL"


class DeadlineExceeded(PlatformError):
    kind_code = "DEADLINE_EXCEEDED"


class AlreadyExists(PlatformError):
    kind_code = "ALREADY_EXISTS"


class SubmitUnsure(Unavailable):
    """SubmitJob reached AWS but its answer was lost (connection dropped, 5xx, timeout after
    sending): the job may or may not exist. Only a look-up by its job name can tell."""


@dataclass
class Violations:
    """Collects every bad field of a request so the caller can fix them all at once."""

    items: list[FieldViolation] = field(default_factory=list)

    def add(self, field_path: str, description: str) -> None:
        self.items.append(FieldViolation(field_path, description))

    def raise_if_any(self) -> None:
        if self.items:
            raise self.error()

    def error(self) -> InvalidArgument:
        first = self.items[0]
        more = f" (and {len(self.items) - 1} more)" if len(self.items) > 1 else ""
        return InvalidArgument(
            Reason.INVALID_ARGUMENT,
            f"invalid request: {first.field}: {first.description}{more}",
            violations=self.items,
        )


def run_not_found(run_id: str, platform: str) -> NotFound:
    return NotFound(
        Reason.RUN_NOT_FOUND,
        f"run {run_id!r} was not found on platform {platform!r}",
        hint="Run ids are AWS Batch job ids; AWS Batch forgets jobs some days after they end.",
        metadata={"run_id": run_id, "platform": platform},
    )


def job_queue_not_found(queue: str, region: str, platform: str) -> NotFound:
    return NotFound(
        Reason.JOB_QUEUE_NOT_FOUND,
        f"job queue {queue!r} does not exist in region {region}",
        hint=(
            "Check the queue name or ARN on the platform's default_job_queue or the request's "
            "job_queue override, and the platform's region."
        ),
        metadata={"job_queue": queue, "region": region, "platform": platform},
    )


def job_definition_not_found(pipeline: str, region: str, platform: str) -> NotFound:
    name = pipeline.rsplit("/", 1)[-1].split(":", 1)[0]
    return NotFound(
        Reason.JOB_DEFINITION_NOT_FOUND,
        f"pipeline {pipeline!r} has no ACTIVE job definition in region {region}",
        hint=(
            "Confirm the name is correct and has at least one ACTIVE revision: "
            f"aws batch describe-job-definitions --status ACTIVE --job-definition-name {name}"
        ),
        metadata={"pipeline": pipeline, "region": region, "platform": platform},
    )


def platform_not_found(name: str, configured: list[str]) -> NotFound:
    what = f"platform {name!r} is not configured" if name else "no platform given and no default_platform configured"
    return NotFound(
        Reason.PLATFORM_NOT_FOUND,
        f"{what} (configured: {', '.join(configured) or 'none'})",
        hint="Pass one of the configured platform names, or leave platform empty for the default.",
        metadata={"platform": name},
    )


def internal(message: str = "internal error: the server log has the details", **metadata: str) -> Internal:
    return Internal(Reason.INTERNAL, message, metadata=metadata)


def server_shutting_down() -> Unavailable:
    return Unavailable(
        Reason.SERVER_SHUTTING_DOWN,
        "the server is shutting down",
        hint="Reconnect (to another replica): the first message of a new watch is the run's current state.",
    )


def submit_in_progress(what: str, platform: str, **metadata: str) -> Unavailable:
    """Another call (or AWS's own lag) holds this request_id's submit: the caller retries it."""
    return Unavailable(
        Reason.SUBMIT_IN_PROGRESS,
        what,
        hint="Retry with the same request_id: it returns that call's run once it is recorded.",
        metadata={**metadata, "platform": platform},
        retry_after_seconds=1.0,
    )


def too_many_streams(who: str, open_streams: int, limit: int, *, identified: bool = True) -> ResourceExhausted:
    """Over server.max_streams_per_caller (`who`: the caller, or its address without caller auth)
    or, for streams that need no caller (Health/Watch), over server.max_unidentified_streams."""
    if not identified:
        return ResourceExhausted(
            Reason.TOO_MANY_STREAMS,
            f"{open_streams} streams without a caller (Health/Watch) are open: the server's limit",
            hint="Close Health/Watch streams you no longer read, or raise server.max_unidentified_streams.",
            metadata={"limit": str(limit)},
            retry_after_seconds=5.0,
        )
    return ResourceExhausted(
        Reason.TOO_MANY_STREAMS,
        f"caller {who} already has {open_streams} open streams (the limit)",
        hint="Watch many runs with one WatchPipelineRuns stream, or close streams you no longer read.",
        metadata={"caller": who, "limit": str(limit)},
        retry_after_seconds=5.0,
    )


def caller_unauthenticated(what: str, certificates: bool = False) -> Unauthenticated:
    """No identified caller; `what` says what was wrong, and never contains the token."""
    how = "a bearer token (metadata 'authorization: Bearer <token>')"
    if certificates:
        how += " or a client certificate"
    return Unauthenticated(
        Reason.CALLER_UNAUTHENTICATED,
        f"caller not authenticated: {what}",
        hint=f"Send {how} this server accepts; see docs/security.md.",
    )


def caller_not_allowed(caller: str, platform: str, action: str) -> PermissionDenied:
    return PermissionDenied(
        Reason.CALLER_NOT_ALLOWED,
        f"caller {caller!r} may not {action} on platform {platform!r}",
        hint=f"Add the caller to platforms.{platform}.access.{action} (submit implies read).",
        metadata={"caller": caller, "platform": platform},
    )


def invalid(field_path: str, description: str, message: str | None = None) -> InvalidArgument:
    """One bad field, reported like every other request check (with its own message if given)."""
    error = Violations([FieldViolation(field_path, description)]).error()
    if message is None:
        return error
    return InvalidArgument(Reason.INVALID_ARGUMENT, message, violations=error.violations)


def missing_parameters(pipeline: str, shown_name: str, missing: list[str], platform: str) -> InvalidArgument:
    return InvalidArgument(
        Reason.MISSING_PARAMETERS,
        f"pipeline {shown_name!r} needs values for its Ref:: parameters without defaults: {', '.join(missing)}",
        hint="Pass each missing name in ExecutePipelineRequest.parameters; nothing was submitted.",
        metadata={"pipeline": pipeline, "missing": ",".join(missing), "platform": platform},
        violations=[
            FieldViolation(f"parameters[{name}]", f"required by the job definition (Ref::{name} has no default)")
            for name in missing
        ],
    )


def deadline_exceeded(operation: str) -> DeadlineExceeded:
    return DeadlineExceeded(
        Reason.DEADLINE_EXCEEDED,
        f"the call's deadline passed before {operation} could start",
        hint="Give the call a longer deadline; nothing was started after it passed.",
        metadata={"operation": operation},
    )


def invalid_page_token() -> InvalidArgument:
    return invalid(
        "page_token",
        "not issued by this service for this platform and filters",
        "page_token is not a token of this listing: pass the next_page_token of the previous response, with "
        "the same platform and filters (tokens expire when the server restarts without server.token_key_file)",
    )


def undecodable_request() -> InvalidArgument:
    return InvalidArgument(
        Reason.INVALID_ARGUMENT,
        "the request is not a valid protobuf message of this method's request type",
        hint="Send the method's request message, serialized with the contract's .proto files.",
    )


def request_too_large(size: int, limit: int) -> InvalidArgument:
    """A request to a method that needs no caller (Health) larger than such a request can be."""
    return invalid("", f"{size} bytes; at most {limit} bytes", f"the request is {size} bytes: at most {limit} here")


def response_too_large(size: int, limit: int, field_path: str) -> InvalidArgument:
    """The answer would not fit in one message (server.max_message_bytes): ask for less."""
    return invalid(
        field_path,
        "asks for more than one answer message can carry",
        f"the answer would be {size} bytes, over the {limit}-byte message limit (server.max_message_bytes); "
        f"ask for less at once ({field_path or 'a smaller request'}) and make several calls",
    )


# -- AWS failures (aws/errors.py decides which; these say it) ------------------------------------


def aws_credentials_invalid(message: str, hint: str, metadata: dict[str, str]) -> FailedPrecondition:
    return FailedPrecondition(Reason.AWS_CREDENTIALS_INVALID, message, hint=hint, metadata=metadata)


def aws_identity_token_invalid(message: str, hint: str, metadata: dict[str, str]) -> FailedPrecondition:
    return FailedPrecondition(Reason.AWS_IDENTITY_TOKEN_INVALID, message, hint=hint, metadata=metadata)


def aws_access_denied(message: str, hint: str, metadata: dict[str, str]) -> PermissionDenied:
    return PermissionDenied(Reason.AWS_ACCESS_DENIED, message, hint=hint, metadata=metadata)


def aws_throttled(message: str, metadata: dict[str, str]) -> ResourceExhausted:
    return ResourceExhausted(
        Reason.AWS_THROTTLED,
        message,
        hint="Slow down, or raise the AWS Batch API rate quota.",
        metadata=metadata,
        retry_after_seconds=2.0,
    )


def aws_unavailable(message: str, hint: str, metadata: dict[str, str]) -> Unavailable:
    return Unavailable(Reason.AWS_UNAVAILABLE, message, hint=hint, metadata=metadata)


def aws_submit_unsure(message: str, metadata: dict[str, str]) -> SubmitUnsure:
    return SubmitUnsure(
        Reason.AWS_UNAVAILABLE,
        message,
        hint="Retry with the same request_id: the retry finds the job if AWS created it.",
        metadata=metadata,
        retry_after_seconds=1.0,
    )


def aws_request_rejected(message: str, metadata: dict[str, str]) -> InvalidArgument:
    return InvalidArgument(Reason.AWS_REQUEST_REJECTED, message, metadata=metadata)


def request_id_reused(request_id: str, platform: str) -> AlreadyExists:
    """The caller's request_id names an earlier, different request (SPEC §8.5); its run is not named."""
    return AlreadyExists(
        Reason.REQUEST_ID_REUSED,
        f"request_id {request_id!r} was already used for a different request on platform {platform!r}; "
        "nothing was submitted",
        hint="Use a new request_id for a new request; resend the identical request to get its run.",
        metadata={"request_id": request_id, "platform": platform},
    )


def job_queue_not_allowed(
    queue: str, platform: str, allowed: list[str], done: str = "nothing was submitted or listed"
) -> PermissionDenied:
    return PermissionDenied(
        Reason.JOB_QUEUE_NOT_ALLOWED,
        f"job queue {queue!r} is not one of platform {platform!r}'s job queues ({', '.join(allowed)}); {done}",
        hint=f"Use one of the platform's queues, or add the queue to platforms.{platform}.job_queues.",
        metadata={"job_queue": queue, "platform": platform},
    )


# -- the run changes feed (SPEC §12) --------------------------------------------------------------


def invalid_cursor(why: str) -> InvalidArgument:
    return InvalidArgument(
        Reason.INVALID_ARGUMENT,
        f"cursor is not a cursor of this feed: {why}; pass the `cursor` of a message of an earlier "
        "WatchRunChanges stream with the same platform and tags, or none to start now",
        violations=[FieldViolation("cursor", why)],
    )


def cursor_expired(platform: str, why: str) -> FailedPrecondition:
    return FailedPrecondition(
        Reason.CURSOR_EXPIRED,
        f"the cursor can no longer be resumed: {why}",
        hint="Start again with snapshot = true (relist), then follow the new stream's cursors.",
        metadata={"platform": platform},
    )
