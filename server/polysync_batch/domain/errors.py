"""Typed errors of the service, independent of gRPC: each kind maps to one status code in
`polysync_batch.api.interceptors.errors`, so every RPC reports a failure the same way. Every
`reason` is one of `domain.reasons.Reason`."""

from __future__ import annotations

from dataclasses import dataclass, field

from polysync_batch.domain.reasons import ERROR_DOMAIN, Reason

__all__ = ["ERROR_DOMAIN", "Reason"]


@dataclass(frozen=True)
class FieldViolation:
    """One bad request field, reported as google.rpc.BadRequest.FieldViolation."""

    field: str
    description: str


class PlatformError(Exception):
    """A failure reported to the caller with a stable `reason` (google.rpc.ErrorInfo.reason)."""

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


class NotFound(PlatformError):
    pass


class InvalidArgument(PlatformError):
    pass


class PermissionDenied(PlatformError):
    pass


class FailedPrecondition(PlatformError):
    pass


class Unauthenticated(PlatformError):
    pass


class ResourceExhausted(PlatformError):
    pass


class Unavailable(PlatformError):
    pass


class Internal(PlatformError):
    pass


class DeadlineExceeded(PlatformError):
    pass


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


def too_many_streams(caller: str, open_streams: int, limit: int) -> ResourceExhausted:
    return ResourceExhausted(
        Reason.TOO_MANY_STREAMS,
        f"caller {caller} already has {open_streams} open watch streams (the limit)",
        hint="Watch many runs with one WatchPipelineRuns stream, or close streams you no longer read.",
        metadata={"caller": caller, "limit": str(limit)},
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


class AlreadyExists(PlatformError):
    pass


def request_id_reused(request_id: str, platform: str) -> AlreadyExists:
    """The caller's request_id names an earlier, different request (SPEC §8.5); its run is not named."""
    return AlreadyExists(
        Reason.REQUEST_ID_REUSED,
        f"request_id {request_id!r} was already used for a different request on platform {platform!r}; "
        "nothing was submitted",
        hint="Use a new request_id for a new request; resend the identical request to get its run.",
        metadata={"request_id": request_id, "platform": platform},
    )


def job_queue_not_allowed(queue: str, platform: str, allowed: list[str]) -> PermissionDenied:
    return PermissionDenied(
        Reason.JOB_QUEUE_NOT_ALLOWED,
        f"job queue {queue!r} is not one of platform {platform!r}'s job queues ({', '.join(allowed)}); "
        "nothing was submitted or listed",
        hint=f"Use one of the platform's queues, or add the queue to platforms.{platform}.job_queues.",
        metadata={"job_queue": queue, "platform": platform},
    )
