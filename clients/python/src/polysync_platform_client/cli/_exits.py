"""The exit codes of SPEC §14, and how a failed call is told on stderr."""

from __future__ import annotations

import enum
import sys

import grpc
from polysync.platform.v1 import pipeline_run_pb2

from polysync_platform_client import errors


class Exit(enum.IntEnum):
    DONE = 0  # done; with --wait / watch: the run SUCCEEDED
    FAILED = 1  # the run FAILED
    USAGE = 2  # bad usage (Click's own code for a usage error)
    CANCELLED = 3  # the run was CANCELLED
    REFUSED = 4  # the service refused the call
    UNREACHABLE = 5  # the service could not be reached
    INTERRUPTED = 130  # Ctrl-C during a watch or logs (the shell's 128 + SIGINT)
    BROKEN_PIPE = 141  # stdout's reader closed the pipe (the shell's 128 + SIGPIPE)


def of_run(run: pipeline_run_pb2.PipelineRun) -> Exit:
    """The exit code of a run waited for: 0 SUCCEEDED, 1 FAILED, 3 CANCELLED."""
    if run.status == pipeline_run_pb2.RUN_STATUS_SUCCEEDED:
        return Exit.DONE
    if run.status == pipeline_run_pb2.RUN_STATUS_CANCELLED:
        return Exit.CANCELLED
    return Exit.FAILED


def unreachable(error: grpc.RpcError) -> bool:
    """The call never got an answer from the service: UNAVAILABLE or DEADLINE_EXCEEDED without
    the ErrorInfo the service puts on every error it sends itself."""
    code = error.code()
    return code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED) and errors.error_info(error) is None


class Refused(Exception):
    """The command stops with a message on stderr and an exit code."""

    def __init__(self, message: str, code: Exit = Exit.REFUSED) -> None:
        super().__init__(message)
        self.code = code


def report(error: grpc.RpcError, address: str) -> Exit:
    """Prints why a call failed on stderr, with the field to fix or the hint, and returns 4
    (refused) or 5 (not reached)."""
    code = error.code()
    details = error.details() or ""
    if unreachable(error):
        lines = [f"polysync: cannot reach the service at {address}: {code.name}: {details}"]
        lower = details.lower()
        if "ssl" in lower or "handshake" in lower or "tls" in lower or "certificate" in lower:
            lines.append(
                "  hint: a TLS server needs --ca-file (or --tls for the system's CAs); a plaintext one, neither"
            )
        elif code == grpc.StatusCode.UNAVAILABLE:
            lines.append("  hint: is the server running there? (--address / POLYSYNC_ADDRESS)")
        _print(lines)
        return Exit.UNREACHABLE
    reason = errors.reason(error)
    lines = [f"polysync: refused: {code.name}" + (f" {reason}" if reason else "") + f": {details}"]
    for violation in errors.field_violations(error):
        lines.append(f"  field {violation.field}: {violation.description}")
    for link in errors.help_links(error):
        lines.append(f"  hint: {link.description}" + (f" ({link.url})" if link.url else ""))
    info = errors.error_info(error)
    if info is not None and info.metadata:
        lines.append("  " + ", ".join(f"{k}={v}" for k, v in sorted(info.metadata.items())))
    _print(lines)
    return Exit.REFUSED


def _print(lines: list[str]) -> None:
    print("\n".join(lines), file=sys.stderr, flush=True)
