"""A programmable fake AWS endpoint on 127.0.0.1 that counts requests: for behaviour neither
moto nor Stubber shows, such as botocore's retries or STS failing inside a credential refresh."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Request:
    path: str
    body: str
    headers: dict[str, str]


# (HTTP status, headers, body) for a request.
Responder = Callable[[Request], tuple[int, dict[str, str], str]]


@dataclass
class FakeAws:
    responder: Responder
    requests: list[Request] = field(default_factory=list)

    def __enter__(self) -> FakeAws:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(self.path, self.rfile.read(length).decode(), dict(self.headers))
                fake.requests.append(request)
                status, headers, body = fake.responder(request)
                payload = body.encode()
                self.send_response(status)
                for name, value in {**headers, "Content-Length": str(len(payload))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def json_error(status: int, code: str, message: str) -> tuple[int, dict[str, str], str]:
    """A REST-JSON error as AWS Batch sends it."""
    return status, {"x-amzn-ErrorType": code, "Content-Type": "application/json"}, f'{{"message": "{message}"}}'


def query_error(status: int, code: str, message: str) -> tuple[int, dict[str, str], str]:
    """A query-protocol (XML) error as STS sends it."""
    return (
        status,
        {"Content-Type": "text/xml"},
        (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message>"
            "</Error><RequestId>fake</RequestId></ErrorResponse>"
        ),
    )
