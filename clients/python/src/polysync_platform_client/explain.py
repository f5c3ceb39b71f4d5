"""`explain_failure(run)`: why a run failed, in a few lines for people (SPEC §13; docs/clients.md
"Why a run failed, in words"). The exact text is fixed by clients/explain-failure.json, which
every client's tests replay."""

from __future__ import annotations

from polysync.platform.v1 import pipeline_run_pb2

__all__ = ["explain_failure"]

_PREFIX = "FAILURE_CAUSE_"


def _cause(value: int) -> str:
    return pipeline_run_pb2.FailureCause.Name(value).removeprefix(_PREFIX)  # type: ignore[arg-type]


def explain_failure(run: pipeline_run_pb2.PipelineRun) -> str:
    """The run's failure cause and reason, one line per attempt (cause, exit code, reason, log
    stream) and the advice of its warnings, each line ending with a newline; "" when the run
    did not fail or was cancelled.

        failed: OUT_OF_MEMORY after 2 attempts: Essential container in task exited
          attempt 1: HOST_TERMINATED, no exit code: Host EC2 (instance i-0abc123) terminated. (log stream …)
          attempt 2: OUT_OF_MEMORY, exit code 137: OutOfMemoryError: Container killed … (log stream …)
          advice: the container ran out of memory: raise memory_mib above what the job definition gives
    """
    cancelled = run.failure_cause == pipeline_run_pb2.FAILURE_CAUSE_CANCELLED
    if run.status != pipeline_run_pb2.RUN_STATUS_FAILED or cancelled:
        return ""
    noun = "attempt" if run.attempts == 1 else "attempts"
    lines = [f"failed: {_cause(run.failure_cause)} after {run.attempts} {noun}" + _colon(run.status_reason)]
    for attempt in sorted(run.attempt_details, key=lambda a: a.index):
        code = f"exit code {attempt.exit_code}" if attempt.HasField("exit_code") else "no exit code"
        line = f"  attempt {attempt.index + 1}: {_cause(attempt.failure_cause)}, {code}"
        line += _colon(attempt.container_reason or attempt.status_reason)
        if attempt.log_stream_name:
            line += f" (log stream {attempt.log_stream_name})"
        lines.append(line)
    lines += [f"  advice: {warning}" for warning in run.warnings]
    return "".join(f"{line}\n" for line in lines)


def _colon(reason: str) -> str:
    return f": {reason}" if reason else ""
