"""The event queue's SQS calls (ReceiveMessage, DeleteMessageBatch, ChangeMessageVisibilityBatch)
without botocore's per-call pipeline, for CPU. With 10 events per ReceiveMessage, botocore's
request path (endpoint rules, ~10 events emitted per call, its HTTP stack, SigV4Auth over
email.message headers, the model-driven parser) cost 2.9 ms of CPU per call, this path 0.49 ms
(bench/sqs_receive.py, one run at load ~2; bench/README.md "The event queue's SQS calls"):
~480 µs less per event received and deleted, half of what ingesting one event cost the server.
This path speaks SQS's AWS JSON 1.0 protocol itself: the body is the call's parameters as JSON,
the answer's JSON is the result, one SigV4 signature over a fixed set of headers, HTTP/1.1
keep-alive over http.client.

What stays botocore's, so the rest of the service sees what a boto3 client would give it:
- the endpoint, region and timeouts of the platform's SQS client (`endpoint_url` of the
  emulator included), and the session's credentials (refreshable: `get_frozen_credentials()` on
  every attempt, as botocore's signer does);
- the standard retry mode's conditions and backoff (`botocore.retries.standard`), up to the
  client's `total_max_attempts`;
- errors: botocore's own JSON parser turns an error answer into the response dict botocore
  gives, raised as the client's modeled exception class (a `ClientError`); network failures as
  botocore's exception classes (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError,
  ConnectionClosedError, SSLError), so aws/errors.py maps them unchanged;
- attempts are recorded into the platform's AWS call metrics like every client's
  (aws/clients.record_attempt), and bounded by the caller's deadline (aws/clients.bound_by_deadline).

Not covered: an HTTP(S) proxy or a client certificate for the endpoint. `SqsWire.of` answers None
then, and the event queue keeps the boto3 client. Also not: botocore's retry quota (a client-wide
budget of retries) and the legacy / adaptive retry modes (the standard mode's conditions are used
whatever `retry_mode` says); tracing spans (these calls are made for no RPC: background polls).
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
from typing import Any
from urllib.parse import quote, urlsplit

import botocore
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

CONTENT_TYPE = "application/x-amz-json-1.0"
SERVICE = "sqs"
_DEFAULT_PORTS = {"http": 80, "https": 443}


class SqsWire:
    """The SQS calls of one platform's event queue, callable like the boto3 client's methods they
    replace (`receive_message(QueueUrl=…, …)`); thread-safe (each call takes a kept connection
    of its own). Blocking: run it in the event queue's threads."""

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
        meta = client.meta
        self._url = meta.endpoint_url
        url = urlsplit(self._url)
        self._scheme = url.scheme
        self._address = (url.hostname or "", url.port or _DEFAULT_PORTS.get(url.scheme, 80))
        # The Host header as botocore signs it: lower case, without a default port.
        host = f"[{url.hostname}]" if ":" in (url.hostname or "") else url.hostname or ""
        self._host = host if url.port in (None, _DEFAULT_PORTS.get(url.scheme)) else f"{host}:{url.port}"
        self._path = quote(normalize_url_path(url.path or "/"), safe="/~")
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
        self._retry = standard.RetryPolicy(
            retry_checker=standard.StandardRetryConditions(max_attempts=max_attempts),
            retry_backoff=standard.ExponentialBackoff(
                service_name=SERVICE,
                throttling_detector=standard.ThrottlingErrorDetector(standard.RetryEventAdapter()),
            ),
        )
        self._record_attempt = record_attempt  # (operation, seconds, status=, code=, exception=)
        self._sleep = sleep
        self._signing_key: tuple[str, str, bytes] = ("", "", b"")  # (secret, day, key): one a day
        self._user_agent = f"polysync-batch sqs_wire Botocore/{botocore.__version__}"

    @classmethod
    def of(
        cls, client: Any, credentials: Any, *, max_attempts: int, record_attempt: Callable[..., None] | None = None
    ) -> SqsWire | None:
        """The path for the platform's boto3 SQS `client`, or None where it cannot send as that
        client would (an HTTP(S) proxy, a client certificate): the client is used then."""
        try:
            session = client._endpoint.http_session  # what botocore resolved: proxies, verify, cert
            proxy = session._proxy_config.proxy_url_for(client.meta.endpoint_url)
            verify, cert = session._verify, session._cert_file
        except AttributeError:  # another botocore: keep the client rather than guess
            log.warning("botocore %s: the event queue uses the boto3 SQS client", botocore.__version__)
            return None
        if proxy or cert or urlsplit(client.meta.endpoint_url).scheme not in _DEFAULT_PORTS:
            return None
        return cls(client, credentials, verify=verify, max_attempts=max_attempts, record_attempt=record_attempt)

    # -- the calls the event queue makes (boto3's names and parameters) --------------------------

    def receive_message(self, **params: Any) -> dict[str, Any]:
        return self.call("ReceiveMessage", params)

    def delete_message_batch(self, **params: Any) -> dict[str, Any]:
        return self.call("DeleteMessageBatch", params)

    def change_message_visibility_batch(self, **params: Any) -> dict[str, Any]:
        return self.call("ChangeMessageVisibilityBatch", params)

    def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """One SQS operation: its answer as botocore parses it (with ResponseMetadata), or the
        exception botocore would raise, after the standard retry mode's attempts."""
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
                status, answer_headers, answer = self._send(headers, body, read_timeout)
            except (BotoCoreError, OSError) as error:
                self._record(operation, time.perf_counter() - started, exception=error)
                status, answer_headers, answer, failure = 0, {}, b"", error
            else:
                failure = None
                if status < 300:
                    self._record(operation, time.perf_counter() - started, status=status)
                    result = json.loads(answer) if answer else {}
                    result["ResponseMetadata"] = {
                        "RequestId": answer_headers.get("x-amzn-requestid", ""),
                        "HTTPStatusCode": status,
                        "HTTPHeaders": answer_headers,
                        "RetryAttempts": attempt - 1,
                    }
                    return result
            parsed = None
            if failure is None:
                parsed = self._parse_error(operation, status, answer_headers, answer)
                code = parsed.get("Error", {}).get("Code")
                self._record(operation, time.perf_counter() - started, status=status, code=code)
            context = standard.RetryContext(
                attempt_number=attempt,
                operation_model=self._service_model.operation_model(operation),
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
                # SQS's modeled errors are named by their shape (botocore's SQS compatibility hook).
                code = error_info.get("QueryErrorCode") or error_info.get("Code")
                raise self._exceptions.from_code(code)(parsed, operation)
            self._sleep(self._retry.compute_retry_delay(context))
            attempt += 1

    # -- one attempt -----------------------------------------------------------------------------

    def _send(self, headers: dict[str, str], body: bytes, read_timeout: float) -> tuple[int, dict[str, str], bytes]:
        connection = self._connection()
        try:
            connection.sock.settimeout(read_timeout)
            connection.putrequest("POST", self._path, skip_host=True, skip_accept_encoding=True)
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
        computes for the same request; tests/adapters/test_sqs_wire.py compares them)."""
        if self._credentials is None:
            raise NoCredentialsError()
        credentials = self._credentials.get_frozen_credentials()  # refreshes when due
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        day = stamp[:8]
        signed = {
            "content-type": CONTENT_TYPE,
            "host": self._host,
            "x-amz-date": stamp,
            "x-amz-target": f"AmazonSQS.{operation}",
        }
        if self._query_mode:
            signed["x-amzn-query-mode"] = "true"
        if credentials.token:
            signed["x-amz-security-token"] = credentials.token
        names = sorted(signed)
        canonical = "\n".join(
            (
                "POST",
                self._path,
                "",
                "".join(f"{name}:{' '.join(signed[name].split())}\n" for name in names),
                ";".join(names),
                hashlib.sha256(body).hexdigest(),
            )
        )
        scope = f"{day}/{self._region}/{SERVICE}/aws4_request"
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
            for part in (day, self._region, SERVICE, "aws4_request"):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            self._signing_key = (secret, day, key)
        return key

    def _parse_error(self, operation: str, status: int, headers: dict[str, str], answer: bytes) -> dict[str, Any]:
        """An error answer as botocore parses it (Error.Code from `__type` or the query error
        header, Message, ResponseMetadata with the HTTP status)."""
        model = self._service_model.operation_model(operation)
        return self._parser.parse(
            {"status_code": status, "headers": headers, "body": answer, "context": {"operation_name": operation}},
            model.output_shape,
        )

    def _record(self, operation: str, seconds: float, **outcome: Any) -> None:
        if self._record_attempt is not None:
            self._record_attempt(operation, seconds, **outcome)


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
