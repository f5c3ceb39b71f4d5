"""What the command prints: tables and plain lines for people, one JSON object per line for
scripts (the proto's JSON mapping, with the proto's field names, as grpcurl prints them)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from datetime import timezone
from typing import Any

from google.protobuf import json_format, timestamp_pb2
from google.protobuf.message import Message
from polysync.platform.v1 import pipeline_pb2, pipeline_run_pb2
from rich.console import Console
from rich.table import Table
from rich.text import Text

NONE_RECORDED = "none recorded"


def make_console(file: Any = None) -> Console:
    """A console on stdout (or `file`). Off a terminal nothing is wrapped, so a pipe gets whole
    lines whatever the width of the terminal it came from."""
    console = Console(file=file or sys.stdout, highlight=False)
    if not console.is_terminal:
        console = Console(file=file or sys.stdout, highlight=False, width=100_000, no_color=True)
    return console


def print_table(console: Console, table: Table) -> None:
    """A table; off a terminal without the padding after the last column, so each line ends
    with its text."""
    if console.is_terminal:
        console.print(table)
        return
    with console.capture() as captured:
        console.print(table)
    for line in captured.get().splitlines():
        console.file.write(line.rstrip() + "\n")
    console.file.flush()


def json_line(message: Message) -> str:
    """One message as one line of JSON (the proto3 JSON mapping, proto field names, every field
    present so `jq .status` always finds it)."""
    return json.dumps(
        json_format.MessageToDict(message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True),
        separators=(", ", ": "),
    )


def status_name(status: int) -> str:
    return pipeline_run_pb2.RunStatus.Name(status).removeprefix("RUN_STATUS_")  # type: ignore[arg-type]


def cause_name(cause: int) -> str:
    return pipeline_run_pb2.FailureCause.Name(cause).removeprefix("FAILURE_CAUSE_")  # type: ignore[arg-type]


def when(timestamp: timestamp_pb2.Timestamp | None) -> str:
    """A Timestamp as `2026-12-03 09:50:01Z` (UTC), "" when unset."""
    if timestamp is None or (timestamp.seconds == 0 and timestamp.nanos == 0):
        return ""
    return timestamp.ToDatetime(tzinfo=timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def exit_code_text(run: pipeline_run_pb2.PipelineRun | pipeline_run_pb2.RunAttempt) -> str:
    return str(run.exit_code) if run.HasField("exit_code") else ""


def summary(run: pipeline_run_pb2.PipelineRun) -> str:
    """One line for a run: id, status, native status, and its message (reason and exit code)."""
    parts = [run.run_id, status_name(run.status), f"({run.native_status})" if run.native_status else ""]
    if run.message:
        parts.append(run.message)
    elif run.status_reason:
        parts.append(run.status_reason)
    return "  ".join(part for part in parts if part)


def _fields(rows: Iterable[tuple[str, str]]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    for name, value in rows:
        if value:
            grid.add_row(name, value)
    return grid


def run_fields(run: pipeline_run_pb2.PipelineRun) -> Table:
    """A run as `name  value` rows (unset values left out)."""
    pipeline = f"{run.pipeline}:{run.pipeline_revision}" if run.pipeline_revision else run.pipeline
    array = ""
    if run.HasField("array") and run.array.size:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(run.array.status_counts.items()))
        array = f"{run.array.size} children" + (f" ({counts})" if counts else "")
    rows = [
        ("run", run.run_id),
        ("pipeline", pipeline),
        ("status", status_name(run.status)),
        ("native status", run.native_status),
        ("reason", run.status_reason),
        ("exit code", exit_code_text(run)),
        ("message", run.message),
        ("platform", run.platform),
        ("queue", run.job_queue),
        ("job name", run.job_name),
        ("parameters", ", ".join(f"{k}={v}" for k, v in sorted(run.parameters.items()))),
        ("created", when(run.create_time)),
        ("started", when(run.start_time)),
        ("stopped", when(run.stop_time)),
        ("attempts", str(run.attempts) if run.attempts else ""),
        ("array", array),
        ("console", run.console_url),
        ("logs", run.logs_url),
    ]
    rows += [("warning", warning) for warning in run.warnings]
    return _fields(rows)


def _table(*columns: str) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold", show_edge=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def pipelines_table(pipelines: Iterable[pipeline_pb2.Pipeline]) -> Table:
    table = _table("NAME", "REVISION", "REQUIRED PARAMETERS", "TYPE", "IMAGE")
    for pipeline in pipelines:
        required = ", ".join(pipeline.required_parameters) or "-"
        table.add_row(pipeline.name, str(pipeline.revision), required, pipeline.type, pipeline.image)
    return table


def runs_table(runs: Iterable[pipeline_run_pb2.PipelineRun]) -> Table:
    table = _table("RUN", "PIPELINE", "STATUS", "NATIVE", "CREATED", "MESSAGE")
    for run in runs:
        table.add_row(
            run.run_id,
            run.pipeline,
            status_name(run.status),
            run.native_status,
            when(run.create_time),
            run.message or run.status_reason,
        )
    return table


def change_line(run: pipeline_run_pb2.PipelineRun, version: int, time: timestamp_pb2.Timestamp) -> str:
    """One line per change of the §12 feed."""
    parts = [when(time) or "-", run.run_id, f"v{version}", run.pipeline, status_name(run.status), run.native_status]
    if run.status_reason:
        parts.append(run.status_reason)
    return "  ".join(part for part in parts if part)


def change_line_of_watch(run: pipeline_run_pb2.PipelineRun, stale: bool) -> str:
    """One line per change of a watched run (off a terminal)."""
    exit_code = f"exit {run.exit_code}" if run.HasField("exit_code") else ""
    parts = [run.run_id, run.native_status, run.status_reason, exit_code, "(stale)" if stale else ""]
    return "  ".join(part for part in parts if part)


def diagnosis(run: pipeline_run_pb2.PipelineRun) -> list[Any]:
    """The §13 diagnosis of a run, as renderables: cause, attempts, history, queue position,
    warnings and advice. What the server did not record says "none recorded"."""
    failed = run.status in (pipeline_run_pb2.RUN_STATUS_FAILED, pipeline_run_pb2.RUN_STATUS_CANCELLED)
    if run.failure_cause:
        cause = cause_name(run.failure_cause)
    elif failed:
        cause = f"{NONE_RECORDED} (the reason AWS gave: {run.status_reason or 'none'})"
    else:
        cause = f"none: the run has not failed ({status_name(run.status)})"
    if run.HasField("queue_position") and run.queue_position.HasField("position"):
        since = when(run.queue_position.earliest_time_at_position)
        position = f"{run.queue_position.position}" + (f" (since {since})" if since else "")
    elif run.native_status == "RUNNABLE":
        position = f"{NONE_RECORDED} (not among the first 100 of the queue, or its snapshot may not be read)"
    else:
        position = f"not waiting in the queue ({run.native_status or 'unknown'})"

    out: list[Any] = [
        _fields(
            [
                ("run", summary(run)),
                ("pipeline", run.pipeline),
                ("queue", run.job_queue),
                ("failure cause", cause),
                ("queue position", position),
            ]
        )
    ]
    out.append(Text("attempts", style="bold"))
    if run.attempt_details:
        attempts = _table("#", "STARTED", "STOPPED", "EXIT", "CAUSE", "REASON", "CONTAINER REASON", "LOG STREAM")
        for attempt in run.attempt_details:
            attempts.add_row(
                str(attempt.index),
                when(attempt.start_time) or "-",
                when(attempt.stop_time) or "-",
                exit_code_text(attempt) or "-",
                cause_name(attempt.failure_cause) if attempt.failure_cause else "-",
                attempt.status_reason or "-",
                attempt.container_reason or "-",
                attempt.log_stream_name or "-",
            )
        out.append(attempts)
    else:
        out.append(Text(f"  {NONE_RECORDED}" + (f" (attempts made: {run.attempts})" if run.attempts else "")))

    out.append(Text("history", style="bold"))
    if run.history:
        history = _table("TIME", "STATUS", "REASON")
        for change in run.history:
            history.add_row(when(change.time) or "-", change.native_status, change.status_reason or "-")
        out.append(history)
    else:
        out.append(Text(f"  {NONE_RECORDED}"))

    out.append(Text("warnings and advice", style="bold"))
    out.append(Text("\n".join(f"  - {warning}" for warning in run.warnings) or "  none"))
    return out


__all__ = [
    "NONE_RECORDED",
    "change_line",
    "change_line_of_watch",
    "diagnosis",
    "json_line",
    "make_console",
    "pipelines_table",
    "print_table",
    "run_fields",
    "runs_table",
    "status_name",
    "summary",
    "when",
]
