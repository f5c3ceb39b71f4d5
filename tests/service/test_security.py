"""SPEC §8.1/§8.2 from outside, through real TLS on 127.0.0.1: certificates made at test time,
static tokens, JWTs good and bad, client certificates, per-platform access. Every refusal is
checked to have made no AWS call (botocore's before-call event and aws/wire.py's calls count them), and the last
test greps every log record of this module for the secrets used."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time

import boto3
import grpc
import pytest
import trustme
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync.platform.v1 import platform_service_pb2_grpc as pb_grpc
from polysync_batch.bootstrap import build_platform, demo_platforms
from polysync_batch.config import AccessConfig, PlatformConfig
from polysync_batch.domain.models import PlatformInfo
from polysync_batch.service.registry import PlatformRegistry

from tests.security_support import (
    AUDIENCE,
    ISSUER,
    READER_TOKEN,
    SCHEDULER_TOKEN,
    Pki,
    Signer,
    auth_config,
    bearer,
    serve_secured,
    unsigned_token,
    write_jwks,
)
from tests.support import FAST_WATCH, error_details, on_wire_call

SECRETS: list[str] = []  # every token and JWT this module sends; none may reach a log line
RECORDS: list[logging.LogRecord] = []


class _Keep(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        RECORDS.append(record)


@pytest.fixture(scope="module", autouse=True)
def every_log_record():
    handler, root = _Keep(level=logging.DEBUG), logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield
    root.removeHandler(handler)
    root.setLevel(previous)


def secret(token: str) -> str:
    SECRETS.append(token)
    return token


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki.make(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def signer():
    return Signer("k1")


@pytest.fixture(scope="module")
def jwks_file(tmp_path_factory, signer):
    return write_jwks(tmp_path_factory.mktemp("jwks") / "jwks.json", signer)


class AwsCalls:
    """Counts every AWS request the platforms' botocore clients (and their aws/wire.py paths) are about to send."""

    def __init__(self, platforms: PlatformRegistry) -> None:
        self.count = 0
        for platform in platforms.all():
            for client in (platform.clients.batch, platform.clients.sts, platform.clients.iam, platform.clients.logs):
                client.meta.events.register("before-call", self._count)
            on_wire_call(platform.clients.batch_wire, self._count)  # DescribeJobs, ListJobs: aws/wire.py

    def _count(self, *_: object, **__: object) -> None:
        self.count += 1


def two_platforms(emulator) -> PlatformRegistry:
    """`demo` and `other`, both on the emulator."""
    demo = demo_platforms(emulator, None, FAST_WATCH).get("demo")
    session = boto3.Session(
        aws_access_key_id=emulator.access_key_id,
        aws_secret_access_key=emulator.secret_access_key,
        region_name=emulator.region,
    )
    info = PlatformInfo(
        name="other",
        region=emulator.region,
        default_job_queue=emulator.job_queue,
        console_domain=None,
        runnable_warning_seconds=600,
    )
    other = build_platform(
        info,
        session,
        None,
        endpoint_url=emulator.endpoint_url,
        watch=FAST_WATCH,
        aws=PlatformConfig(region=emulator.region, max_attempts=1),
    )
    return PlatformRegistry({"demo": demo, "other": other}, "demo")


ACCESS = {
    "demo": AccessConfig(read=["reader", "jwt-caller"], submit=["scheduler"]),
    "other": AccessConfig(submit=["jwt-caller"]),
}


@pytest.fixture
async def secured(emulator, pki, jwks_file):
    platforms = two_platforms(emulator)
    async with serve_secured(
        platforms, pki, auth=auth_config(jwks_file, leeway_seconds=0), access=ACCESS, max_streams_per_caller=1
    ) as served:
        served.aws = AwsCalls(platforms)
        yield served


async def refused(call) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        result = call()
        if hasattr(result, "__aiter__"):
            async for _ in result:
                pass
        else:
            await result
    return raised.value


# --- transport -------------------------------------------------------------------------------


async def test_a_plaintext_client_cannot_talk_to_the_tls_port(secured):
    async with grpc.aio.insecure_channel(secured.target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        error = await refused(lambda: health.Check(health_pb2.HealthCheckRequest(), timeout=3))
    assert error.code() == grpc.StatusCode.UNAVAILABLE


def _handshake(port: int, version: ssl.TLSVersion, pki: Pki) -> str:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.set_ciphers("ALL:@SECLEVEL=0")  # let the client offer old versions; the server must refuse them
    context.minimum_version = context.maximum_version = version
    context.set_alpn_protocols(["h2"])
    pki.ca.configure_trust(context)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        try:
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                return tls.version()
        except ssl.SSLError as error:
            return error.reason or str(error)


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
async def test_tls_1_2_and_1_3_are_spoken_and_1_1_is_refused_by_the_server(secured, pki):
    port = secured.running.port
    assert await asyncio.to_thread(_handshake, port, ssl.TLSVersion.TLSv1_2, pki) == "TLSv1.2"
    assert await asyncio.to_thread(_handshake, port, ssl.TLSVersion.TLSv1_3, pki) == "TLSv1.3"
    # The client offered TLS 1.1 and the server hung up on it (grpc core logs UNSUPPORTED_PROTOCOL);
    # a client giving up on its own would say NO_PROTOCOLS_AVAILABLE.
    old = await asyncio.to_thread(_handshake, port, ssl.TLSVersion.TLSv1_1, pki)
    assert old in ("UNEXPECTED_EOF_WHILE_READING", "TLSV1_ALERT_PROTOCOL_VERSION"), old


async def test_health_needs_no_caller_on_either_port_and_the_health_port_serves_nothing_else(secured):
    health = health_pb2_grpc.HealthStub(secured.channel)
    assert (await health.Check(health_pb2.HealthCheckRequest())).status == health_pb2.HealthCheckResponse.SERVING
    async with grpc.aio.insecure_channel(f"127.0.0.1:{secured.running.health_port}") as plain:
        answer = await health_pb2_grpc.HealthStub(plain).Check(health_pb2.HealthCheckRequest(service="platform:demo"))
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
        from polysync.platform.v1 import platform_service_pb2_grpc

        error = await refused(
            lambda: platform_service_pb2_grpc.PlatformServiceStub(plain).ListPipelines(
                pb.ListPipelinesRequest(), metadata=bearer(secret(SCHEDULER_TOKEN))
            )
        )
    assert error.code() == grpc.StatusCode.UNIMPLEMENTED
    assert secured.aws.count == 0


async def test_certificate_files_are_reloaded_when_they_change(emulator, tmp_path):
    pki = Pki.make(tmp_path / "rotating")
    async with serve_secured(demo_platforms(emulator, None, FAST_WATCH), pki) as served:
        health = health_pb2_grpc.HealthStub(served.channel)
        await health.Check(health_pb2.HealthCheckRequest())
        new_ca = trustme.CA()
        pki.key_file.write_bytes(new_ca.issue_cert("127.0.0.1").private_key_pem.bytes())  # half-way: pair mismatch
        async with grpc.aio.secure_channel(served.target, pki.channel_credentials()) as old_trust:
            await health_pb2_grpc.HealthStub(old_trust).Check(health_pb2.HealthCheckRequest(), timeout=5)
        pki.write_server(new_ca)  # the rotation completes
        async with grpc.aio.secure_channel(served.target, pki.channel_credentials(ca=new_ca)) as new_trust:
            answer = await health_pb2_grpc.HealthStub(new_trust).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
        async with grpc.aio.secure_channel(served.target, pki.channel_credentials()) as old_trust:
            error = await refused(
                lambda: health_pb2_grpc.HealthStub(old_trust).Check(health_pb2.HealthCheckRequest(), timeout=5)
            )
        assert error.code() == grpc.StatusCode.UNAVAILABLE
        assert served.running.certificates.reloads == 1  # the mismatched pair was never taken


# --- caller identity -------------------------------------------------------------------------


async def test_a_static_token_names_the_caller_in_the_access_log(secured, caplog):
    caplog.set_level(logging.INFO, logger="polysync_batch.rpc")
    answer = await secured.stub.ListPipelines(pb.ListPipelinesRequest(), metadata=bearer(secret(SCHEDULER_TOKEN)))
    assert {p.name for p in answer.pipelines} >= {"hello"}
    lines = [r.fields for r in caplog.records if r.name == "polysync_batch.rpc" and hasattr(r, "fields")]
    assert lines[-1]["caller"] == "scheduler" and lines[-1]["code"] == "OK"


async def test_a_jwt_names_the_caller_by_its_claim(secured, signer):
    token = secret(signer.token(sub="jwt-caller"))
    answer = await secured.stub.ListPipelines(pb.ListPipelinesRequest(platform="other"), metadata=bearer(token))
    assert answer.pipelines


def bad_tokens(signer: Signer) -> dict[str, tuple[str | None, str]]:
    """(authorization metadata, what the message must say) for every kind of bad credential."""
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "jwt-caller", "iat": now, "exp": now + 300}
    stranger = Signer("k1")  # same kid, other key
    tampered = signer.token().rsplit(".", 1)[0] + "." + stranger.token().rsplit(".", 1)[1]
    return {
        "missing": (None, "no credentials"),
        "not bearer": ("Basic c2NoZWR1bGVyOnB3", "malformed"),
        "unknown static token": ("Bearer not-a-token-we-know", "neither a known token nor a JWT"),
        "garbage jwt": ("Bearer aaa.bbb.ccc", "malformed"),
        "alg none": ("Bearer " + unsigned_token(claims, "none"), "algorithm 'none' is not accepted"),
        "HS256 with the RSA key": (
            "Bearer " + unsigned_token(claims, "HS256", secret=signer.public_pem()),
            "algorithm 'HS256' is not accepted",
        ),
        "wrong issuer": ("Bearer " + signer.token(iss="https://evil.example/"), "wrong issuer"),
        "wrong audience": ("Bearer " + signer.token(aud="api://someone-else"), "wrong audience"),
        "expired": ("Bearer " + signer.token(lifetime=-5), "expired"),
        "no exp": ("Bearer " + signer.token(exp=None), "no 'exp' claim"),
        "not yet valid": ("Bearer " + signer.token(nbf=now + 600), "not valid yet"),
        "unknown key": ("Bearer " + signer.token(kid="k-rotated-away"), "unknown key"),
        "bad signature": ("Bearer " + tampered, "signature is bad"),
        "no caller claim": ("Bearer " + signer.token(sub=None), "no 'sub' claim"),
    }


@pytest.mark.parametrize("kind", list(bad_tokens(Signer("k0"))))
async def test_each_bad_credential_is_refused_with_its_reason_and_no_aws_call(secured, signer, kind):
    authorization, says = bad_tokens(signer)[kind]
    metadata = (("authorization", secret(authorization)),) if authorization else ()
    calls = {
        "unary": lambda: secured.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello"), metadata=metadata),
        "stream": lambda: secured.stub.WatchPipelineRuns(
            pb.WatchPipelineRunsRequest(run_ids=["a", "b"]), metadata=metadata
        ),
    }
    for call in calls.values():
        error = await refused(call)
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED, error
        assert error_details(error)["ErrorInfo"].reason == "CALLER_UNAUTHENTICATED"
        assert says in error.details(), error.details()
        if authorization:
            token = authorization.split(" ", 1)[1]
            signature = token.split(".")[-1]
            assert token not in error.details() and (not signature or signature not in error.details())
    assert secured.aws.count == 0


async def test_undecodable_bytes_are_unauthenticated_for_a_stranger_and_invalid_argument_for_a_caller(secured):
    """The caller is identified before the request's bytes are judged, on every method."""
    garbage = b"\xff\xff\xff\xff"  # a field tag with no end: not any message
    for method in pb.DESCRIPTOR.services_by_name["PlatformService"].methods:
        path = f"/{method.containing_service.full_name}/{method.name}"
        call = secured.channel.unary_stream(path) if method.server_streaming else secured.channel.unary_unary(path)
        for metadata, code in (
            ((), grpc.StatusCode.UNAUTHENTICATED),
            (bearer(secret(SCHEDULER_TOKEN)), grpc.StatusCode.INVALID_ARGUMENT),
        ):
            error = await refused(lambda call=call, metadata=metadata: call(garbage, metadata=metadata))
            assert error.code() == code, (method.name, error)
    health = secured.channel.unary_unary("/grpc.health.v1.Health/Check")  # needs no caller: judged at once
    error = await refused(lambda: health(garbage))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error
    assert secured.aws.count == 0


async def test_reflection_needs_a_caller(secured):
    stub = reflection_pb2_grpc.ServerReflectionStub(secured.channel)

    async def list_services(metadata):
        call = stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), metadata=metadata
        )
        return [s.name async for answer in call for s in answer.list_services_response.service]

    error = await refused(lambda: list_services(()))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert error_details(error)["ErrorInfo"].reason == "CALLER_UNAUTHENTICATED"
    assert "polysync.platform.v1.PlatformService" in await list_services(bearer(secret(READER_TOKEN)))


async def test_a_watch_ends_unauthenticated_when_its_token_expires(secured, signer):
    run = (
        await secured.stub.ExecutePipeline(
            pb.ExecutePipelineRequest(pipeline="hello", parameters={"duration_seconds": "30"}),
            metadata=bearer(secret(SCHEDULER_TOKEN)),
        )
    ).run
    token = secret(signer.token(lifetime=2))
    started = time.monotonic()
    messages = []
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        async for message in secured.stub.WatchPipelineRun(
            pb.WatchPipelineRunRequest(run_id=run.run_id), metadata=bearer(token)
        ):
            messages.append(message)
    elapsed = time.monotonic() - started
    assert messages and not messages[-1].run.terminal  # it was live, then cut at exp
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "expired during the stream" in raised.value.details()
    assert 0.5 < elapsed < 5


async def test_stream_limits_count_per_identified_caller_not_per_address(secured, signer):
    run = (
        await secured.stub.ExecutePipeline(
            pb.ExecutePipelineRequest(pipeline="hello", parameters={"duration_seconds": "30"}),
            metadata=bearer(secret(SCHEDULER_TOKEN)),
        )
    ).run
    first = secured.stub.WatchPipelineRun(
        pb.WatchPipelineRunRequest(run_id=run.run_id), metadata=bearer(SCHEDULER_TOKEN)
    )
    await first.read()
    error = await refused(
        lambda: secured.stub.WatchPipelineRun(
            pb.WatchPipelineRunRequest(run_id=run.run_id), metadata=bearer(SCHEDULER_TOKEN)
        )
    )
    assert error_details(error)["ErrorInfo"].reason == "TOO_MANY_STREAMS"
    assert error_details(error)["ErrorInfo"].metadata["caller"] == "caller:scheduler"
    other = secured.stub.WatchPipelineRun(
        pb.WatchPipelineRunRequest(run_id=run.run_id), metadata=bearer(secret(READER_TOKEN))
    )  # same address, other caller
    assert (await other.read()).run.run_id == run.run_id
    first.cancel()
    other.cancel()


# --- access ----------------------------------------------------------------------------------


async def test_a_reader_cannot_submit_or_cancel_and_no_aws_call_is_made(secured):
    reader = bearer(secret(READER_TOKEN))
    assert (await secured.stub.ListPipelineRuns(pb.ListPipelineRunsRequest(), metadata=reader)) is not None
    before = secured.aws.count
    for call in (
        lambda: secured.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello"), metadata=reader),
        lambda: secured.stub.CancelPipelineRun(pb.CancelPipelineRunRequest(run_id="x"), metadata=reader),
    ):
        error = await refused(call)
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED
        info = error_details(error)["ErrorInfo"]
        assert info.reason == "CALLER_NOT_ALLOWED"
        assert dict(info.metadata) == {"caller": "reader", "platform": "demo"}  # empty platform = the default
    assert secured.aws.count == before


async def test_a_caller_of_one_platform_cannot_touch_another(secured, signer):
    ids = [f"run-{i}" for i in range(500)]
    for call in (
        lambda: secured.stub.BatchGetPipelineRuns(
            pb.BatchGetPipelineRunsRequest(platform="other", run_ids=ids), metadata=bearer(SCHEDULER_TOKEN)
        ),
        lambda: secured.stub.WatchPipelineRuns(
            pb.WatchPipelineRunsRequest(platform="other", run_ids=ids), metadata=bearer(READER_TOKEN)
        ),
    ):
        error = await refused(call)
        info = error_details(error)["ErrorInfo"]
        assert info.reason == "CALLER_NOT_ALLOWED" and info.metadata["platform"] == "other"
    assert secured.aws.count == 0
    jwt_caller = bearer(secret(signer.token(sub="jwt-caller")))
    answer = await secured.stub.BatchGetPipelineRuns(
        pb.BatchGetPipelineRunsRequest(platform="other", run_ids=ids[:3]), metadata=jwt_caller
    )
    assert sorted(answer.missing_run_ids) == ids[:3]


# --- mutual TLS ------------------------------------------------------------------------------


@pytest.fixture
async def mutual(emulator, pki):
    platforms = demo_platforms(emulator, None, FAST_WATCH)
    async with serve_secured(
        platforms,
        pki,
        mutual=True,
        auth=auth_config(),
        access={"demo": AccessConfig(read=["reporter"], submit=["scheduler"])},
        client_certificate=True,
    ) as served:
        served.aws = AwsCalls(platforms)
        yield served


async def test_mutual_tls_requires_a_client_certificate_whose_cn_names_the_caller(mutual, pki, caplog):
    caplog.set_level(logging.INFO, logger="polysync_batch.rpc")
    async with grpc.aio.secure_channel(mutual.target, pki.channel_credentials()) as no_certificate:
        error = await refused(
            lambda: health_pb2_grpc.HealthStub(no_certificate).Check(health_pb2.HealthCheckRequest(), timeout=5)
        )
        assert error.code() == grpc.StatusCode.UNAVAILABLE  # the handshake itself, Health included
    answer = await mutual.stub.ListPipelines(pb.ListPipelinesRequest())  # no token: the certificate's CN
    assert answer.pipelines
    lines = [r.fields for r in caplog.records if r.name == "polysync_batch.rpc" and hasattr(r, "fields")]
    assert lines[-1]["caller"] == "reporter"
    error = await refused(lambda: mutual.stub.ExecutePipeline(pb.ExecutePipelineRequest(pipeline="hello")))
    assert error_details(error)["ErrorInfo"].metadata["caller"] == "reporter"
    async with grpc.aio.insecure_channel(f"127.0.0.1:{mutual.running.health_port}") as probe:
        assert (await health_pb2_grpc.HealthStub(probe).Check(health_pb2.HealthCheckRequest())).status == 1


async def test_a_watch_ends_unauthenticated_when_its_client_certificate_expires(mutual, pki):
    """The handshake checks the certificate once; the connection (and a stream on it) would
    outlive it. The stream ends at notAfter, and later calls on the same channel are refused."""
    import datetime

    expires = datetime.datetime.now(datetime.UTC).replace(microsecond=0) + datetime.timedelta(seconds=4)
    short = pki.ca.issue_cert("scheduler.clients.test", common_name="scheduler", not_after=expires)
    credentials = grpc.ssl_channel_credentials(
        pki.ca.cert_pem.bytes(), short.private_key_pem.bytes(), short.cert_chain_pems[0].bytes()
    )
    async with grpc.aio.secure_channel(mutual.target, credentials) as channel:
        stub = pb_grpc.PlatformServiceStub(channel)
        run = (
            await stub.ExecutePipeline(
                pb.ExecutePipelineRequest(pipeline="hello", parameters={"duration_seconds": "30"})
            )
        ).run  # the certificate's CN may submit
        messages = []
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            async for message in stub.WatchPipelineRun(pb.WatchPipelineRunRequest(run_id=run.run_id)):
                messages.append(message)
        ended = datetime.datetime.now(datetime.UTC)
        assert messages and not messages[-1].run.terminal
        assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert "client certificate expired during the stream" in raised.value.details()
        assert abs((ended - expires).total_seconds()) < 1.5
        later = await refused(lambda: stub.GetPipelineRun(pb.GetPipelineRunRequest(run_id=run.run_id)))
        assert later.code() == grpc.StatusCode.UNAUTHENTICATED and "has expired" in later.details()


async def test_a_presented_token_is_checked_before_the_certificate(mutual):
    error = await refused(
        lambda: mutual.stub.ListPipelines(pb.ListPipelinesRequest(), metadata=bearer(secret("wrong-token-7c1d")))
    )
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED  # a valid certificate came with it
    run = await mutual.stub.ExecutePipeline(
        pb.ExecutePipelineRequest(pipeline="hello"), metadata=bearer(secret(SCHEDULER_TOKEN))
    )  # the token names the caller
    assert run.run.run_id


# --- JWKS from a URL, off the event loop ----------------------------------------------------


async def test_jwks_url_is_fetched_off_the_event_loop_and_an_unknown_kid_refetches_at_most_once_a_minute(
    emulator, pki, signer, tmp_path
):
    import http.server
    import threading

    fetches, slow = [], threading.Event()
    document = (write_jwks(tmp_path / "keys.json", signer)).read_bytes()

    class Keys(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            fetches.append(self.path)
            if slow.is_set():
                time.sleep(1.0)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *args):
            pass

    http_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Keys)
    threading.Thread(target=http_server.serve_forever, daemon=True).start()
    from polysync_batch.config import CallerAuthConfig, JwtConfig

    auth = CallerAuthConfig(
        jwt=JwtConfig(jwks_url=f"http://127.0.0.1:{http_server.server_port}/keys", issuer=ISSUER, audience=AUDIENCE)
    )
    try:
        async with serve_secured(demo_platforms(emulator, None, FAST_WATCH), pki, auth=auth) as served:
            assert len(fetches) == 1  # at start-up
            good = bearer(secret(signer.token()))
            await served.stub.ListPipelines(pb.ListPipelinesRequest(), metadata=good)
            slow.set()
            unknown = bearer(secret(signer.token(kid="new-key")))
            refetching = asyncio.ensure_future(
                refused(lambda: served.stub.ListPipelines(pb.ListPipelinesRequest(), metadata=unknown))
            )
            await asyncio.sleep(0.2)
            started = time.monotonic()
            await health_pb2_grpc.HealthStub(served.channel).Check(health_pb2.HealthCheckRequest())
            assert time.monotonic() - started < 0.5  # the loop kept serving while the JWKS was fetched
            assert "unknown key" in (await refetching).details()
            assert len(fetches) == 1  # start-up was under a minute ago: no refetch yet
            served.running.server  # noqa: B018
    finally:
        http_server.shutdown()


async def test_a_bad_certificate_file_stops_start_up_naming_the_key(emulator, tmp_path):
    from polysync_batch.config import ConfigError

    pki = Pki.make(tmp_path / "bad")
    pki.key_file.write_bytes(trustme.CA().issue_cert("127.0.0.1").private_key_pem.bytes())  # another key
    with pytest.raises(ConfigError, match=r"server\.tls\.key_file: does not match"):
        async with serve_secured(demo_platforms(emulator, None, FAST_WATCH), pki):
            pass
    pki.cert_file.write_text("not a certificate")
    with pytest.raises(ConfigError, match=r"server\.tls\.cert_file: not a PEM"):
        async with serve_secured(demo_platforms(emulator, None, FAST_WATCH), pki):
            pass


# --- last: nothing secret was logged -----------------------------------------------------------


def test_no_token_or_jwt_of_this_module_is_in_any_log_record():
    assert SECRETS and len(RECORDS) > 20
    logged = []
    for record in RECORDS:
        logged.append(record.getMessage())
        logged.append(repr(getattr(record, "fields", "")))
        if record.exc_info:
            logged.append(logging.Formatter().formatException(record.exc_info))
    text = "\n".join(logged)
    for token in SECRETS:
        for part in {token, token.split(" ")[-1], token.split(".")[-1]}:
            if len(part) >= 8:
                assert part not in text, f"a secret reached the log: {part[:6]}…"
