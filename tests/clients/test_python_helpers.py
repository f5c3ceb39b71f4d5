"""The Python client's helpers against a scripted server (tests/clients/scripted_server.py), in
both flavours (sync and asyncio): the reconnect policy step by step, submit-and-wait, paging,
logs, and what connect() sends (bearer token, TLS with a custom CA and a client certificate)."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Callable
from typing import Any

import grpc
import polysync_platform_client as client
import polysync_platform_client.aio as aio
import pytest
from polysync.platform.v1 import platform_service_pb2 as pb
from polysync_platform_client import RunEvent, reasons

from tests.clients.scripted_server import Fail, Hang, ScriptedServer, event, run

UNAVAILABLE = Fail(grpc.StatusCode.UNAVAILABLE, reasons.SERVER_SHUTTING_DOWN)
FLAVOURS = ["sync", "aio"]


@pytest.fixture
def server():
    with ScriptedServer() as scripted:
        yield scripted


class Outcome:
    def __init__(self) -> None:
        self.events: list[RunEvent] = []
        self.delays: list[float] = []
        self.error: BaseException | None = None

    @property
    def states(self) -> list[str]:
        return [e.run.native_status for e in self.events]


def watch(
    flavour: str,
    target: str,
    run_ids: list[str],
    *,
    token_source: Callable[[], str] | None = None,
    metadata: Any = None,
    timeout: float | None = None,
    stop_after: int | None = None,
) -> Outcome:
    """Runs watch_run (one id) or watch_runs (several) with sleeps recorded instead of slept."""
    outcome = Outcome()

    def keep(e: RunEvent) -> bool:
        outcome.events.append(e)
        return stop_after is not None and len(outcome.events) >= stop_after

    if flavour == "sync":
        c = client.connect(target, token_source=token_source)
        c._sleep = outcome.delays.append
        with c:
            events = (
                c.watch_run(run_ids[0], metadata=metadata, timeout=timeout)
                if len(run_ids) == 1
                else c.watch_runs(run_ids, metadata=metadata, timeout=timeout)
            )
            try:
                for e in events:
                    if keep(e):
                        break
            except (grpc.RpcError, client.StreamEndedEarly) as error:
                outcome.error = error
            finally:
                events.close()  # type: ignore[attr-defined]
        return outcome

    async def main() -> None:
        async def record(delay: float) -> None:
            outcome.delays.append(delay)

        c = aio.connect(target, token_source=token_source)
        c._sleep = record
        async with c:
            events = (
                c.watch_run(run_ids[0], metadata=metadata, timeout=timeout)
                if len(run_ids) == 1
                else c.watch_runs(run_ids, metadata=metadata, timeout=timeout)
            )
            try:
                async for e in events:
                    if keep(e):
                        break
            except (grpc.RpcError, client.StreamEndedEarly) as error:
                outcome.error = error
            finally:
                await events.aclose()  # type: ignore[attr-defined]

    asyncio.run(main())
    return outcome


def assert_backoff(delays: list[float], attempts: list[int]) -> None:
    """Each delay is min(15, 0.5 * 2**(n-1)) times a factor in [0.8, 1.2]."""
    assert len(delays) == len(attempts), delays
    for delay, n in zip(delays, attempts, strict=False):
        base = min(15.0, 0.5 * 2 ** (n - 1))
        assert 0.8 * base <= delay <= 1.2 * base, (n, delay)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_resumes_after_unavailable_without_repeating_the_current_state(server, flavour):
    server.script("WatchPipelineRun", event(run(native="SUBMITTED")), event(run(native="RUNNABLE")), UNAVAILABLE)
    server.script(
        "WatchPipelineRun",
        event(run(native="RUNNABLE")),  # the current state, again
        event(run(native="SUCCEEDED", terminal=True, exit_code=0)),
    )
    outcome = watch(flavour, server.target, ["r1"])
    assert outcome.error is None
    assert outcome.states == ["SUBMITTED", "RUNNABLE", "SUCCEEDED"]
    assert outcome.events[-1].run.terminal and outcome.events[-1].run.exit_code == 0
    assert_backoff(outcome.delays, [1])
    assert len(server.calls_of("WatchPipelineRun")) == 2


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_clean_end_before_the_terminal_state_reconnects_with_backoff(server, flavour):
    server.script("WatchPipelineRun", event(run(native="RUNNING")))  # ends OK, run not terminal
    server.script("WatchPipelineRun")  # ends OK with nothing at all
    server.script("WatchPipelineRun", event(run(native="SUCCEEDED", terminal=True)))
    outcome = watch(flavour, server.target, ["r1"])
    assert outcome.states == ["RUNNING", "SUCCEEDED"]
    assert_backoff(outcome.delays, [1, 2])


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_ten_reconnects_without_a_message_then_the_last_error_is_raised(server, flavour):
    for _ in range(11):
        server.script("WatchPipelineRun", UNAVAILABLE)
    server.script("WatchPipelineRun", event(run(native="SUCCEEDED", terminal=True)))  # never reached
    outcome = watch(flavour, server.target, ["r1"])
    assert isinstance(outcome.error, grpc.RpcError)
    assert outcome.error.code() == grpc.StatusCode.UNAVAILABLE
    assert client.reason(outcome.error) == reasons.SERVER_SHUTTING_DOWN
    assert_backoff(outcome.delays, list(range(1, 11)))  # 0.5, 1, 2, 4, 8, 15, 15, ...
    assert len(server.calls_of("WatchPipelineRun")) == 11


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_clean_ends_spend_the_budget_too(server, flavour):
    for _ in range(11):
        server.script("WatchPipelineRun")
    outcome = watch(flavour, server.target, ["r1"])
    assert isinstance(outcome.error, client.StreamEndedEarly)
    assert len(outcome.delays) == 10


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_any_message_resets_the_backoff(server, flavour):
    server.script("WatchPipelineRun", UNAVAILABLE)
    server.script("WatchPipelineRun", UNAVAILABLE)
    server.script("WatchPipelineRun", event(run(native="RUNNING")), UNAVAILABLE)
    server.script("WatchPipelineRun", event(run(native="RUNNING"), heartbeat=True), UNAVAILABLE)
    server.script("WatchPipelineRun", event(run(native="SUCCEEDED", terminal=True)))
    outcome = watch(flavour, server.target, ["r1"])
    assert outcome.error is None
    assert_backoff(outcome.delays, [1, 2, 1, 1])


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_aws_throttled_is_retried_but_too_many_streams_is_not(server, flavour):
    server.script("WatchPipelineRun", Fail(grpc.StatusCode.RESOURCE_EXHAUSTED, reasons.AWS_THROTTLED, retry_seconds=2))
    server.script("WatchPipelineRun", Fail(grpc.StatusCode.RESOURCE_EXHAUSTED, reasons.TOO_MANY_STREAMS))
    outcome = watch(flavour, server.target, ["r1"])
    assert client.reason(outcome.error) == reasons.TOO_MANY_STREAMS
    assert_backoff(outcome.delays, [1])


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize(
    "code",
    [
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.INTERNAL,
    ],
)
def test_other_errors_are_returned_at_once(server, flavour, code):
    server.script("WatchPipelineRun", Fail(code, "X"))
    outcome = watch(flavour, server.target, ["r1"])
    assert outcome.error.code() == code and outcome.delays == []


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_heartbeats_and_stale_since_reach_the_caller(server, flavour):
    stale = 1_800_000_000
    server.script(
        "WatchPipelineRun",
        event(run(native="RUNNING")),
        event(run(native="RUNNING"), heartbeat=True, stale_since=stale),
        event(run(native="RUNNING"), stale_since=stale),  # same state: suppressed
        event(run(native="SUCCEEDED", terminal=True)),
    )
    outcome = watch(flavour, server.target, ["r1"])
    assert [(e.run.native_status, e.heartbeat) for e in outcome.events] == [
        ("RUNNING", False),
        ("RUNNING", True),
        ("SUCCEEDED", False),
    ]
    assert outcome.events[0].stale_since is None
    assert outcome.events[1].stale_since == datetime.datetime.fromtimestamp(stale, datetime.UTC)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_change_of_reason_exit_code_or_array_counts_is_a_new_state(server, flavour):
    counted = run(native="RUNNING")
    counted.array.size = 2
    counted.array.status_counts["RUNNING"] = 2
    server.script(
        "WatchPipelineRun",
        event(run(native="RUNNING")),
        event(counted),
        event(run(native="RUNNING", reason="retrying")),
        event(run(native="FAILED", terminal=True, exit_code=3)),
    )
    assert len(watch(flavour, server.target, ["r1"]).events) == 4


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_unauthenticated_is_retried_once_with_a_fresh_token_only_with_a_token_source(server, flavour):
    tokens = iter(["expired", "fresh", "again"])
    server.script("WatchPipelineRun", Fail(grpc.StatusCode.UNAUTHENTICATED, reasons.CALLER_UNAUTHENTICATED))
    server.script("WatchPipelineRun", event(run(native="SUCCEEDED", terminal=True)))
    outcome = watch(flavour, server.target, ["r1"], token_source=lambda: next(tokens))
    assert outcome.error is None and outcome.states == ["SUCCEEDED"]
    assert [c.metadata["authorization"] for c in server.calls_of("WatchPipelineRun")] == [
        "Bearer expired",
        "Bearer fresh",
    ]

    server.script("WatchPipelineRun", Fail(grpc.StatusCode.UNAUTHENTICATED, reasons.CALLER_UNAUTHENTICATED))
    server.script("WatchPipelineRun", Fail(grpc.StatusCode.UNAUTHENTICATED, reasons.CALLER_UNAUTHENTICATED))
    twice = watch(flavour, server.target, ["r1"], token_source=lambda: "t")
    assert twice.error.code() == grpc.StatusCode.UNAUTHENTICATED and len(twice.delays) == 1

    server.script("WatchPipelineRun", Fail(grpc.StatusCode.UNAUTHENTICATED, reasons.CALLER_UNAUTHENTICATED))
    without = watch(flavour, server.target, ["r1"])
    assert without.error.code() == grpc.StatusCode.UNAUTHENTICATED and without.delays == []


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_watch_runs_reconnects_for_the_runs_not_yet_terminal(server, flavour):
    server.script(
        "WatchPipelineRuns",
        event(run("a", "SUCCEEDED", terminal=True), many=True),
        event(run("b", "RUNNING"), many=True),
    )  # ends OK with b still running
    server.script(
        "WatchPipelineRuns", event(run("b", "RUNNING"), many=True), event(run("b", "FAILED", terminal=True), many=True)
    )
    outcome = watch(flavour, server.target, ["a", "b"])
    assert [(e.run.run_id, e.run.native_status) for e in outcome.events] == [
        ("a", "SUCCEEDED"),
        ("b", "RUNNING"),
        ("b", "FAILED"),
    ]
    assert [list(c.request.run_ids) for c in server.calls_of("WatchPipelineRuns")] == [["a", "b"], ["b"]]


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_leaving_a_watch_early_cancels_the_stream(server, flavour):
    """The server's stream ends as soon as the loop is left, while the channel stays open."""
    server.script("WatchPipelineRun", event(run(native="RUNNING")), Hang())
    ended = lambda: server.calls_of("WatchPipelineRun")[0].ended.wait(5)  # noqa: E731
    if flavour == "sync":
        with client.connect(server.target) as c:
            for e in c.watch_run("r1"):  # noqa: B007 — the first event, kept after the loop
                break
            assert e.run.native_status == "RUNNING"
            assert ended(), "the server's stream is still open"
        return

    async def main() -> None:
        async with aio.connect(server.target) as c:
            events = c.watch_run("r1")
            async for e in events:  # noqa: B007 — the first event, kept after the loop
                break
            await events.aclose()
            assert e.run.native_status == "RUNNING"
            assert await asyncio.to_thread(ended), "the server's stream is still open"

    asyncio.run(main())


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_metadata_and_timeout_reach_the_server(server, flavour):
    server.script("WatchPipelineRun", event(run(native="SUCCEEDED", terminal=True)))
    watch(flavour, server.target, ["r1"], metadata=[("x-team", "ingest")], timeout=30)
    call = server.calls_of("WatchPipelineRun")[0]
    assert call.metadata["x-team"] == "ingest"
    assert call.time_remaining is not None and 25 < call.time_remaining <= 31  # deadline rounding


def execute(flavour: str, target: str, request: pb.ExecutePipelineRequest) -> tuple[Any, list[float]]:
    delays: list[float] = []
    if flavour == "sync":
        with client.connect(target) as c:
            c._sleep = delays.append
            return c.execute(request), delays

    async def main() -> Any:
        async def record(delay: float) -> None:
            delays.append(delay)

        async with aio.connect(target) as c:
            c._sleep = record
            return await c.execute(request)

    return asyncio.run(main()), delays


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_execute_retries_with_one_generated_request_id_then_waits_for_the_end(server, flavour):
    server.script("ExecutePipeline", UNAVAILABLE)
    server.script("ExecutePipeline", Fail(grpc.StatusCode.DEADLINE_EXCEEDED))
    server.script("ExecutePipeline", pb.ExecutePipelineResponse(run=run(native="SUBMITTED")))
    server.script("WatchPipelineRun", event(run(native="SUBMITTED")), event(run(native="SUCCEEDED", terminal=True)))
    final, delays = execute(flavour, server.target, pb.ExecutePipelineRequest(pipeline="greet"))
    assert final.native_status == "SUCCEEDED" and final.terminal
    ids = {c.request.request_id for c in server.calls_of("ExecutePipeline")}
    assert len(ids) == 1 and len(next(iter(ids))) == 36  # one generated UUID for all three attempts
    assert_backoff(delays, [1, 2])


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_execute_keeps_a_given_request_id_and_does_not_retry_a_refusal(server, flavour):
    server.script(
        "ExecutePipeline",
        Fail(
            grpc.StatusCode.INVALID_ARGUMENT, reasons.MISSING_PARAMETERS, violations=(("parameters[name]", "required"),)
        ),
    )
    with pytest.raises(grpc.RpcError) as refused:
        execute(flavour, server.target, pb.ExecutePipelineRequest(pipeline="greet", request_id="mine"))
    assert client.missing_parameters(refused.value) == ["name"]
    assert [v.field for v in client.field_violations(refused.value)] == ["parameters[name]"]
    assert server.calls_of("ExecutePipeline")[0].request.request_id == "mine"


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_paging_iterators_follow_next_page_token(server, flavour):
    server.script(
        "ListPipelines", pb.ListPipelinesResponse(pipelines=[{"name": "a"}, {"name": "b"}], next_page_token="p2")
    )
    server.script("ListPipelines", pb.ListPipelinesResponse(pipelines=[{"name": "c"}]))
    server.script("ListPipelineRuns", pb.ListPipelineRunsResponse(runs=[run("x")], next_page_token="n"))
    server.script("ListPipelineRuns", pb.ListPipelineRunsResponse(runs=[run("y")]))
    if flavour == "sync":
        with client.connect(server.target) as c:
            names = [p.name for p in c.list_pipelines(page_size=2)]
            ids = [r.run_id for r in c.list_runs(job_queue="q", page_size=1)]
    else:

        async def main() -> tuple[list[str], list[str]]:
            async with aio.connect(server.target) as c:
                return (
                    [p.name async for p in c.list_pipelines(page_size=2)],
                    [r.run_id async for r in c.list_runs(job_queue="q", page_size=1)],
                )

        names, ids = asyncio.run(main())
    assert names == ["a", "b", "c"] and ids == ["x", "y"]
    assert [c.request.page_token for c in server.calls_of("ListPipelines")] == ["", "p2"]
    assert [c.request.job_queue for c in server.calls_of("ListPipelineRuns")] == ["q", "q"]


def test_error_helpers_read_retry_info_and_tolerate_plain_errors(server):
    server.script("ListPipelines", Fail(grpc.StatusCode.RESOURCE_EXHAUSTED, reasons.AWS_THROTTLED, retry_seconds=3))
    server.script("ListPipelines", Fail(grpc.StatusCode.UNAVAILABLE))  # no details at all
    with client.connect(server.target) as c:
        with pytest.raises(grpc.RpcError) as throttled:
            list(c.list_pipelines())
        with pytest.raises(grpc.RpcError) as plain:
            list(c.list_pipelines())
    assert client.reason(throttled.value) == reasons.AWS_THROTTLED
    assert client.retry_delay(throttled.value) == 3.0
    assert client.error_info(throttled.value).domain == reasons.ERROR_DOMAIN
    assert client.reason(plain.value) == "" and client.retry_delay(plain.value) is None
    assert client.field_violations(plain.value) == [] and client.help_links(plain.value) == []


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_token_is_sent_as_a_bearer_header_on_plaintext(server, flavour):
    server.script("ListPipelines", pb.ListPipelinesResponse())
    server.script("ListPipelines", pb.ListPipelinesResponse())
    if flavour == "sync":
        with client.connect(server.target, token="s3cret") as c:
            list(c.list_pipelines())
    else:

        async def main() -> None:
            async def source() -> str:
                return "from-a-coroutine"

            async with aio.connect(server.target, token="s3cret") as c:
                [p async for p in c.list_pipelines()]
            async with aio.connect(server.target, token_source=source) as c:
                [p async for p in c.list_pipelines()]

        asyncio.run(main())
    seen = [c.metadata.get("authorization") for c in server.calls_of("ListPipelines")]
    assert seen[0] == "Bearer s3cret"
    if flavour == "aio":
        assert seen[1] == "Bearer from-a-coroutine"


def _pki(tmp_path):
    """A CA, a server certificate for 127.0.0.1 and a client certificate, all PEM."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def make(name, issuer=None, issuer_key=None, ca=False, ip=None):
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer or subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if ip:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), critical=False
            )
        cert = builder.sign(issuer_key or key, hashes.SHA256())
        pem_key = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return cert, key, cert.public_bytes(serialization.Encoding.PEM), pem_key

    ca_cert, ca_key, ca_pem, _ = make("test CA", ca=True)
    _, _, server_pem, server_key = make("server", ca_cert.subject, ca_key, ip="127.0.0.1")
    _, _, client_pem, client_key = make("scheduler", ca_cert.subject, ca_key)
    return ca_pem, (server_pem, server_key), (client_pem, client_key)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_mutual_tls_with_a_custom_ca_and_a_token(tmp_path, flavour):
    ca, (server_cert, server_key), (client_cert, client_key) = _pki(tmp_path)
    credentials = grpc.ssl_server_credentials(
        [(server_key, server_cert)], root_certificates=ca, require_client_auth=True
    )
    with ScriptedServer(credentials) as tls_server:
        tls_server.script("ListPipelines", pb.ListPipelinesResponse(pipelines=[{"name": "greet"}]))
        tls_server.script("ListPipelines", pb.ListPipelinesResponse())
        tls = dict(root_certificates=ca, certificate_chain=client_cert, private_key=client_key)
        if flavour == "sync":
            with client.connect(tls_server.target, token_source=lambda: "tok", **tls) as c:
                names = [p.name for p in c.list_pipelines()]
            with (
                client.connect(tls_server.target, root_certificates=ca) as c,  # no client certificate
                pytest.raises(grpc.RpcError) as refused,
            ):
                list(c.list_pipelines(timeout=5))
        else:

            async def main() -> list[str]:
                async with aio.connect(tls_server.target, token_source=lambda: "tok", **tls) as c:
                    found = [p.name async for p in c.list_pipelines()]
                async with aio.connect(tls_server.target, root_certificates=ca) as c:
                    with pytest.raises(grpc.RpcError) as refused:
                        [p async for p in c.list_pipelines(timeout=5)]
                assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
                return found

            names = asyncio.run(main())
    assert names == ["greet"]
    assert tls_server.calls_of("ListPipelines")[0].metadata["authorization"] == "Bearer tok"
    assert len(tls_server.calls_of("ListPipelines")) == 1  # the call without a certificate never arrived
    if flavour == "sync":
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


def test_policy_defaults_are_the_documented_ones():
    policy = client.DEFAULT_POLICY
    assert (policy.initial_backoff, policy.max_backoff, policy.jitter, policy.max_reconnects) == (0.5, 15.0, 0.2, 10)
    assert [policy.backoff(n, lambda lo, hi: 1.0) for n in range(1, 8)] == [0.5, 1, 2, 4, 8, 15, 15]
    assert policy.backoff(1, lambda lo, hi: lo) == 0.4 and policy.backoff(1, lambda lo, hi: hi) == 0.6


def test_cancelling_the_task_that_iterates_cancels_the_stream(server):
    server.script("WatchPipelineRun", event(run(native="RUNNING")), Hang())

    async def main() -> None:
        async with aio.connect(server.target) as c:
            first = asyncio.Event()

            async def follow() -> None:
                async for _ in c.watch_run("r1"):
                    first.set()

            task = asyncio.create_task(follow())
            await asyncio.wait_for(first.wait(), 5)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert await asyncio.to_thread(server.calls_of("WatchPipelineRun")[0].ended.wait, 5)

    asyncio.run(main())


Reported = list[tuple[int, float]]


def watch_against_a_clock(flavour: str, target: str, timeout: float) -> tuple[Reported, list[float], Any]:
    """watch_run with `timeout` on a fake clock that only the (recorded) backoff sleeps advance:
    returns the reconnects reported to on_reconnect, the sleeps made and the error raised."""
    now = [0.0]
    reported: list[tuple[int, float]] = []
    slept: list[float] = []

    def on_reconnect(attempt: int, delay: float, error: BaseException) -> None:
        reported.append((attempt, delay))

    def advance(delay: float) -> None:
        slept.append(delay)
        now[0] += delay

    if flavour == "sync":
        with client.connect(target) as c:
            c._sleep, c._clock = advance, lambda: now[0]
            with pytest.raises(grpc.RpcError) as raised:
                for _ in c.watch_run("r1", timeout=timeout, on_reconnect=on_reconnect):
                    pass
        return reported, slept, raised.value

    async def main() -> Any:
        async def sleep(delay: float) -> None:
            advance(delay)

        async with aio.connect(target) as c:
            c._sleep, c._clock = sleep, lambda: now[0]
            with pytest.raises(grpc.RpcError) as raised:
                async for _ in c.watch_run("r1", timeout=timeout, on_reconnect=on_reconnect):
                    pass
            return raised.value

    error = asyncio.run(main())
    return reported, slept, error


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_watch_timeout_is_a_deadline_across_reconnects(server, flavour):
    """Issue 20 item 7: a watch with a timeout reported reconnects it never waited for (their
    delays capped to nothing once the deadline had passed) and then raised UNAVAILABLE."""
    for _ in range(11):
        server.script("WatchPipelineRun", UNAVAILABLE)
    reported, slept, error = watch_against_a_clock(flavour, server.target, timeout=5.0)
    assert [delay for _, delay in reported] == slept  # every reported reconnect was waited, in full
    assert sum(slept) <= 5.0
    assert 2 <= len(reported) <= 3  # 0.5 + 1 + 2 (+ 4 would pass 5 s) with jitter in [0.8, 1.2]
    assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert "timeout of 5 s" in error.details() and "UNAVAILABLE" in error.details()
