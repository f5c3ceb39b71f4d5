"""The exact mapping from AWS Batch job status to Polysync's run status (README, "Status mapping")."""

from __future__ import annotations

import enum

ACTIVE_NATIVE_STATUSES = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING")
TERMINAL_NATIVE_STATUSES = ("SUCCEEDED", "FAILED")
ALL_NATIVE_STATUSES = ACTIVE_NATIVE_STATUSES + TERMINAL_NATIVE_STATUSES

# A FAILED job whose reason contains one of these was cancelled, not failed. Matched
# case-sensitively, like the original provider: "Host EC2 ... terminated." is a failure.
CANCELLED_MARKERS = ("Cancelled by Polysync", "Terminated")
CANCEL_REASON = "Cancelled by Polysync"


class RunStatus(enum.Enum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


def run_status(native_status: str, status_reason: str | None) -> RunStatus:
    if native_status == "SUCCEEDED":
        return RunStatus.SUCCEEDED
    if native_status == "FAILED":
        reason = status_reason or ""
        if any(marker in reason for marker in CANCELLED_MARKERS):
            return RunStatus.CANCELLED
        return RunStatus.FAILED
    if native_status in ACTIVE_NATIVE_STATUSES:
        return RunStatus.RUNNING
    raise ValueError(f"unknown AWS Batch job status {native_status!r}")


def is_terminal(native_status: str) -> bool:
    return native_status in TERMINAL_NATIVE_STATUSES


def native_statuses_for(statuses: list[RunStatus]) -> tuple[str, ...]:
    """The AWS Batch statuses to list for a filter on run statuses (all when empty)."""
    if not statuses:
        return ALL_NATIVE_STATUSES
    wanted: list[str] = []
    for status in statuses:
        natives = (
            ACTIVE_NATIVE_STATUSES
            if status is RunStatus.RUNNING
            else (("SUCCEEDED",) if status is RunStatus.SUCCEEDED else ("FAILED",))
        )
        wanted.extend(n for n in natives if n not in wanted)
    return tuple(n for n in ALL_NATIVE_STATUSES if n in wanted)


def cancel_reason(extra: str) -> str:
    """TerminateJob's reason: exactly "Cancelled by Polysync", plus the caller's text if any."""
    extra = extra.strip()
    return f"{CANCEL_REASON}: {extra}" if extra else CANCEL_REASON


def run_message(status: RunStatus, native_status: str, reason: str, exit_code: int | None) -> str:
    """One human line, as Polysync shows a run: its status, AWS's reason and the exit code."""
    code = f" (exit code {exit_code})" if exit_code is not None else ""
    if status is RunStatus.RUNNING:
        return f"Running ({native_status})" + (f": {reason}" if reason else "")
    if status is RunStatus.SUCCEEDED:
        return f"Succeeded{code}"
    if status is RunStatus.CANCELLED:
        return f"Cancelled: {reason}"
    return f"Failed: {reason}{code}" if reason else f"Failed{code}"
