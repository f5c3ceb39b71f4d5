"""A live server for client tests in any language: the embedded emulator plus the gRPC server,
driven over stdin/stdout so a Go, TypeScript or Java test can restart the server mid-watch.

    .venv/bin/python -m tests.live_stack   # prints "ready <port>" once serving
    stdin "restart" → the server stops (watch streams end UNAVAILABLE) and serves again on the
                      same port, with the same emulator (jobs survive); prints "ready <port>"
    stdin "quit" or EOF → stops and exits 0

Without options it is plaintext with no caller auth. Options (SPEC §8.1/§8.2):

    --tls                 TLS: a CA and a server certificate for 127.0.0.1 are made in a temp
                          dir; before "ready" it prints "tls-ca <path>" (trust this CA),
                          "tls-client-cert <path>" and "tls-client-key <path>" (CN "cert-client")
    --mtls                --tls plus client_ca_file: a client certificate is required; its CN
                          names the caller
    --token TOKEN         the static bearer token of caller "client" (may submit on demo)
    --reader-token TOKEN  the static bearer token of caller "reader" (may only read on demo, so
                          its ExecutePipeline is PERMISSION_DENIED CALLER_NOT_ALLOWED)
    --jwt                 JWT callers: an RSA signing key is made; before "ready" it prints
                          "jwt-key <path>" (PEM private key; sign RS256 with header kid "live"),
                          "jwt-issuer <iss>" and "jwt-audience <aud>". The caller is the `sub`
                          claim ("jwt-client" may submit on demo); `exp` is required and no
                          clock skew is allowed, so a watch ends UNAUTHENTICATED exactly at `exp`

    --history             the demo platform's feed history (SPEC §12) in the emulator's own
                          DynamoDB table, as `serve` runs the demo: feed cursors stay valid
                          across a restart (without it the history is in the server's process,
                          and a restart makes every cursor CURSOR_EXPIRED)
    --server-process      `polysync-batch serve` runs in a child process of its own (plaintext, no
                          caller auth), configured as an operator would; before each "ready" it
                          prints "server-pid <pid>"; "restart" KILLS it (SIGKILL: no graceful stop,
                          no goodbye on open streams) and starts another on the same port, while
                          the emulator (its jobs, its history table) lives on here; "jobs" prints
                          "jobs <JSON object: job id → status>" of every job of the demo queue

With any of these options the server's log lines (one per RPC, naming the caller) go to
stderr. With a token, --jwt or --mtls, calls need a caller (UNAUTHENTICATED CALLER_UNAUTHENTICATED otherwise),
and "cert-client" may submit like "client".

Jobs take about 1.5 s; pass the demo parameter duration_seconds for longer ones.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
import tempfile
from pathlib import Path

from polysync_batch.api.server import build_server
from polysync_batch.bootstrap import demo_platforms
from polysync_batch.config import (
    AccessConfig,
    CallerAuthConfig,
    CallerTokenConfig,
    JwtConfig,
    ServerConfig,
    TlsConfig,
    WatchConfig,
)
from polysync_batch.emulator import Lifecycle, start_emulator

LIFECYCLE = Lifecycle(submitted=0.1, pending=0.1, runnable=0.2, starting=0.2, running=1.0)
WATCH = WatchConfig(poll_interval_seconds=0.2, max_poll_interval_seconds=0.5, heartbeat_seconds=5)
CERT_CLIENT = "cert-client"


def _options(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.live_stack")
    parser.add_argument("--tls", action="store_true")
    parser.add_argument("--mtls", action="store_true")
    parser.add_argument("--token")
    parser.add_argument("--reader-token")
    parser.add_argument("--jwt", action="store_true")
    parser.add_argument("--history", action="store_true")
    parser.add_argument("--server-process", action="store_true")
    return parser.parse_args(argv)


def _write_certificates(directory: Path) -> None:
    import trustme  # a dev dependency: only client tests with TLS need it

    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    client = ca.issue_cert(f"{CERT_CLIENT}.clients.test", common_name=CERT_CLIENT)
    ca.cert_pem.write_to_path(str(directory / "ca.crt"))
    (directory / "server.crt").write_bytes(b"".join(pem.bytes() for pem in server.cert_chain_pems))
    server.private_key_pem.write_to_path(str(directory / "server.key"))
    client.cert_chain_pems[0].write_to_path(str(directory / "client.crt"))
    client.private_key_pem.write_to_path(str(directory / "client.key"))
    for name, file in (("tls-ca", "ca.crt"), ("tls-client-cert", "client.crt"), ("tls-client-key", "client.key")):
        print(f"{name} {directory / file}", flush=True)


JWT_ISSUER = "https://live-stack.test/issuer"
JWT_AUDIENCE = "api://polysync-batch-live"
JWT_CLIENT = "jwt-client"


def _write_jwt_key(directory: Path) -> JwtConfig:
    import json

    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (directory / "jwt.key").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    (directory / "jwks.json").write_text(
        json.dumps({"keys": [{**public, "kid": "live", "use": "sig", "alg": "RS256"}]})
    )
    for name, value in (("jwt-key", directory / "jwt.key"), ("jwt-issuer", JWT_ISSUER), ("jwt-audience", JWT_AUDIENCE)):
        print(f"{name} {value}", flush=True)
    return JwtConfig(jwks_file=directory / "jwks.json", issuer=JWT_ISSUER, audience=JWT_AUDIENCE, leeway_seconds=0)


def _main_server_process(options: argparse.Namespace) -> int:
    """--server-process: the emulator here, `polysync-batch serve` in a child process (tests/live_feed_stack.py)
    killed on "restart"; "jobs" prints every job of the demo queue as "jobs <JSON: job id → status>"."""
    import json

    from tests.live_feed_stack import FeedStack

    if options.tls or options.mtls or options.token or options.reader_token or options.jwt:
        raise SystemExit("--server-process serves plaintext without caller auth")
    with FeedStack(history=options.history) as stack:
        while True:
            assert stack.process is not None
            print(f"server-pid {stack.process.pid}", flush=True)
            print(f"ready {stack.port}", flush=True)
            command = sys.stdin.readline().strip()
            if command == "restart":
                stack.kill_and_restart()  # for real: SIGKILL, no graceful stop
            elif command == "jobs":
                print(f"jobs {json.dumps(stack.jobs())}", flush=True)
            else:
                return 0


async def main(argv: list[str] | None = None) -> int:
    options = _options(sys.argv[1:] if argv is None else argv)
    if options.server_process:
        return _main_server_process(options)
    if options.tls or options.mtls or options.token or options.reader_token or options.jwt:
        from polysync_batch.observability.logging import configure_logging

        configure_logging()  # the RPC log lines (naming the caller) on stderr, as `serve` writes them
    loop = asyncio.get_running_loop()
    with start_emulator(LIFECYCLE) as emulator, tempfile.TemporaryDirectory(prefix="live-stack-tls-") as temp:
        tls = None
        if options.tls or options.mtls:
            directory = Path(temp)
            _write_certificates(directory)
            tls = TlsConfig(
                cert_file=directory / "server.crt",
                key_file=directory / "server.key",
                client_ca_file=directory / "ca.crt" if options.mtls else None,
            )
        tokens = [
            CallerTokenConfig(caller=caller, sha256=hashlib.sha256(token.encode()).hexdigest())
            for caller, token in (("client", options.token), ("reader", options.reader_token))
            if token
        ]
        auth = CallerAuthConfig(tokens=tokens, jwt=_write_jwt_key(Path(temp)) if options.jwt else None)
        access = None
        if tokens or options.mtls or options.jwt:
            access = {"demo": AccessConfig(read=["reader"], submit=["client", CERT_CLIENT, JWT_CLIENT])}
        address = "127.0.0.1:0"
        while True:
            platforms = demo_platforms(emulator, None, WATCH, history=options.history)  # afresh, as a new process
            settings = ServerConfig(address=address, health_check_interval_seconds=0, tls=tls)
            running = await build_server(platforms, settings, auth=auth, access=access)
            address = f"127.0.0.1:{running.port}"
            print(f"ready {running.port}", flush=True)
            command = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
            await running.stop(1.0)
            if command != "restart":
                return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
