"""The thread that runs a local test server, and how it stops (shared by the test servers)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from audit.core.closing import Closing

__all__ = ["LocalHTTPServer", "LocalServer", "TimedHandler", "send_json", "wait_until"]

LISTEN_BACKLOG = 128
"""Connections the kernel queues before the server accepts them."""


class LocalHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server for tests: daemon threads, and a backlog for bursts.

    ``socketserver`` listens with a backlog of 5: when a client opens more connections
    at once (16 requests in flight), the kernel drops the extra SYNs and those clients
    wait one second for the retransmission before their first request is even sent.
    """

    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG


class TimedHandler(BaseHTTPRequestHandler):
    """A request handler that notes when each request came: its first line was read.

    A served model's latency runs from there, reading and parsing the body included: a
    stand-in that started its clock after parsing answered a burst of 16 requests of
    500 rows up to 21 ms later than its latency (each body waited for the others'
    parsing), and a benchmark charged that to the client.
    """

    arrived: float = 0.0
    """``time.monotonic()`` when the current request's first line was read."""

    def parse_request(self) -> bool:
        """Note the arrival, then parse the request line and headers as usual."""
        self.arrived = time.monotonic()
        return super().parse_request()


class LocalServer(Closing):
    """Serves ``server`` from a daemon thread until closed; a context manager.

    Parameters
    ----------
    server:
        The bound server to run.
    name:
        The thread's name (``None``: Python's default).
    poll_interval:
        Seconds between checks for a shutdown request.
    """

    def __init__(
        self, server: ThreadingHTTPServer, *, name: str | None = None, poll_interval: float = 0.5
    ) -> None:
        self._server = server
        self._closed = False
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": poll_interval},
            name=name,
            daemon=True,
        )
        self._thread.start()

    def close(self) -> None:
        """Stop serving and release the port; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def send_json(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: Any,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Answer ``handler``'s request with ``body`` as JSON (bytes are sent as they are).

    A ``Content-Type`` in ``headers`` replaces ``application/json``.
    """
    raw = body if isinstance(body, bytes) else json.dumps(body, allow_nan=False).encode()
    handler.send_response(status)
    if not any(name.lower() == "content-type" for name in headers or {}):
        handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(raw)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(raw)


def wait_until(due: float) -> None:
    """Sleep until ``due`` (``time.monotonic()`` seconds); return at once if it has passed.

    The test servers answer a request ``latency`` seconds after it came
    (:attr:`TimedHandler.arrived`), their own parsing and computing included, as a served
    model's latency includes them.
    """
    wait = due - time.monotonic()
    if wait > 0:
        time.sleep(wait)
