"""The local scoring server under a burst: backlog, one write per answer, short-lived JSON."""

from __future__ import annotations

import gc
import http.client
import json
import select
import socket
import socketserver
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import pytest

from audit.core.protocols import Predictions
from audit.testing import endpoint, serve_model
from audit.testing._server import LISTEN_BACKLOG, LocalHTTPServer


def _connected(sockets: list[socket.socket], wait: float) -> int:
    """How many non-blocking connects completed their handshake within ``wait`` seconds."""
    time.sleep(wait)
    _, writable, _ = select.select([], sockets, [], 0)
    return sum(1 for s in writable if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0)


def test_a_burst_of_connections_is_queued_before_any_is_accepted():
    # socketserver's backlog of 5: the 7th simultaneous connect waits a second for
    # its SYN to be sent again; 16 requests in flight used to open 16 at once
    server = LocalHTTPServer(("127.0.0.1", 0), socketserver.BaseRequestHandler)
    burst = 64
    assert burst <= LISTEN_BACKLOG
    sockets = [socket.socket() for _ in range(burst)]
    try:
        for client in sockets:
            client.setblocking(False)
            client.connect_ex(server.server_address)
        assert _connected(sockets, wait=0.3) == burst  # none accepted yet
    finally:
        for client in sockets:
            client.close()
        server.server_close()


def test_the_scoring_server_keeps_a_burst_backlog():
    with serve_model(lambda rows: Predictions(labels=np.zeros(len(rows)))) as served:
        assert isinstance(served._server, LocalHTTPServer)
        assert served._server.request_queue_size == LISTEN_BACKLOG


def _predict(rows: pd.DataFrame) -> Predictions:
    return Predictions(labels=np.where(rows["x"] > 0, "yes", "no").astype(object))


def test_an_answer_leaves_in_one_write(monkeypatch):
    writes: list[int] = []
    real = socket.SocketIO.write

    def counted(self: socket.SocketIO, data: Any) -> int | None:
        writes.append(len(data))
        return real(self, data)

    unbuffered = socketserver._SocketWriter.write  # type: ignore[attr-defined]

    def counted_unbuffered(self: Any, data: Any) -> int:
        writes.append(len(data))
        return unbuffered(self, data)  # type: ignore[no-any-return]

    monkeypatch.setattr(socket.SocketIO, "write", counted)
    monkeypatch.setattr(socketserver._SocketWriter, "write", counted_unbuffered)
    with serve_model(_predict, respond="records") as served:
        connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
        body = json.dumps({"dataframe_split": {"columns": ["x"], "data": [[1], [-1]]}})
        for _ in range(2):  # the second on the same kept-alive connection
            writes.clear()
            connection.request("POST", "/invocations", body=body)
            answer = connection.getresponse()
            assert json.loads(answer.read()) == {"predictions": [{"label": "yes"}, {"label": "no"}]}
            assert answer.getheader("Connection") != "close"
            assert len(writes) == 1, writes  # status line, headers and body together
        connection.close()


def test_records_answers_keep_labels_and_scores_in_order():
    def predict(rows: pd.DataFrame) -> Predictions:
        x = rows["x"].to_numpy(dtype=float)
        return Predictions(labels=(x > 0).astype(np.int64), scores=1 / (1 + np.exp(-x)))

    with serve_model(predict, respond="records") as served:
        connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
        body = json.dumps({"dataframe_split": {"columns": ["x"], "data": [[2.0], [-0.5]]}})
        connection.request("POST", "/invocations", body=body)
        answer = json.loads(connection.getresponse().read())
        connection.close()
    assert answer == {
        "predictions": [
            {"label": 1, "probability": 1 / (1 + np.exp(-2.0))},
            {"label": 0, "probability": 1 / (1 + np.exp(0.5))},
        ]
    }


@pytest.mark.parametrize("labels", [[True, False], [np.nan, 1.0]])
def test_labels_that_are_not_strings_or_ints_go_cell_by_cell(labels):
    with serve_model(
        lambda rows: Predictions(labels=np.asarray(labels)), respond="labels"
    ) as served:
        connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
        body = json.dumps({"dataframe_split": {"columns": ["x"], "data": [[1], [2]]}})
        connection.request("POST", "/invocations", body=body)
        answer = json.loads(connection.getresponse().read())
        connection.close()
    expected = [None if isinstance(v, float) and np.isnan(v) else v for v in labels]
    assert answer == {"predictions": expected}


def test_the_parsed_request_is_gone_while_the_answer_waits():
    marker = 987654.321  # a value no other object of this process holds
    waiting = threading.Event()

    def predict(rows: pd.DataFrame) -> Predictions:
        return Predictions(labels=np.zeros(len(rows)))

    def rows_alive() -> int:
        return sum(
            1
            for obj in gc.get_objects()
            if type(obj) is list and len(obj) == 2 and type(obj[0]) is float and obj[0] == marker
        )

    with serve_model(predict, latency=1.0) as served:
        body = json.dumps(
            {"dataframe_split": {"columns": ["x", "s"], "data": [[marker, "a"]] * 50}}
        )

        def send() -> None:
            connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
            connection.request("POST", "/invocations", body=body)
            waiting.set()
            connection.getresponse().read()
            connection.close()

        client = threading.Thread(target=send)
        client.start()
        waiting.wait(5)
        deadline = time.monotonic() + 0.8
        while served.requests == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # the server has parsed the body and sleeps
        alive = rows_alive()
        client.join(10)
    assert served.requests == 1
    assert alive == 0


def test_connections_are_kept_alive_without_nagle(monkeypatch):
    seen: list[int] = []
    setup = endpoint._Handler.setup

    def recorded(self: Any) -> None:
        setup(self)
        seen.append(self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    monkeypatch.setattr(endpoint._Handler, "setup", recorded)
    with serve_model(_predict) as served:
        connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
        body = json.dumps({"dataframe_split": {"columns": ["x"], "data": [[1]]}})
        for _ in range(3):
            connection.request("POST", "/invocations", body=body)
            answer = connection.getresponse()
            assert answer.version == 11  # HTTP/1.1: the connection stays open
            answer.read()
        connection.close()
    assert len(seen) == 1  # three requests, one connection
    assert seen[0] != 0


def _timed_post(port: int) -> float:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = json.dumps({"dataframe_split": {"columns": ["x"], "data": [[1], [-1]]}})
    started = time.monotonic()
    connection.request("POST", "/invocations", body=body)
    connection.getresponse().read()
    elapsed = time.monotonic() - started
    connection.close()
    return elapsed


@pytest.mark.parametrize(
    ("computing", "latency", "delay", "at_least", "below"),
    [
        (0.4, 0.6, 0.0, 0.6, 0.9),  # computing within the latency: answered at 0.6, not 1.0
        (0.4, 0.1, 0.0, 0.4, 0.75),  # computing longer than the latency: answered when done
        (0.0, 0.3, 0.3, 0.6, 0.85),  # a delay fault comes on top of the latency
    ],
)
def test_latency_counts_the_models_own_computing(computing, latency, delay, at_least, below):
    def slow(rows: pd.DataFrame) -> Predictions:
        time.sleep(computing)
        return _predict(rows)

    faults = [endpoint.Fault("delay", seconds=delay)] if delay else None
    with serve_model(slow, latency=latency, faults=faults) as served:
        elapsed = _timed_post(served.port)
    assert at_least <= elapsed < below


def test_the_llm_stand_in_counts_its_computing_in_its_latency(monkeypatch):
    from audit.testing import llm

    real = llm._completion

    def slow(*args: Any) -> Any:
        time.sleep(0.4)
        return real(*args)

    monkeypatch.setattr(llm, "_completion", slow)
    with llm.serve_screener(llm.Screener(latency=0.6)) as served:
        where = urlsplit(served.url)
        connection = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
        body = json.dumps({"messages": [{"role": "user", "content": "age: 39"}]})
        started = time.monotonic()
        connection.request("POST", "/v1/chat/completions", body=body)
        answer = connection.getresponse()
        answer.read()
        elapsed = time.monotonic() - started
        connection.close()
    assert answer.status == 200
    assert 0.6 <= elapsed < 0.9  # answered at the latency, not 0.4 s after it


def _answered_after_first_line(port: int, path: str, body: bytes, body_later: float) -> float:
    """Seconds from sending a request's first line to its answer, the body ``body_later`` on."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        started = time.monotonic()
        connection.sendall(head)
        time.sleep(body_later)
        connection.sendall(body)
        answer = connection.recv(65536)
        elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 200")
    return elapsed


@pytest.mark.parametrize("server", ["scoring", "llm"])
def test_latency_runs_from_the_requests_first_line(server):
    # a served model's latency includes reading and parsing the body: a stand-in that
    # started its clock after parsing answered a burst of large bodies late, and the
    # scoring benchmark charged that lateness to the client
    from audit.testing import llm

    if server == "scoring":
        body = json.dumps({"dataframe_split": {"columns": ["x"], "data": [[1]]}}).encode()
        with serve_model(_predict, latency=0.6) as served:
            elapsed = _answered_after_first_line(served.port, "/invocations", body, 0.3)
    else:
        body = json.dumps({"messages": [{"role": "user", "content": "age: 39"}]}).encode()
        with llm.serve_screener(llm.Screener(latency=0.6)) as screener:
            port = urlsplit(screener.url).port
            assert port is not None
            elapsed = _answered_after_first_line(port, "/v1/chat/completions", body, 0.3)
    assert 0.6 <= elapsed < 0.85  # 0.6 s after the first line, not 0.6 s after the body
