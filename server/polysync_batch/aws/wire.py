"""AWS calls on the hot paths without botocore's per-call pipeline, for CPU: the event queue's
SQS calls (ReceiveMessage, DeleteMessageBatch, ChangeMessageVisibilityBatch; `SqsWire`) and AWS
Batch's DescribeJobs and ListJobs (`BatchWire`: every run look-up, the watch poller, the feed's
discovery). botocore's request path (endpoint rules, ~10 events emitted per call, its HTTP stack,
SigV4Auth over email.message headers, the model-driven parser) cost 2.9 ms of CPU per SQS call,
this path 0.49 ms (bench/sqs_receive.py; bench/README.md "The event queue's SQS calls"); for a
DescribeJobs of one job see bench/README.md "DescribeJobs without botocore's pipeline".

One class (`AwsWire`) holds what both services share: the SigV4 signature (byte for byte what
botocore.auth.SigV4Auth computes, tests/adapters/test_sqs_wire.py and test_batch_wire.py compare
them), HTTP/1.1 keep-alive over http.client, the standard retry mode, botocore's error parser and
exception classes, the metrics and the deadline bound. What differs is data (`WireProtocol`):
- SQS speaks AWS JSON 1.0: `POST /` with `x-amz-target: AmazonSQS.<Operation>` (and
  `x-amzn-query-mode`), content type application/x-amz-json-1.0;
- AWS Batch speaks rest-json: `POST /v1/describejobs`, `POST /v1/listjobs` (the operation's
  requestUri in botocore's model), content type application/json, signing name `batch`.
Both send the call's parameters as JSON and read the answer's JSON. For Batch the answer is
shaped as botocore's rest-json parser shapes it: only the members the model knows, no JSON nulls
(DescribeJobs' and ListJobs' output shapes have no timestamp, blob, header-bound or renamed
member, so nothing else is transformed: longs stay epoch milliseconds; an operation whose output
has such a member is parsed by botocore's own parser instead). SQS answers are the JSON as sent.

What stays botocore's, so the rest of the service sees what a boto3 client would give it:
- the endpoint, region and timeouts of the platform's client (`endpoint_url` of the emulator
  included), and the session's credentials (refreshable: `get_frozen_credentials()` on every
  attempt, as botocore's signer does);
- the standard retry mode's conditions and backoff (`botocore.retries.standard`), up to the
  client's `total_max_attempts`;
- errors: botocore's own JSON parser turns an error answer into the response dict botocore
  gives, raised as the client's modeled exception class (a `ClientError`); network failures as
  botocore's exception classes (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError,
  ConnectionClosedError, SSLError), so aws/errors.py maps them unchanged;
- attempts are recorded into the platform's AWS call metrics like every client's
  (aws/clients.record_attempt), and bounded by the caller's deadline (domain/deadline.py:
  `check()` before each attempt, `remaining()` bounds its read timeout, as
  aws/clients.bound_by_deadline does for the boto3 clients).

Not covered: an HTTP(S) proxy or a client certificate for the endpoint (`AwsWire.of` answers None
then, and the boto3 client is used); botocore's client-side parameter validation (the service
builds these requests itself); botocore's retry quota (a client-wide budget of retries) and the
legacy / adaptive retry modes (the standard mode's conditions are used; aws/clients.py gives Batch
no wire unless `retry_mode` is standard, the event queue's SQS calls use it whatever it says).

Tracing: this path makes no span. The SQS calls are made for no RPC (background polls). Batch's
calls are, so while botocore is instrumented (tracing on, observability/tracing.py) aws/batch.py
sends them through the boto3 client, whose instrumentation makes the `Batch.DescribeJobs` CLIENT
span under the RPC's span, and the poller's root spans (`botocore_traced()`). Kept rather than
emitting that span here: a copy of the instrumentation's span (its name, attributes, error
status) made by hand would drift from it; with tracing on the CPU saving is given up instead.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import select
import ssl
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import FunctionType
from typing import Any, Self
from urllib.parse import quote, urlsplit

import botocore
from botocore.client import BaseClient
from botocore.exceptions import (
    BotoCoreError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
    SSLError,
)
from botocore.httpsession import get_cert_path
from botocore.parsers import create_parser
from botocore.retries import standard
from botocore.utils import normalize_url_path

from polysync_batch.domain import deadline

log = logging.getLogger(__name__)

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class WireProtocol:
    """How one service's calls go on the wire: its signing name, the content type, and either an
    `x-amz-target` prefix (AWS JSON: every call is `POST /`) or, without one, rest-json (each
    call POSTs to its operation's requestUri). `shaped`: answers are trimmed to the output shape
    as botocore's parser trims them."""

    service: str
    content_type: str
    target_prefix: str | None = None
    shaped: bool = False


SQS = WireProtocol("sqs", "application/x-amz-json-1.0", target_prefix="AmazonSQS")
BATCH = WireProtocol("batch", "application/json", shaped=True)
CONTENT_TYPE = SQS.content_type  # bench/sqs_receive.py


class AwsWire:
    """One service's calls for one platform, callable like the boto3 client's methods they
    replace; thread-safe (each call takes a kept connection of its own). Blocking: run it in the
    executor. Subclasses name the calls (`SqsWire`, `BatchWire`); `PROTOCOL` says how they go."""

    PROTOCOL: WireProtocol

    def __init__(
        self,
        client: Any,
        credentials: Any,
        *,
        verify: bool | str = True,
        max_attempts: int = 3,
        record_attempt: Callable[..., None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        protocol = self.PROTOCOL
        self._service = protocol.service
        meta = client.meta
        self._url = meta.endpoint_url
        url = urlsplit(self._url)
        self._scheme = url.scheme
        self._address = (url.hostname or "", url.port or _DEFAULT_PORTS.get(url.scheme, 80))
        # The Host header as botocore signs it: lower case, without a default port.
        host = f"[{url.hostname}]" if ":" in (url.hostname or "") else url.hostname or ""
        self._host = host if url.port in (None, _DEFAULT_PORTS.get(url.scheme)) else f"{host}:{url.port}"
        self._base_path = url.path or ""
        self._region = meta.region_name
        self._credentials = credentials
        self._connect_timeout = meta.config.connect_timeout
        self._read_timeout = meta.config.read_timeout
        self._idle: deque[http.client.HTTPConnection] = deque()
        self._max_idle = meta.config.max_pool_connections
        self._ssl = _ssl_context(verify) if self._scheme == "https" else None
        self._service_model = meta.service_model
        self._exceptions = client.exceptions
        self._parser = create_parser(self._service_model.protocol)
        self._query_mode = self._service_model.is_query_compatible
        self._operations: dict[str, _Operation] = {}  # what each operation sends and how it is read
        self._retry = standard.RetryPolicy(
            retry_checker=standard.StandardRetryConditions(max_attempts=max_attempts),
            retry_backoff=standard.ExponentialBackoff(
                service_name=self._service,
                throttling_detector=standard.ThrottlingErrorDetector(standard.RetryEventAdapter()),
            ),
        )
        self._record_attempt = record_attempt  # (operation, seconds, status=, code=, exception=)
        self._sleep = sleep
        self._verify, self._max_attempts = verify, max_attempts
        self._signing_key: tuple[str, str, bytes] = ("", "", b"")  # (secret, day, key): one a day
        self._user_agent = f"polysync-batch {type(self).__name__} Botocore/{botocore.__version__}"

    @classmethod
    def of(
        cls, client: Any, credentials: Any, *, max_attempts: int, record_attempt: Callable[..., None] | None = None
    ) -> Self | None:
        """The path for the platform's boto3 `client`, or None where it cannot send as that
        client would (an HTTP(S) proxy, a client certificate): the client is used then."""
        try:
            session = client._endpoint.http_session  # what botocore resolved: proxies, verify, cert
            proxy = session._proxy_config.proxy_url_for(client.meta.endpoint_url)
            verify, cert = session._verify, session._cert_file
        except AttributeError:  # another botocore: keep the client rather than guess
            log.warning("botocore %s: %s calls go through the boto3 client", botocore.__version__, cls.__name__)
            return None
        if proxy or cert or urlsplit(client.meta.endpoint_url).scheme not in _DEFAULT_PORTS:
            return None
        return cls(client, credentials, verify=verify, max_attempts=max_attempts, record_attempt=record_attempt)

    @property
    def credentials(self) -> Any:
        return self._credentials

    def settings(self) -> dict[str, Any]:
        """What another process needs to send as this wire does (aws/event_ingest.py), less
        the credentials."""
        return {
            "endpoint_url": self._url,
            "region": self._region,
            "verify": self._verify,
            "max_attempts": self._max_attempts,
            "connect_timeout": self._connect_timeout,
            "read_timeout": self._read_timeout,
        }

    def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """One operation: its answer as botocore parses it (with ResponseMetadata), or the
        exception botocore would raise, after the standard retry mode's attempts."""
        op = self._operations.get(operation) or self._operation(operation)
        body = json.dumps(params, separators=(",", ":")).encode()
        attempt = 1
        while True:
            read_timeout = self._read_timeout
            left = deadline.remaining()
            if left is not None:  # as aws/clients.bound_by_deadline does for every boto3 client
                deadline.check(operation)
                read_timeout = min(read_timeout, left)
            headers = self._signed(operation, body)
            started = time.perf_counter()
            try:
                status, answer_headers, answer = self._send(op.path, headers, body, read_timeout)
            except (BotoCoreError, OSError) as error:
                self._record(operation, time.perf_counter() - started, exception=error)
                status, answer_headers, answer, failure = 0, {}, b"", error
            else:
                failure = None
                if status < 300:
                    self._record(operation, time.perf_counter() - started, status=status)
                    result = self._result(op, status, answer_headers, answer)
                    result["ResponseMetadata"] = {
                        "RequestId": answer_headers.get("x-amzn-requestid", ""),
                        "HTTPStatusCode": status,
                        "HTTPHeaders": answer_headers,
                        "RetryAttempts": attempt - 1,
                    }
                    return result
            parsed = None
            if failure is None:
                parsed = self._parse(op, status, answer_headers, answer)
                code = parsed.get("Error", {}).get("Code")
                self._record(operation, time.perf_counter() - started, status=status, code=code)
            context = standard.RetryContext(
                attempt_number=attempt,
                operation_model=op.model,
                parsed_response=parsed,
                http_response=_Answer(status, answer_headers) if failure is None else None,
                caught_exception=failure,
            )
            if not self._retry.should_retry(context):
                if failure is not None:
                    raise failure
                # As botocore's retry handler leaves it (MaxAttemptsReached when retries ran out).
                parsed["ResponseMetadata"].update(context.get_retry_metadata(), RetryAttempts=attempt - 1)
                error_info = parsed.get("Error", {})
                # As botocore's client: a query-compatible service's modeled errors are named by
                # their shape (SQS's compatibility hook), else by the error code.
                code = error_info.get("QueryErrorCode") or error_info.get("Code")
                raise self._exceptions.from_code(code)(parsed, operation)
            self._sleep(self._retry.compute_retry_delay(context))
            attempt += 1

    # -- what each operation sends and how its answer is read -----------------------------------

    def _operation(self, operation: str) -> _Operation:
        model = self._service_model.operation_model(operation)
        protocol = self.PROTOCOL
        if protocol.target_prefix is not None:  # AWS JSON: every call to the endpoint's path
            path, target = self._base_path or "/", f"{protocol.target_prefix}.{operation}"
        else:  # rest-json: the operation's requestUri, after the endpoint's path (as botocore joins them)
            uri = model.http["requestUri"]
            if "{" in uri or model.http.get("method", "POST") != "POST":
                raise ValueError(f"{operation}: only POST without URI parameters goes over the wire")
            path, target = self._base_path.rstrip("/") + uri, None
        shape = _compile(model.output_shape) if protocol.shaped and model.output_shape is not None else _AS_SENT
        made = _Operation(model, quote(normalize_url_path(path), safe="/~"), target, shape)
        self._operations[operation] = made
        return made

    def _result(self, op: _Operation, status: int, headers: dict[str, str], answer: bytes) -> dict[str, Any]:
        if op.shape is None:  # an output botocore transforms beyond trimming: its own parser
            return self._parse(op, status, headers, answer)
        result = json.loads(answer) if answer else {}
        return result if op.shape is _AS_SENT else _shaped(op.shape, result)

    # -- one attempt -----------------------------------------------------------------------------

    def _send(
        self, path: str, headers: dict[str, str], body: bytes, read_timeout: float
    ) -> tuple[int, dict[str, str], bytes]:
        connection = self._connection()
        try:
            connection.sock.settimeout(read_timeout)
            connection.putrequest("POST", path, skip_host=True, skip_accept_encoding=True)
            for name, value in headers.items():
                connection.putheader(name, value)
            connection.endheaders(body)
            response = connection.getresponse()
            answer = response.read()
        except ssl.SSLError as error:
            connection.close()
            raise SSLError(endpoint_url=self._url, error=error) from error
        except TimeoutError as error:
            connection.close()
            raise ReadTimeoutError(endpoint_url=self._url, error=error) from error
        except (OSError, http.client.HTTPException) as error:  # a reset, a close, a broken answer
            connection.close()
            raise ConnectionClosedError(endpoint_url=self._url, error=error) from error
        if response.will_close or len(self._idle) >= self._max_idle:
            connection.close()
        else:
            self._idle.append(connection)
        return response.status, {name.lower(): value for name, value in response.getheaders()}, answer

    def _connection(self) -> http.client.HTTPConnection:
        """A kept connection the server has not closed meanwhile, else a new one."""
        while self._idle:
            try:
                connection = self._idle.pop()
            except IndexError:  # another thread took the last one
                break
            if connection.sock is not None and not select.select([connection.sock], [], [], 0)[0]:
                return connection
            connection.close()  # readable while idle: closed by the server (or garbage)
        host, port = self._address
        if self._ssl is not None:
            connection = http.client.HTTPSConnection(host, port, timeout=self._connect_timeout, context=self._ssl)
        else:
            connection = http.client.HTTPConnection(host, port, timeout=self._connect_timeout)
        try:
            connection.connect()
        except ssl.SSLError as error:
            raise SSLError(endpoint_url=self._url, error=error) from error
        except TimeoutError as error:
            raise ConnectTimeoutError(endpoint_url=self._url, error=error) from error
        except OSError as error:
            raise EndpointConnectionError(endpoint_url=self._url, error=error) from error
        return connection

    def _signed(self, operation: str, body: bytes) -> dict[str, str]:
        """The request's headers with AWS Signature Version 4 (what botocore.auth.SigV4Auth
        computes for the same request; tests/adapters/test_sqs_wire.py and test_batch_wire.py compare them)."""
        if self._credentials is None:
            raise NoCredentialsError()
        credentials = self._credentials.get_frozen_credentials()  # refreshes when due
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        day = stamp[:8]
        op = self._operations.get(operation) or self._operation(operation)
        signed = {"content-type": self.PROTOCOL.content_type, "host": self._host, "x-amz-date": stamp}
        if op.target is not None:
            signed["x-amz-target"] = op.target
        if self._query_mode:
            signed["x-amzn-query-mode"] = "true"
        if credentials.token:
            signed["x-amz-security-token"] = credentials.token
        names = sorted(signed)
        canonical = "\n".join(
            (
                "POST",
                op.path,
                "",
                "".join(f"{name}:{' '.join(signed[name].split())}\n" for name in names),
                ";".join(names),
                hashlib.sha256(body).hexdigest(),
            )
        )
        scope = f"{day}/{self._region}/{self._service}/aws4_request"
        to_sign = f"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        signature = hmac.new(self._key(credentials.secret_key, day), to_sign.encode(), hashlib.sha256).hexdigest()
        signed["authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={credentials.access_key}/{scope}, "
            f"SignedHeaders={';'.join(names)}, Signature={signature}"
        )
        signed["content-length"] = str(len(body))
        signed["user-agent"] = self._user_agent
        return signed

    def _key(self, secret: str, day: str) -> bytes:
        kept_secret, kept_day, key = self._signing_key
        if kept_secret != secret or kept_day != day:
            key = f"AWS4{secret}".encode()
            for part in (day, self._region, self._service, "aws4_request"):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            self._signing_key = (secret, day, key)
        return key

    def _parse(self, op: _Operation, status: int, headers: dict[str, str], answer: bytes) -> dict[str, Any]:
        """An answer as botocore parses it; for an error, Error.Code from `__type` (or the query
        error header, or rest-json's x-amzn-errortype), Message, ResponseMetadata with the status."""
        return self._parser.parse(
            {"status_code": status, "headers": headers, "body": answer, "context": {"operation_name": op.model.name}},
            op.model.output_shape,
        )

    def _record(self, operation: str, seconds: float, **outcome: Any) -> None:
        if self._record_attempt is not None:
            self._record_attempt(operation, seconds, **outcome)


class SqsWire(AwsWire):
    """The event queue's SQS calls (aws/event_queue.py), with boto3's names and parameters."""

    PROTOCOL = SQS

    def receive_message(self, **params: Any) -> dict[str, Any]:
        return self.call("ReceiveMessage", params)

    def delete_message_batch(self, **params: Any) -> dict[str, Any]:
        return self.call("DeleteMessageBatch", params)

    def change_message_visibility_batch(self, **params: Any) -> dict[str, Any]:
        return self.call("ChangeMessageVisibilityBatch", params)


class BatchWire(AwsWire):
    """AWS Batch's read calls of aws/batch.py, with boto3's names and parameters."""

    PROTOCOL = BATCH

    def describe_jobs(self, **params: Any) -> dict[str, Any]:
        return self.call("DescribeJobs", params)

    def list_jobs(self, **params: Any) -> dict[str, Any]:
        return self.call("ListJobs", params)


def botocore_traced() -> bool:
    """Whether botocore's calls are instrumented (tracing on: observability/tracing.py patches
    BaseClient._make_api_call); a call that must make its span then goes through boto3."""
    # type(), not isinstance(): a wrapt wrapper passes itself off as the function it wraps.
    return type(BaseClient.__dict__.get("_make_api_call")) is not FunctionType


@dataclass(frozen=True)
class _Operation:
    model: Any  # botocore's OperationModel
    path: str  # the request's path, as signed and sent
    target: str | None  # x-amz-target, for AWS JSON
    shape: Any  # how its answer is read: _AS_SENT, a compiled output shape, or None (botocore's parser)


_AS_SENT: Any = object()  # the answer's JSON as it came


def _compile(shape: Any) -> Any:
    """What botocore's JSON parser keeps of a value of `shape`, as nested data `_shaped` walks:
    a structure is {member: its compiled shape} (only modeled members; a scalar is _LEAF), a list
    ("list", member), a map ("map", value). None for a shape the parser transforms otherwise
    (timestamp, blob, document, union, a renamed or header-bound member): the caller uses
    botocore's parser then. Recursive shapes are refused the same way."""
    return _compile_in(shape, ())


_SCALARS = frozenset({"string", "integer", "long", "boolean", "float", "double"})
_LEAF: Any = object()  # a scalar: kept as JSON gives it (botocore's JSON parser does not convert it)


def _compile_in(shape: Any, within: tuple[str, ...]) -> Any:
    kind = shape.type_name
    if kind in _SCALARS:
        return _LEAF
    if shape.name in within:
        return None
    within = (*within, shape.name)
    if kind == "list":
        member = _compile_in(shape.member, within)
        return None if member is None else ("list", member)
    if kind == "map":
        value = _compile_in(shape.value, within)
        return None if value is None or shape.key.type_name != "string" else ("map", value)
    if kind != "structure" or shape.is_document_type or getattr(shape, "is_tagged_union", False):
        return None
    members: dict[str, Any] = {}
    for name, member in shape.members.items():
        if member.serialization.get("name", name) != name or member.serialization.get("location"):
            return None
        compiled = _compile_in(member, within)
        if compiled is None:
            return None
        members[name] = compiled
    return members


def _shaped(shape: Any, value: Any) -> Any:
    """`value` as botocore's JSON parser shapes it: unmodeled members and JSON nulls left out."""
    if shape is _LEAF or value is None:
        return value
    if type(shape) is dict:
        return {
            name: item if (sub := shape[name]) is _LEAF else _shaped(sub, item)
            for name, item in value.items()
            if item is not None and name in shape
        }
    kind, inner = shape
    if kind == "list":
        return value if inner is _LEAF else [_shaped(inner, item) for item in value]
    return value if inner is _LEAF else {key: _shaped(inner, item) for key, item in value.items()}


class _Answer:
    """What botocore's retry checkers read of an HTTP answer."""

    __slots__ = ("headers", "status_code")

    def __init__(self, status_code: int, headers: dict[str, str]) -> None:
        self.status_code = status_code
        self.headers = headers


def _ssl_context(verify: bool | str) -> ssl.SSLContext:
    """As botocore verifies: its CA bundle (or the configured one), or not at all (verify=False)."""
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=get_cert_path(verify))
