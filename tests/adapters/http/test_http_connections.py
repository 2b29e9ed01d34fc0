"""Connections are reused: many requests in flight never reconnect between rounds."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from audit.adapters.http.transport import HttpTransport


class _Counting(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # 32 clients connect at once; the default backlog is 5

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.connections = 0
        self.barrier: threading.Barrier | None = None
        self.lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Counting

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections += 1

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.server.barrier is not None:
            self.server.barrier.wait(timeout=30)  # every request of a round is in flight
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"[]")


@pytest.fixture
def counting() -> Iterator[_Counting]:
    server = _Counting()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("in_flight", [8, 32])
def test_rounds_of_requests_in_flight_reuse_their_connections(counting, in_flight):
    counting.barrier = threading.Barrier(in_flight)
    url = f"http://127.0.0.1:{counting.server_address[1]}/invocations"
    with HttpTransport(max_retries=0) as transport, ThreadPoolExecutor(in_flight) as pool:
        for _ in range(3):
            answers = list(pool.map(lambda _: transport.post_json(url, {}), range(in_flight)))
            assert answers == [[]] * in_flight
    assert counting.connections == in_flight
