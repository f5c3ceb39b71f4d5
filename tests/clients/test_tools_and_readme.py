"""Real third-party tools against the real server (grpcurl runs the README walkthrough,
grpc-health-probe checks health), and the README's per-language examples are the tested files."""

import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from tests.support import EXECUTABLE, serving_demo

ROOT = Path(__file__).parents[2]
README = (ROOT / "README.md").read_text()
EXAMPLES = [
    "clients/python/examples/quickstart.py",
    "clients/go/example/main.go",
    "clients/typescript/examples/quickstart.ts",
    "clients/java/src/test/java/io/polysync/platform/client/examples/Quickstart.java",
    "clients/csharp/examples/Quickstart/Quickstart.cs",
]


def tool(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} is not on PATH: `make tools` installs it into .tools/go-bin (make test does)"
    return found


@pytest.fixture(scope="module")
def demo_server():
    with serving_demo() as target:
        yield target


def test_readme_grpcurl_walkthrough_runs_as_written(demo_server):
    tool("grpcurl")
    block = re.search(r"## Try it with grpcurl.*?```sh\n(.*?)```", README, re.S).group(1)
    script = block.replace("127.0.0.1:50051", demo_server)  # the only change: a free port
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=180, env=os.environ)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "polysync.platform.v1.PlatformService" in out  # list
    assert "message ExecutePipelineRequest" in out  # describe
    assert '"caller_arn"' in out and '"ok": true' in out  # TestConnection
    assert '"required_parameters"' in out  # ListPipelines
    assert "MISSING_PARAMETERS" in out  # the refused submit
    assert "Hello Ada" in out  # StreamPipelineRunLogs
    assert out.count('"RUN_STATUS_SUCCEEDED"') >= 2  # the watch ended, and the listing found it
    assert '"RUN_STATUS_CANCELLED"' in out and "Cancelled by Polysync: no longer needed" in out
    assert '"exit_code": 3' in out or '"native_status": "SUBMITTED"' in out  # the failing submit
    assert '"status": "SERVING"' in out
    assert '"snapshot_complete": true' in out and '"cursor": "' in out  # WatchRunChanges, snapshot
    assert out.count('"version": "') >= 6  # the resumed feed: the new run's changes after the cursor


@pytest.mark.timeout(240)
def test_readme_tls_and_token_walkthrough_runs_as_written(tmp_path):
    tool("grpcurl")
    block = re.search(r"### With TLS and a token.*?```sh\n(.*?)```", README, re.S).group(1)
    with socket.socket() as probe:  # a free port instead of 50052
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    script = block.replace("127.0.0.1:50052", f"127.0.0.1:{port}").replace(".venv/bin/polysync-batch", EXECUTABLE)
    result = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
        env={**os.environ, "POLYSYNC_BATCH_CONFIG": ""},
    )
    out = result.stdout + result.stderr
    assert '"status": "SERVING"' in out, out  # health, no token
    assert "polysync.platform.v1.PlatformService" in out  # list, with the token
    assert '"native_status": "SUBMITTED"' in out  # the submit
    assert "code = Unauthenticated" in out and "caller not authenticated: no credentials" in out  # no token
    assert 'Failed to dial target host "127.0.0.1:' in out  # plaintext against the TLS port


def test_grpc_health_probe(demo_server):
    probe = tool("grpc-health-probe")
    for service in ("", "polysync.platform.v1.PlatformService", "platform:demo"):
        result = subprocess.run(
            [probe, f"-addr={demo_server}", f"-service={service}"], capture_output=True, text=True, timeout=30
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "SERVING" in result.stdout + result.stderr
    unknown = subprocess.run(
        [probe, f"-addr={demo_server}", "-service=platform:nope"], capture_output=True, text=True, timeout=30
    )
    assert unknown.returncode != 0


@pytest.mark.parametrize("path", EXAMPLES)
def test_readme_shows_each_tested_example_verbatim(path):
    assert (ROOT / path).read_text().strip() in README, f"README's example differs from {path}"
