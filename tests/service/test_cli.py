"""`polysync-batch serve` as a user runs it: a real process, a real port, SIGTERM to stop."""

import json
import signal
import subprocess
import time
from datetime import datetime

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync.platform.v1 import platform_service_pb2_grpc

from tests.support import EXECUTABLE, start_serve, wait_for_port


def test_serve_without_config_runs_the_demo_and_stops_on_sigterm():
    process = start_serve("--address", "127.0.0.1:0", env={"POLYSYNC_BATCH_CONFIG": ""})
    try:
        port = wait_for_port(process)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = platform_service_pb2_grpc.PlatformServiceStub(channel)
            names = {p.name for p in stub.ListPipelines(pb.ListPipelinesRequest(), timeout=10).pipelines}
            assert {"hello", "greet", "fan-out"} <= names
            health = health_pb2_grpc.HealthStub(channel)
            status = health.Check(health_pb2.HealthCheckRequest(service="platform:demo"), timeout=10).status
            assert status == health_pb2.HealthCheckResponse.SERVING
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert "Traceback" not in "".join(process.lines)


def test_a_bad_config_stops_start_up_with_one_line_naming_the_key(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text(
        'default_platform = "prod"\n[platforms.prod]\nregion = "eu-west-1"\n'
        '[platforms.prod.auth]\nmode = "web_identity"\ntoken_file = "/tmp/t"\n'
    )
    result = subprocess.run([EXECUTABLE, "serve", "--config", str(config)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "platforms.prod.auth.role_arn" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_an_open_address_without_tls_or_caller_auth_stops_start_up_naming_both_keys():
    result = subprocess.run(
        [EXECUTABLE, "serve", "--address", "0.0.0.0:0"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**__import__("os").environ, "POLYSYNC_BATCH_CONFIG": ""},
    )
    assert result.returncode == 2
    assert "server.address" in result.stderr and "server.allow_insecure" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_serve_exits_as_soon_as_it_has_stopped_however_much_it_holds():
    """After 'stopped' the process exits at once: the interpreter's teardown freed the demo's
    emulated jobs one object at a time (5 s after 300 random calls, over 20 s under load)."""
    process = start_serve("--address", "127.0.0.1:0", env={"POLYSYNC_BATCH_CONFIG": ""})
    try:
        port = wait_for_port(process)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = platform_service_pb2_grpc.PlatformServiceStub(channel)
            for _ in range(3):
                stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello", array_size=3000), timeout=60)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        exited = time.time()
    finally:
        if process.poll() is None:
            process.kill()
    process.reader.join(5)
    stopped = next(json.loads(line) for line in process.lines if '"event": "server_stopped"' in line)
    after_stop = exited - datetime.fromisoformat(stopped["time"]).timestamp()
    print(f"exited {after_stop:.2f} s after logging 'stopped'")
    assert after_stop < 1.0, f"exited {after_stop:.2f} s after logging 'stopped'"
