"""moto's HTTP server, in a thread of this process, on 127.0.0.1 only.

Not moto's ThreadedMotoServer: that binds inside its thread (a busy port hangs start() instead
of raising), defaults to 0.0.0.0, prints to stdout and logs every request through werkzeug.
"""

import logging
import threading
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import ThreadedWSGIServer

logger = logging.getLogger(__name__)
HOST = "127.0.0.1"


class _QuietRequestHandler(MotoRequestHandler):
    """Request lines go to this module's logger at DEBUG instead of werkzeug's stderr handler."""

    def log(self, type: str, message: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), message % args)


class _QuietServer(ThreadedWSGIServer):
    def log(self, type: str, message: str, *args: Any) -> None:
        logger.warning(message.rstrip(), *args)


class MotoServer:
    def __init__(self, port: int = 0) -> None:
        """Binds immediately (port 0 picks a free port), so a busy port raises here."""
        app = DomainDispatcherApplication(create_backend_app)
        self._server = _QuietServer(HOST, port, app, handler=_QuietRequestHandler)
        self.port: int = self._server.server_address[1]
        self.endpoint_url = f"http://{HOST}:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # how long stop() may wait for the loop to notice
            name=f"moto-emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, close the listening socket and wait for the server thread."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()
