"""`polysync`, the command line of SPEC §14, as people and scripts use it: the installed command
run as a subprocess against a live server (tests/live_stack.py: the emulator and the gRPC
server on 127.0.0.1:0), plaintext and over TLS with a token or a client certificate, off a
terminal and on a pseudo-terminal. Every exit code of §14 is produced for real."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import types
import uuid
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import json_format
from google.rpc import error_details_pb2, status_pb2
from polysync.platform.v1 import pipeline_pb2
from polysync.platform.v1 import pipeline_run_pb2 as runs_pb
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync_platform_client import reasons
from polysync_platform_client.cli._app import ChangesFollower
from polysync_platform_client.client import PlatformClient
from polysync_platform_client.policy import ReconnectPolicy

from tests.clients.test_cli_support import (
    POLYSYNC,
    ROOT,
    clean_env,
    live_stack,
    one_run_server,
    polysync,
    polysync_on_a_tty,
)

SPINNER = set("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")  # rich's "dots"


@pytest.fixture(scope="module")
def stack():
    with live_stack() as running:
        yield running


@pytest.fixture
def env(stack):
    return clean_env(POLYSYNC_ADDRESS=stack.address)


def run_of(line: str) -> runs_pb.PipelineRun:
    return json_format.Parse(line, runs_pb.PipelineRun())


def get_run(env, run_id: str) -> runs_pb.PipelineRun:
    result = polysync("get", run_id, "-o", "json", env=env)
    assert result.returncode == 0, result.stderr
    return run_of(result.stdout)


def submit(env, *args: str) -> runs_pb.PipelineRun:
    result = polysync("submit", *args, "--output", "json", env=env)
    assert result.returncode == 0, result.stderr
    return run_of(result.stdout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- exit codes ----------------------------------------------------------------------------


def test_submit_wait_prints_each_change_and_exits_0_on_success(env):
    result = polysync("submit", "greet", "-p", "name=Ada", "--wait", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    run_id = re.match(r"submitted (\S+) \(greet\)", lines[0]).group(1)
    # off a terminal: one plain line per change, then the final state
    assert any(line.split()[:2] == [run_id, "RUNNING"] for line in lines[1:-1]), lines
    assert lines[-1].startswith(f"{run_id}  SUCCEEDED  (SUCCEEDED)"), lines
    assert "\x1b[" not in result.stdout  # no escape sequences in a pipe
    run = get_run(env, run_id)  # what the service holds afterwards
    assert run.status == runs_pb.RUN_STATUS_SUCCEEDED and dict(run.parameters)["name"] == "Ada"


def test_a_failed_run_exits_1_and_get_and_diagnose_exit_0(env):
    result = polysync("submit", "hello", "-p", "exit_code=3", "--wait", env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED" in result.stdout.splitlines()[-1] and "exit code 3" in result.stdout
    # and why, in words (the client's explain_failure), on stderr
    assert "failed: APPLICATION after 1 attempt" in result.stderr and "exit code 3" in result.stderr, result.stderr
    run_id = result.stdout.split()[1]
    assert get_run(env, run_id).exit_code == 3
    for command in ("get", "diagnose"):
        read = polysync(command, run_id, env=env)
        assert read.returncode == 0, read.stderr
    diagnosis = polysync("diagnose", run_id, env=env).stdout
    assert "failure cause" in diagnosis and "attempts" in diagnosis and "history" in diagnosis
    assert "Essential container in task exited" in diagnosis


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("get",), "Missing argument 'RUN_ID'"),
        (("submit", "greet", "-p", "name"), "'name' is not NAME=VALUE"),
        (("runs", "--status", "done"), "'done' is not one of"),
        (("pipelines", "--output", "yaml"), "'yaml' is not one of"),
        (("--ca-file", "/nonexistent/ca.pem", "pipelines"), "does not exist"),
        (("frobnicate",), "No such command 'frobnicate'"),
    ],
)
def test_bad_usage_exits_2_and_says_what_is_wrong(env, args, says):
    result = polysync(*args, env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert says in result.stderr and "Usage: polysync" in result.stderr


def test_a_certificate_without_its_key_is_bad_usage(env, tmp_path):
    cert = tmp_path / "client.crt"
    cert.write_text("not used")
    result = polysync("pipelines", "--cert", str(cert), env=env)
    assert result.returncode == 2 and "--cert and --key" in result.stderr


def test_a_cancelled_run_exits_3_when_watched(env):
    run = submit(env, "hello", "-p", "duration_seconds=600")
    cancelled = polysync("cancel", run.run_id, "--reason", "not needed", env=env)
    assert cancelled.returncode == 0, cancelled.stderr
    watched = polysync("watch", run.run_id, env=env, timeout=60)
    assert watched.returncode == 3, watched.stdout + watched.stderr
    assert "CANCELLED" in watched.stdout.splitlines()[-1]
    after = get_run(env, run.run_id)
    assert after.status == runs_pb.RUN_STATUS_CANCELLED
    assert "Cancelled by Polysync" in after.status_reason and "not needed" in after.status_reason


def test_a_refused_submit_exits_4_with_the_reason_and_field_and_submits_nothing(env):
    before = polysync("runs", "-o", "json", env=env).stdout.splitlines()
    result = polysync("submit", "greet", env=env)
    assert result.returncode == 4, result.stdout + result.stderr
    assert result.stdout == ""
    assert "INVALID_ARGUMENT MISSING_PARAMETERS" in result.stderr
    assert "field parameters[name]" in result.stderr and "hint:" in result.stderr
    assert polysync("runs", "-o", "json", env=env).stdout.splitlines() == before  # nothing submitted


def test_an_unknown_run_exits_4_with_its_reason(env):
    result = polysync("get", str(uuid.uuid4()), env=env)
    assert result.returncode == 4 and reasons.RUN_NOT_FOUND in result.stderr, result.stderr


def test_nothing_listening_exits_5():
    address = f"127.0.0.1:{free_port()}"
    for args in (("pipelines",), ("submit", "greet", "-p", "name=Ada", "--wait"), ("get", "r1")):
        result = polysync(*args, "--address", address, timeout=30)
        assert result.returncode == 5, result.stdout + result.stderr
        assert f"cannot reach the service at {address}" in result.stderr
        assert "Traceback" not in result.stderr


# -- output --------------------------------------------------------------------------------


def test_json_output_is_one_proto_json_object_per_line(env):
    pipelines = polysync("pipelines", "-o", "json", env=env)
    assert pipelines.returncode == 0
    parsed = [json_format.Parse(line, pipeline_pb2.Pipeline()) for line in pipelines.stdout.splitlines()]
    assert {p.name for p in parsed} >= {"hello", "greet", "fan-out"}
    assert [list(p.required_parameters) for p in parsed if p.name == "greet"] == [["name"]]

    watched = polysync("submit", "greet", "-p", "name=Ada", "--wait", "--output", "json", env=env)
    assert watched.returncode == 0, watched.stderr
    states = [run_of(line) for line in watched.stdout.splitlines()]
    assert states[-1].terminal and states[-1].status == runs_pb.RUN_STATUS_SUCCEEDED
    assert json.loads(watched.stdout.splitlines()[-1])["status"] == "RUN_STATUS_SUCCEEDED"  # proto field names

    listed = polysync("runs", "--status", "succeeded", "-o", "json", env=env)
    runs = [run_of(line) for line in listed.stdout.splitlines()]
    assert states[-1].run_id in {r.run_id for r in runs}
    assert all(r.status == runs_pb.RUN_STATUS_SUCCEEDED for r in runs)

    logs = polysync("logs", states[-1].run_id, "-o", "json", env=env)
    assert "Hello Ada" in [json_format.Parse(line, pb.LogEvent()).message for line in logs.stdout.splitlines()]


def test_tables_for_people(env):
    table = polysync("pipelines", env=env).stdout.splitlines()
    assert table[0].split() == ["NAME", "REVISION", "REQUIRED", "PARAMETERS", "TYPE", "IMAGE"]
    assert [row.split()[:3] for row in table if row.startswith("greet")] == [["greet", "1", "name"]]
    assert all(line == line.rstrip() for line in table)


def test_logs_follow_reads_the_run_to_its_end(env):
    run = submit(env, "greet", "-p", "name=Grace", "-p", "greeting=Hi")
    result = polysync("logs", run.run_id, "-f", env=env)
    assert result.returncode == 0, result.stderr
    assert "Hi Grace" in result.stdout.splitlines()
    assert get_run(env, run.run_id).terminal  # -f ended because the run ended


def test_submit_logs_follows_the_log_and_exits_with_the_run(env):
    result = polysync("submit", "hello", "-p", "exit_code=2", "--logs", env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED" in result.stdout.splitlines()[-1]


# -- global options ------------------------------------------------------------------------


def test_global_options_stand_before_or_after_the_subcommand_or_come_from_the_environment(stack):
    good, bad = stack.address, f"127.0.0.1:{free_port()}"
    assert polysync("--address", good, "pipelines").returncode == 0
    assert polysync("pipelines", "--address", good).returncode == 0
    assert polysync("pipelines", env=clean_env(POLYSYNC_ADDRESS=good)).returncode == 0
    # the command line wins over the environment, and after the subcommand over before it
    assert polysync("pipelines", "--address", good, env=clean_env(POLYSYNC_ADDRESS=bad)).returncode == 0
    assert polysync("--address", bad, "pipelines", "--address", good).returncode == 0
    assert polysync("--address", good, "pipelines", "--address", bad).returncode == 5
    assert polysync("pipelines", env=clean_env(POLYSYNC_ADDRESS=bad)).returncode == 5
    # --output and --platform, before and after
    after = polysync("--address", good, "pipelines", "--output", "json")
    before = polysync("--output", "json", "--address", good, "pipelines")
    assert after.stdout == before.stdout and after.stdout.startswith("{")
    unknown = polysync("runs", "--platform", "nowhere", "--address", good)
    assert unknown.returncode == 4 and reasons.PLATFORM_NOT_FOUND in unknown.stderr
    from_env = polysync("runs", env=clean_env(POLYSYNC_ADDRESS=good, POLYSYNC_PLATFORM="nowhere"))
    assert from_env.returncode == 4 and reasons.PLATFORM_NOT_FOUND in from_env.stderr
    assert (
        polysync("runs", "--platform", "demo", env=clean_env(POLYSYNC_ADDRESS=good, POLYSYNC_PLATFORM="x")).returncode
        == 0
    )


def test_tls_and_a_token_from_options_or_the_environment():
    token = "cli-test-token"
    with live_stack("--tls", "--token", token) as secure:
        ca = secure.info["tls-ca"]
        ok = polysync("pipelines", "--ca-file", ca, "--token", token, "--address", secure.address)
        assert ok.returncode == 0 and "greet" in ok.stdout, ok.stderr
        env = clean_env(POLYSYNC_ADDRESS=secure.address, POLYSYNC_CA_FILE=ca, POLYSYNC_TOKEN=token)
        result = polysync("submit", "greet", "-p", "name=Ada", "--wait", env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        # no token: the service answers and refuses (4) with its reason
        anonymous = polysync("pipelines", "--ca-file", ca, "--address", secure.address)
        assert anonymous.returncode == 4 and reasons.CALLER_UNAUTHENTICATED in anonymous.stderr
        wrong = polysync("pipelines", "--ca-file", ca, "--address", secure.address, "--token", "nope")
        assert wrong.returncode == 4 and reasons.CALLER_UNAUTHENTICATED in wrong.stderr
        # plaintext to a TLS port: never reached (5)
        plaintext = polysync("pipelines", "--token", token, "--address", secure.address, timeout=30)
        assert plaintext.returncode == 5, plaintext.stderr


def test_mutual_tls_with_a_client_certificate():
    with live_stack("--mtls") as secure:
        ca, cert, key = (secure.info[k] for k in ("tls-ca", "tls-client-cert", "tls-client-key"))
        env = clean_env(
            POLYSYNC_ADDRESS=secure.address, POLYSYNC_CA_FILE=ca, POLYSYNC_CLIENT_CERT=cert, POLYSYNC_CLIENT_KEY=key
        )
        assert polysync("submit", "hello", "--wait", env=env).returncode == 0
        both = polysync("runs", "--ca-file", ca, "--cert", cert, "--key", key, "--address", secure.address)
        assert both.returncode == 0 and "hello" in both.stdout
        without = polysync("runs", "--ca-file", ca, "--address", secure.address, timeout=30)
        assert without.returncode in (4, 5) and "Traceback" not in without.stderr


# -- a terminal ----------------------------------------------------------------------------


def test_on_a_terminal_watch_shows_a_live_status_line_then_the_final_state(env):
    run = submit(env, "hello", "-p", "duration_seconds=2")
    result = polysync_on_a_tty("watch", run.run_id, env=env)
    assert result.returncode == 0, result.raw
    assert SPINNER & set(result.raw), result.raw  # the spinner turned
    assert "\x1b[2K" in result.raw  # the line was redrawn in place
    live = [line for line in result.text.splitlines() if line.strip().startswith(tuple(SPINNER))]
    assert any(re.search(rf"{run.run_id}\s+0:0\d\s+RUNNING", line) for line in live), live
    final = [line for line in result.text.splitlines() if line.strip()][-1]
    assert final.startswith(f"{run.run_id}  SUCCEEDED  (SUCCEEDED)"), result.text


def test_on_a_terminal_submit_wait_and_a_failed_run(env):
    result = polysync_on_a_tty("submit", "hello", "-p", "exit_code=4", "--wait", env=env)
    assert result.returncode == 1, result.raw
    assert SPINNER & set(result.raw)
    assert "exit code 4" in [line for line in result.text.splitlines() if line.strip()][-1]


def test_on_a_terminal_logs_follow(env):
    run = submit(env, "greet", "-p", "name=Tty")
    result = polysync_on_a_tty("logs", "-f", run.run_id, env=env)
    assert result.returncode == 0 and "Hello Tty" in result.text, result.raw


# -- diagnose (SPEC §13) -------------------------------------------------------------------


def _ts(seconds: int) -> Any:
    from google.protobuf import timestamp_pb2

    return timestamp_pb2.Timestamp(seconds=seconds)


def test_diagnose_renders_every_section_of_a_failed_run():
    run = runs_pb.PipelineRun(
        run_id="r-oom",
        pipeline="train",
        native_status="FAILED",
        status=runs_pb.RUN_STATUS_FAILED,
        status_reason="OutOfMemoryError: Container killed due to memory usage",
        failure_cause=runs_pb.FAILURE_CAUSE_OUT_OF_MEMORY,
        warnings=["Give the job more memory (memory_mib) or use less."],
        attempt_details=[
            runs_pb.RunAttempt(
                index=0,
                start_time=_ts(1_800_000_000),
                stop_time=_ts(1_800_000_060),
                status_reason="Host EC2 (instance i-0abc) terminated.",
                failure_cause=runs_pb.FAILURE_CAUSE_HOST_TERMINATED,
                log_stream_name="train/default/a0",
            ),
            runs_pb.RunAttempt(
                index=1,
                exit_code=137,
                container_reason="OutOfMemoryError: Container killed due to memory usage",
                failure_cause=runs_pb.FAILURE_CAUSE_OUT_OF_MEMORY,
                log_stream_name="train/default/a1",
            ),
        ],
        history=[
            runs_pb.StatusChange(
                native_status="RUNNABLE", status_reason="waiting for capacity", time=_ts(1_799_999_990)
            ),
            runs_pb.StatusChange(native_status="FAILED", time=_ts(1_800_000_200)),
        ],
    )
    with one_run_server(run) as address:
        result = polysync("diagnose", "r-oom", "--address", address)
        as_json = polysync("diagnose", "r-oom", "--address", address, "-o", "json")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert re.search(r"failure cause\s+OUT_OF_MEMORY", text)
    assert re.search(r"^0\s+2027-01-15 08:00:00Z\s+2027-01-15 08:01:00Z\s+-\s+HOST_TERMINATED\s+Host EC2", text, re.M)
    assert re.search(r"^1\s+-\s+-\s+137\s+OUT_OF_MEMORY\s+-\s+OutOfMemoryError", text, re.M)
    assert "train/default/a0" in text and "train/default/a1" in text
    assert re.search(r"RUNNABLE\s+waiting for capacity", text)
    assert "- Give the job more memory" in text
    assert re.search(r"queue position\s+not waiting in the queue \(FAILED\)", text)
    assert "none recorded" not in text
    assert as_json.returncode == 0 and run_of(as_json.stdout) == run


def test_diagnose_of_a_queued_run_shows_its_position_and_what_is_not_recorded():
    run = runs_pb.PipelineRun(run_id="r-q", native_status="RUNNABLE", status=runs_pb.RUN_STATUS_RUNNING, attempts=0)
    run.queue_position.position = 3
    run.queue_position.earliest_time_at_position.CopyFrom(_ts(1_800_000_000))
    with one_run_server(run) as address:
        result = polysync("diagnose", "r-q", "--address", address)
    assert result.returncode == 0, result.stderr
    assert re.search(r"queue position\s+3 \(since 2027-01-15 08:00:00Z\)", result.stdout)
    assert re.search(r"failure cause\s+none: the run has not failed \(RUNNING\)", result.stdout)
    assert re.search(r"attempts\n\s+none recorded", result.stdout)
    assert re.search(r"history\n\s+none recorded", result.stdout)
    run.queue_position.ClearField("position")
    with one_run_server(run) as address:
        result = polysync("diagnose", "r-q", "--address", address)
    assert re.search(r"queue position\s+none recorded", result.stdout)


# -- changes (SPEC §12) --------------------------------------------------------------------


def test_changes_follows_the_feed_or_says_the_contract_lacks_it(env):
    if not hasattr(pb, "WatchRunChangesRequest"):
        result = polysync("changes", env=env)
        assert result.returncode == 4
        assert "this server's contract has no WatchRunChanges (SPEC §12) yet" in result.stderr
        return
    # The contract has the feed: follow it, see a new run's changes, stop with Ctrl-C.
    process = subprocess.Popen(
        [POLYSYNC, "changes", "-o", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        time.sleep(2)
        run = submit(env, "hello")
        seen: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            seen.append(line)
            if run.run_id in line and '"SUCCEEDED"' in line:
                break
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert re.search(r"last cursor \S+", stderr), stderr
    assert any(run.run_id in line for line in seen)


class _RpcError(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode, reason: str = "") -> None:
        self._code = code
        status = status_pb2.Status(code=code.value[0], message=code.name)
        if reason:
            status.details.add().Pack(error_details_pb2.ErrorInfo(reason=reason, domain="polysync.platform"))
        self._trailing = (("grpc-status-details-bin", status.SerializeToString()),)

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._code.name

    def trailing_metadata(self) -> Any:
        return self._trailing


class _Call:
    def __init__(self, steps: list[Any]) -> None:
        self._steps = steps
        self.cancelled = False

    def __iter__(self):
        for step in self._steps:
            if isinstance(step, BaseException):
                raise step
            yield step

    def cancel(self) -> None:
        self.cancelled = True


def _change(run_id: str, version: int) -> Any:
    return pb.RunChange(run=runs_pb.PipelineRun(run_id=run_id), version=version, time=_ts(0))


def _message(*changes: Any, cursor: str, snapshot_complete: bool = False, stale: bool = False) -> Any:
    message = pb.WatchRunChangesResponse(changes=list(changes), cursor=cursor, snapshot_complete=snapshot_complete)
    if stale:
        message.stale_since.CopyFrom(_ts(1_800_000_000))
    return message


def _feed_client(method: Any, read: Any = None, **settings: Any) -> PlatformClient:
    """A PlatformClient whose WatchRunChanges is `method` (request → call) and whose
    BatchGetPipelineRuns is `read` (request → answer): the CLI follows the feed through the
    client's follow_changes, so that is where a scripted feed goes in."""
    client = PlatformClient(grpc.insecure_channel("127.0.0.1:9"), **settings)  # never connected
    client.stub = types.SimpleNamespace(
        WatchRunChanges=lambda request, **_: method(request), BatchGetPipelineRuns=lambda request, **_: read(request)
    )
    return client


def test_the_changes_follower_resumes_relists_and_drops_what_it_has_shown():
    """`polysync changes`' follower (the client's follow_changes) against a scripted feed: a
    snapshot first, a resume from the last cursor after UNAVAILABLE, a relist on CURSOR_EXPIRED,
    each (run, version) shown once, and the last cursor kept for Ctrl-C."""
    calls = [
        _Call(
            [
                _message(_change("r1", 1), _change("r2", 1), cursor="c1", snapshot_complete=True),
                _RpcError(grpc.StatusCode.UNAVAILABLE),
            ]
        ),
        _Call(
            [
                _message(_change("r1", 1), _change("r1", 2), cursor="c2", stale=True),
                _RpcError(grpc.StatusCode.FAILED_PRECONDITION, reasons.CURSOR_EXPIRED),
            ]
        ),
        # After a relist the versions seen are forgotten (clients/feed-policy.json: a new server
        # process numbers them anew); r1 and r2, which the new snapshot does not list, are read.
        _Call([_message(_change("r3", 1), cursor="c3", snapshot_complete=True), KeyboardInterrupt()]),
    ]
    reads: list[list[str]] = []

    def read(request: Any) -> Any:
        reads.append(list(request.run_ids))
        ended = runs_pb.PipelineRun(run_id="r1", native_status="SUCCEEDED", terminal=True)
        return pb.BatchGetPipelineRunsResponse(runs=[ended], missing_run_ids=["r2"])

    requests: list[dict[str, Any]] = []
    opened = iter(calls)

    def method(request: Any) -> _Call:
        requests.append({"platform": request.platform, "cursor": request.cursor, "snapshot": request.snapshot})
        return next(opened)

    shown: list[tuple[str, int]] = []
    notes: list[str] = []
    sleeps: list[float] = []
    follower = ChangesFollower(
        _feed_client(method, read, policy=ReconnectPolicy(jitter=0), sleep=sleeps.append),
        platform="demo",
        cursor="",
        emit=lambda change: shown.append((change.run.run_id, change.version)),
        note=notes.append,
    )
    with pytest.raises(KeyboardInterrupt):
        follower.run()
    assert requests == [
        {"platform": "demo", "cursor": "", "snapshot": True},
        {"platform": "demo", "cursor": "c1", "snapshot": False},
        {"platform": "demo", "cursor": "", "snapshot": True},
    ]
    assert shown == [("r1", 1), ("r2", 1), ("r1", 2), ("r3", 1), ("r1", 0)]
    assert reads == [["r1", "r2"]]
    assert any("run r2 is gone" in note for note in notes)
    assert follower.cursor == "c3" and sleeps == [0.5]
    assert all(call.cancelled for call in calls)
    assert any("cursor expired" in note for note in notes) and any("snapshot complete" in note for note in notes)
    assert "the server cannot refresh the runs' state since 2027-01-15T08:00:00Z" in notes
    assert "the server refreshes the runs' state again" in notes

    refused = ChangesFollower(
        _feed_client(
            lambda request: _Call([_RpcError(grpc.StatusCode.PERMISSION_DENIED, reasons.CALLER_NOT_ALLOWED)]),
            sleep=sleeps.append,
        ),
        platform="",
        cursor="x",
        emit=shown.append,
        note=notes.append,
    )
    with pytest.raises(grpc.RpcError):
        refused.run()


def test_the_readme_first_screen_runs_as_written(stack):
    """The root README's polysync block (all but its `pip install`, which the venv has done)
    against the live stack: its address is the only change."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```sh\n(pip install \./clients/python.*?)```", readme, re.S).group(1)
    lines = [line for line in block.splitlines() if not line.startswith("pip install")]
    script = "\n".join(lines).replace("127.0.0.1:50051", stack.address)
    if not shutil.which("grpcurl"):  # make test-python puts .tools/go-bin on PATH; a bare pytest may not
        script = script.split("# the same submit with grpcurl")[0]
    env = clean_env(POLYSYNC_ADDRESS=stack.address, PATH=f"{Path(POLYSYNC).parent}:{os.environ['PATH']}")
    result = subprocess.run(["bash", "-ec", script], capture_output=True, text=True, timeout=120, env=env)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert re.search(r"^greet\s+1\s+name", out, re.M)
    assert re.search(r"SUCCEEDED  \(SUCCEEDED\)  Succeeded \(exit code 0\)", out)
    assert "exit 1" in out and "(exit code 3)" in out
    if "grpcurl" in script:
        assert '"native_status": "SUBMITTED"' in out or '"nativeStatus"' in out


def test_ctrl_c_ends_a_watch_at_once_with_130_and_a_closed_pipe_is_no_traceback(env):
    run = submit(env, "hello", "-p", "duration_seconds=600")
    process = subprocess.Popen(
        [POLYSYNC, "watch", run.run_id], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        assert run.run_id in process.stdout.readline()  # watching
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=20)
        assert process.returncode == 130 and "interrupted" in stderr and "Traceback" not in stderr
        assert time.monotonic() - started < 5
    finally:
        process.kill()
        polysync("cancel", run.run_id, env=env)
    piped = subprocess.run(
        ["bash", "-c", f"{POLYSYNC} runs -o json | head -c 1"], capture_output=True, text=True, env=env, timeout=60
    )
    assert piped.stdout == "{" and "Traceback" not in piped.stderr, piped.stderr


def test_watch_follows_a_run_across_a_server_restart(stack, env):
    """`watch` reconnects with the shared policy: the server restarts under it (its streams end
    UNAVAILABLE), the watch says so on stderr, resumes, and still ends with the run's state."""
    run = submit(env, "hello", "-p", "duration_seconds=4")
    process = subprocess.Popen(
        [POLYSYNC, "watch", run.run_id], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        assert run.run_id in process.stdout.readline()  # watching
        stack.process.stdin.write("restart\n")
        stack.process.stdin.flush()
        assert stack.process.stdout.readline().startswith("ready ")  # serving again on the same port
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, out + err
    assert "polysync: reconnecting (1)" in err and "UNAVAILABLE" in err
    assert out.splitlines()[-1].startswith(f"{run.run_id}  SUCCEEDED")


def test_changes_reads_the_runs_in_flight_from_a_file_or_standard_input(env, tmp_path):
    """`--in-flight-file PATH` (`-`: standard input): a restarted caller hands over the runs it
    had in flight as a list, one id a line; a run that ended meanwhile is shown with how it
    ended, an id AWS does not know as gone."""
    run = submit(env, "hello")
    assert polysync("watch", run.run_id, env=env).returncode == 0  # it ends before the feed opens
    unknown = "00000000-0000-4000-8000-000000000000"
    listing = f"# in flight before the restart\n\n  {run.run_id}  \n{unknown}\n"
    (tmp_path / "in-flight.txt").write_text(listing)
    for source in (str(tmp_path / "in-flight.txt"), "-"):
        process = subprocess.Popen(
            [POLYSYNC, "changes", "--in-flight-file", source],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        try:
            process.stdin.write(listing if source == "-" else "")
            process.stdin.close()
            process.stdin = None  # written: communicate() has nothing more to send
            line, deadline = "", time.monotonic() + 30
            while run.run_id not in line and time.monotonic() < deadline:
                line = process.stdout.readline()
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=10)
        finally:
            process.kill()
        assert line.startswith(f"-  {run.run_id}  v0  hello  SUCCEEDED  SUCCEEDED"), (source, line, stderr)
        assert f"run {unknown} is gone" in stderr and process.returncode == 0, stderr
    missing = polysync("changes", "--in-flight-file", str(tmp_path / "nowhere.txt"), env=env)
    assert missing.returncode == 2 and "nowhere.txt" in missing.stderr and "Traceback" not in missing.stderr


def test_changes_in_flight_shows_how_runs_the_snapshot_does_not_list_ended():
    """`polysync changes --in-flight RUN_ID`: after a restart, the runs the caller had in flight
    are read at the snapshot's end (the client's follow_changes(in_flight=...))."""
    reads: list[list[str]] = []

    def read(request: Any) -> Any:
        reads.append(list(request.run_ids))
        ended = runs_pb.PipelineRun(run_id="r7", native_status="FAILED", terminal=True)
        return pb.BatchGetPipelineRunsResponse(runs=[ended], missing_run_ids=["r9"])

    calls = iter([_Call([_message(_change("r8", 1), cursor="c1", snapshot_complete=True), KeyboardInterrupt()])])
    shown: list[tuple[str, int]] = []
    notes: list[str] = []
    follower = ChangesFollower(
        _feed_client(lambda request: next(calls), read),
        platform="demo",
        cursor="",
        emit=lambda change: shown.append((change.run.run_id, change.version)),
        note=notes.append,
        in_flight=["r7", "r8", "r9"],
    )
    with pytest.raises(KeyboardInterrupt):
        follower.run()
    assert reads == [["r7", "r9"]]
    assert shown == [("r8", 1), ("r7", 0)]
    assert any("run r9 is gone" in note for note in notes)
