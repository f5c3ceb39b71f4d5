"""The `polysync` commands (SPEC §14) over the sync client's public API."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO, TypeVar

import click
import grpc
from click.core import ParameterSource
from polysync.platform.v1 import pipeline_run_pb2
from polysync.platform.v1 import platform_service_pb2 as pb
from rich.console import Console
from rich.table import Table

from polysync_platform_client.cli import _live, _render
from polysync_platform_client.cli._exits import Exit, Refused, of_run, report
from polysync_platform_client.client import PlatformClient, connect
from polysync_platform_client.explain import explain_failure
from polysync_platform_client.feed import FeedEvent

CALL_TIMEOUT = 30.0  # seconds for each unary call; the watches and streams have none
DEFAULT_ADDRESS = "127.0.0.1:50051"
_META = "polysync.settings"

STATUSES = {
    "running": pipeline_run_pb2.RUN_STATUS_RUNNING,
    "succeeded": pipeline_run_pb2.RUN_STATUS_SUCCEEDED,
    "failed": pipeline_run_pb2.RUN_STATUS_FAILED,
    "cancelled": pipeline_run_pb2.RUN_STATUS_CANCELLED,
}

F = TypeVar("F", bound=Callable[..., Any])

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)

# The global options of §14 (plus --tls, for a TLS server whose certificate the system's CAs
# trust): (name, flags, environment variable, default, Click settings, help).
_GLOBALS: list[tuple[str, tuple[str, ...], str, Any, dict[str, Any], str]] = [
    ("address", ("--address",), "POLYSYNC_ADDRESS", DEFAULT_ADDRESS, {}, "The service, HOST:PORT."),
    ("platform", ("--platform",), "POLYSYNC_PLATFORM", "", {}, "The platform; empty: the server's default."),
    ("ca_file", ("--ca-file",), "POLYSYNC_CA_FILE", None, {"type": _FILE}, "TLS: trust this CA bundle (PEM)."),
    ("tls", ("--tls",), "POLYSYNC_TLS", False, {"is_flag": True}, "TLS with the system's CAs."),
    ("token", ("--token",), "POLYSYNC_TOKEN", None, {}, "Send `authorization: Bearer TOKEN`."),
    ("cert", ("--cert",), "POLYSYNC_CLIENT_CERT", None, {"type": _FILE}, "Mutual TLS: client certificate (PEM)."),
    ("key", ("--key",), "POLYSYNC_CLIENT_KEY", None, {"type": _FILE}, "Mutual TLS: its private key (PEM)."),
    (
        "output",
        ("--output", "-o"),
        "POLYSYNC_OUTPUT",
        "table",
        {"type": click.Choice(["table", "json"], case_sensitive=False)},
        "table for people; json: one JSON object per line (the proto's JSON mapping).",
    ),
]


@dataclass(frozen=True)
class Settings:
    address: str = DEFAULT_ADDRESS
    platform: str = ""
    ca_file: Path | None = None
    tls: bool = False
    token: str | None = None
    cert: Path | None = None
    key: Path | None = None
    output: str = "table"

    @property
    def json(self) -> bool:
        return self.output.lower() == "json"


def _store(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Records a global option in the root context. The group's value (command line, then
    environment, then default) comes first; the same option after the subcommand overrides it
    when it is given there on the command line."""
    name = param.name or ""
    if ctx.parent is None or ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE:
        ctx.find_root().meta.setdefault(_META, {})[name] = value
    return value


def _global_options(*, at_group: bool) -> Callable[[F], F]:
    def decorate(function: F) -> F:
        for name, flags, env, default, extra, help_text in reversed(_GLOBALS):
            option = click.option(
                *flags,
                name,
                envvar=env if at_group else None,
                show_envvar=at_group,
                default=default if at_group else None,
                show_default=at_group and default not in (None, "", False),
                expose_value=False,
                callback=_store,
                hidden=not at_group,
                help=help_text,
                **extra,
            )
            function = option(function)
        return function

    return decorate


def settings() -> Settings:
    values = click.get_current_context().find_root().meta.get(_META, {})
    return Settings(**{k: v for k, v in values.items() if v is not None})


def open_client(s: Settings) -> PlatformClient:
    def read(path: Path | None) -> bytes | None:
        return path.read_bytes() if path is not None else None

    if (s.cert is None) != (s.key is None):
        raise click.UsageError("--cert and --key (POLYSYNC_CLIENT_CERT/POLYSYNC_CLIENT_KEY) go together")
    return connect(
        s.address,
        tls=s.tls,
        root_certificates=read(s.ca_file),
        certificate_chain=read(s.cert),
        private_key=read(s.key),
        token=s.token or None,
    )


def _command(function: Callable[..., Exit]) -> Callable[..., None]:
    """Runs a command: its Exit becomes the process's exit code; a failed call is reported on
    stderr (4 refused, 5 not reached); Ctrl-C ends a watch or a log with 130."""

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> None:
        s = settings()
        try:
            code = function(s, *args, **kwargs)
        except grpc.RpcError as error:
            code = report(error, s.address)
        except Refused as refused:
            print(f"polysync: {refused}", file=sys.stderr, flush=True)
            code = refused.code
        except KeyboardInterrupt:
            print("polysync: interrupted", file=sys.stderr, flush=True)
            code = Exit.INTERRUPTED
        except BrokenPipeError:  # the reader went away (`polysync runs | head -1`): no traceback
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            code = Exit.BROKEN_PIPE
        click.get_current_context().exit(int(code))

    return run


_EPILOG = "Global options (polysync --help) may also stand after the subcommand."


class _Group(click.Group):
    def command(  # type: ignore[override]  # one shape: every subcommand is @cli.command(...)
        self, *args: Any, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], click.Command]:  # every subcommand takes the global options
        kwargs.setdefault("epilog", _EPILOG)
        decorate = super().command(*args, **kwargs)

        def wrap(function: Callable[..., Any]) -> click.Command:
            return decorate(_global_options(at_group=False)(function))  # type: ignore[no-any-return]

        return wrap


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@_global_options(at_group=True)
@click.version_option(package_name="polysync-platform-client", prog_name="polysync")
def cli() -> None:
    """polysync: pipelines and runs of a Polysync platform service, from a terminal or a script.

    \b
    Exit codes: 0 done (with --wait and watch: the run SUCCEEDED), 1 the run FAILED,
    2 bad usage, 3 the run was CANCELLED, 4 the service refused the call (reason on stderr),
    5 the service could not be reached. get, runs and diagnose exit 0 whenever the read
    succeeded.
    """


def _console() -> Console:
    return _render.make_console()


def _print_json(message: Any) -> None:
    print(_render.json_line(message), flush=True)


# -- pipelines ------------------------------------------------------------------------------


@cli.command()
@_command
def pipelines(s: Settings) -> Exit:
    """Every pipeline (job definition at its latest ACTIVE revision) and its required parameters."""
    with open_client(s) as client:
        found = client.list_pipelines(platform=s.platform, timeout=CALL_TIMEOUT)
        if s.json:
            for pipeline in found:
                _print_json(pipeline)
        else:
            _render.print_table(_console(), _render.pipelines_table(found))
    return Exit.DONE


# -- submit ---------------------------------------------------------------------------------


def _parameters(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    parameters = {}
    for value in values:
        name, equals, text = value.partition("=")
        if not equals or not name:
            raise click.BadParameter(f"{value!r} is not NAME=VALUE", ctx=ctx, param=param)
        parameters[name] = text
    return parameters


@cli.command()
@click.argument("pipeline")
@click.option(
    "-p", "--parameter", "parameters", multiple=True, metavar="NAME=VALUE", callback=_parameters, help="Repeatable."
)
@click.option("--request-id", default="", help="Idempotency key: the same id returns the same run.")
@click.option("--queue", default="", help="Job queue (name or ARN); default: the platform's.")
@click.option("--wait", is_flag=True, help="Wait for the end; exit 0 SUCCEEDED, 1 FAILED, 3 CANCELLED.")
@click.option("--logs", is_flag=True, help="Follow the run's log to its end (implies --wait).")
@_command
def submit(
    s: Settings, pipeline: str, parameters: dict[str, str], request_id: str, queue: str, wait: bool, logs: bool
) -> Exit:
    """Submit a run of PIPELINE (ExecutePipeline)."""
    request = pb.ExecutePipelineRequest(
        platform=s.platform, pipeline=pipeline, parameters=parameters, request_id=request_id, job_queue=queue
    )
    with open_client(s) as client:
        response = client.stub.ExecutePipeline(request, timeout=CALL_TIMEOUT)
        run = response.run
        if response.deduplicated:
            print(f"polysync: request id {request_id!r} was submitted before: this is its run", file=sys.stderr)
        if not (wait or logs):
            _show_run(s, run)
            return Exit.DONE
        if not s.json:
            _console().print(f"submitted {run.run_id} ({pipeline})", highlight=False)
        if logs:
            _print_logs(client, s, run.run_id, follow=True)
            run = client.stub.GetPipelineRun(
                pb.GetPipelineRunRequest(platform=s.platform, run_id=run.run_id), timeout=CALL_TIMEOUT
            ).run
            if s.json:
                _print_json(run)
            else:
                _console().print(_render.summary(run), highlight=False)
            return of_run(run)
        return _follow(client, s, run.run_id)


def _show_run(s: Settings, run: pipeline_run_pb2.PipelineRun) -> None:
    if s.json:
        _print_json(run)
    else:
        _render.print_table(_console(), _render.run_fields(run))


# -- get, runs, cancel ----------------------------------------------------------------------


@cli.command()
@click.argument("run_id")
@_command
def get(s: Settings, run_id: str) -> Exit:
    """One run (GetPipelineRun); exit 0 whatever its status."""
    with open_client(s) as client:
        run = client.stub.GetPipelineRun(
            pb.GetPipelineRunRequest(platform=s.platform, run_id=run_id), timeout=CALL_TIMEOUT
        )
    _show_run(s, run.run)
    return Exit.DONE


@cli.command()
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(sorted(STATUSES), case_sensitive=False),
    help="Only runs with this status (repeatable).",
)
@click.option("--queue", default="", help="Job queue (name or ARN); default: the platform's.")
@_command
def runs(s: Settings, statuses: tuple[str, ...], queue: str) -> Exit:
    """The runs of a job queue (ListPipelineRuns); exit 0 whatever their status."""
    with open_client(s) as client:
        found = client.list_runs(
            platform=s.platform,
            job_queue=queue,
            statuses=[STATUSES[status.lower()] for status in statuses],
            timeout=CALL_TIMEOUT,
        )
        if s.json:
            for run in found:
                _print_json(run)
        else:
            _render.print_table(_console(), _render.runs_table(found))
    return Exit.DONE


@cli.command()
@click.argument("run_id")
@click.option("--reason", default="", help='Text after "Cancelled by Polysync" on the job.')
@_command
def cancel(s: Settings, run_id: str, reason: str) -> Exit:
    """Cancel a run (CancelPipelineRun); a finished run is left as it is."""
    with open_client(s) as client:
        response = client.stub.CancelPipelineRun(
            pb.CancelPipelineRunRequest(platform=s.platform, run_id=run_id, reason=reason), timeout=CALL_TIMEOUT
        )
    _show_run(s, response.run)
    if not s.json and not response.run.terminal:
        print(f"polysync: AWS stops the job shortly; `polysync watch {run_id}` shows its end", file=sys.stderr)
    return Exit.DONE


# -- watch ----------------------------------------------------------------------------------


@cli.command()
@click.argument("run_id")
@_command
def watch(s: Settings, run_id: str) -> Exit:
    """Follow a run to its end: a live status line on a terminal, a line per change otherwise.
    Exit 0 SUCCEEDED, 1 FAILED, 3 CANCELLED."""
    with open_client(s) as client:
        return _follow(client, s, run_id)


def _follow(client: PlatformClient, s: Settings, run_id: str) -> Exit:
    """Watches the run to its terminal state with the client's resilient watch (the shared
    reconnect policy), prints it, and returns its exit code."""
    console = _console()
    if s.json or not console.is_terminal:
        run = _follow_plain(client, s, run_id)
    else:
        run = _follow_live(client, s, run_id, console)
    if s.json:
        return of_run(run)  # the terminal state was the last line
    # Why it failed, in words (cause, attempts, advice), on stderr before the final state, so
    # the final state stays the last line, on a terminal as on stdout for scripts.
    print(explain_failure(run), end="", file=sys.stderr, flush=True)
    console.print(_render.summary(run), highlight=False)
    return of_run(run)


def _follow_plain(client: PlatformClient, s: Settings, run_id: str) -> pipeline_run_pb2.PipelineRun:
    def on_reconnect(attempt: int, delay: float, error: BaseException) -> None:
        print(f"polysync: reconnecting ({attempt}) in {delay:.1f} s: {_why(error)}", file=sys.stderr, flush=True)

    run = None
    for event in client.watch_run(run_id, platform=s.platform, on_reconnect=on_reconnect):
        if event.heartbeat:
            continue
        run = event.run
        if s.json:
            _print_json(run)
        elif not run.terminal:  # the terminal state is the summary line
            print(_render.change_line_of_watch(run, event.stale_since is not None), flush=True)
    assert run is not None  # watch_run ends only after a terminal state
    return run


def _follow_live(client: PlatformClient, s: Settings, run_id: str, console: Console) -> pipeline_run_pb2.PipelineRun:
    line = _live.StatusLine(run_id)

    def on_reconnect(attempt: int, delay: float, error: BaseException) -> None:
        line.note = f"reconnecting ({attempt}) in {delay:.1f} s: {_why(error)}"

    with _live.live(console, line):
        for event in client.watch_run(run_id, platform=s.platform, on_reconnect=on_reconnect):
            line.note = ""
            line.stale = event.stale_since is not None
            if not event.heartbeat:
                line.run = event.run
    assert line.run is not None
    return line.run


def _why(error: BaseException) -> str:
    if isinstance(error, grpc.RpcError):
        return f"{error.code().name}: {error.details()}"
    return str(error)


# -- logs -----------------------------------------------------------------------------------


@cli.command()
@click.argument("run_id")
@click.option("-f", "--follow", is_flag=True, help="Keep reading until the run ends and its log is drained.")
@_command
def logs(s: Settings, run_id: str, follow: bool) -> Exit:
    """The run's log lines (StreamPipelineRunLogs), from the start."""
    with open_client(s) as client:
        _print_logs(client, s, run_id, follow=follow)
    return Exit.DONE


def _print_logs(client: PlatformClient, s: Settings, run_id: str, *, follow: bool) -> None:
    for event in client.stream_logs(run_id, platform=s.platform, follow=follow, start_from_head=True):
        if s.json:
            _print_json(event)
        else:
            print(event.message, flush=True)


# -- diagnose -------------------------------------------------------------------------------


@cli.command()
@click.argument("run_id")
@_command
def diagnose(s: Settings, run_id: str) -> Exit:
    """Why a run failed or does not start: failure cause, attempts, history, queue position,
    warnings and advice (SPEC §13); exit 0 whatever the run's status."""
    with open_client(s) as client:
        run = client.stub.GetPipelineRun(
            pb.GetPipelineRunRequest(platform=s.platform, run_id=run_id), timeout=CALL_TIMEOUT
        ).run
    if s.json:
        _print_json(run)
        return Exit.DONE
    console = _console()
    for part in _render.diagnosis(run):
        if isinstance(part, Table):
            _render.print_table(console, part)
        else:
            console.print(part)
    return Exit.DONE


# -- changes --------------------------------------------------------------------------------


@cli.command()
@click.option("--cursor", default="", help="Resume after this cursor; without one: the runs not ended, then changes.")
@click.option(
    "--in-flight",
    "in_flight",
    multiple=True,
    metavar="RUN_ID",
    help="A run you know has not ended (repeatable): if the snapshot does not list it, how it ended is shown.",
)
@click.option(
    "--in-flight-file",
    "in_flight_file",
    type=click.File("r"),
    metavar="PATH",
    help="Runs you know have not ended, one id per line ('-': standard input; blank lines and # comments skipped).",
)
@_command
def changes(s: Settings, cursor: str, in_flight: tuple[str, ...], in_flight_file: TextIO | None) -> Exit:
    """Follow every change of every run of the platform (WatchRunChanges, SPEC §12), one line per
    change, until Ctrl-C (exit 0; the last cursor is printed on stderr)."""
    in_flight += tuple(_run_ids(in_flight_file)) if in_flight_file is not None else ()
    with open_client(s) as client:

        def emit(change: pb.RunChange) -> None:
            if s.json:
                _print_json(change)
            else:
                print(_render.change_line(change.run, change.version, change.time), flush=True)

        def note(text: str) -> None:
            print(f"polysync: {text}", file=sys.stderr, flush=True)

        follower = ChangesFollower(
            client, platform=s.platform, cursor=cursor, emit=emit, note=note, in_flight=list(in_flight)
        )
        try:
            follower.run()
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise
            raise Refused(f"the server at {s.address} does not offer WatchRunChanges (SPEC §12) yet") from None
        except KeyboardInterrupt:
            print(f"polysync: last cursor {follower.cursor or '(none yet)'}", file=sys.stderr, flush=True)
            return Exit.DONE
    return Exit.DONE


def _run_ids(lines: Iterable[str]) -> list[str]:
    """The run ids of a file, one a line: surrounding space, blank lines and `#` comments skipped."""
    stripped = (line.strip() for line in lines)
    return [line for line in stripped if line and not line.startswith("#")]


class ChangesFollower:
    """What `polysync changes` shows of the client's follow_changes (the feed helper: snapshot,
    resume, relist, duplicates dropped): each change through `emit` (a RunChange), what happens
    to the feed through `note`; `cursor` is the resume point of the last event handled."""

    def __init__(
        self,
        client: PlatformClient,
        *,
        platform: str,
        cursor: str,
        emit: Callable[[pb.RunChange], None],
        note: Callable[[str], None],
        in_flight: list[str] | None = None,
    ) -> None:
        self._client = client
        self._in_flight = in_flight or []
        self._platform = platform
        self.cursor = cursor
        self._emit = emit
        self._note = note
        self._stale: datetime | None = None

    def run(self) -> None:
        """Follows until interrupted (the feed has no end); raises what the policy does not retry."""
        feed = self._client.follow_changes(
            platform=self._platform, cursor=self.cursor, in_flight=self._in_flight, on_reconnect=self._reconnect
        )
        try:
            for event in feed:
                self._on_event(event)
                self.cursor = event.cursor
        finally:
            feed.close()

    def _reconnect(self, attempt: int, delay: float, error: BaseException) -> None:
        self._note(f"the feed broke ({error}); resuming from the last cursor in {delay:.1f} s")

    def _on_event(self, event: FeedEvent) -> None:
        if (event.stale_since is None) != (self._stale is None):
            self._stale = event.stale_since
            self._note(
                f"the server cannot refresh the runs' state since {event.stale_since:%Y-%m-%dT%H:%M:%SZ}"
                if event.stale_since is not None
                else "the server refreshes the runs' state again"
            )
        if event.kind == FeedEvent.CHANGE and event.run is not None:
            change = pb.RunChange(run=event.run, version=event.version)
            if event.time is not None:
                change.time.FromDatetime(event.time)
            self._emit(change)
        elif event.kind == FeedEvent.SNAPSHOT_COMPLETE:
            self._note("snapshot complete: following changes")
        elif event.kind == FeedEvent.GONE and event.run is not None:
            self._note(f"run {event.run.run_id} is gone: AWS Batch no longer knows it, how it ended is unknown")
        elif event.kind == FeedEvent.RELIST:
            why = event.error.details() if event.error is not None else "CURSOR_EXPIRED"
            self._note(f"cursor expired ({why}): listing the current runs again")


def main(argv: list[str] | None = None) -> None:
    """The console script `polysync`."""
    cli.main(args=argv, prog_name="polysync")
