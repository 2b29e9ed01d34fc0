"""The ``torchserve`` preset against an endpoint whose handler returns its label as a ``str``.

TorchServe 0.12.0 sends a handler's Python ``str`` back as its bare UTF-8 bytes with no
Content-Type header (checked against a real TorchServe 0.12.0: a handler returning
``">50K"`` is answered ``HTTP/1.1 200``, ``content-length: 4``, body ``>50K``, and no
``content-type``).  The server here answers exactly so, over a real socket.  A REST
config in row mode whose label is the whole answer (``labels: '@'``) reads that text as
the label; any other body that is not JSON, and a text answer anywhere else, is refused.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit.adapters.config import load_config_model
from audit.errors import EndpointError

from .conftest import ADULT

Answer = Callable[[dict[str, object]], tuple[bytes, dict[str, str]]]


def _torchserve_text(row: dict[str, object]) -> tuple[bytes, dict[str, str]]:
    """A handler's ``str`` label, with the headers TorchServe 0.12.0 sends (no Content-Type)."""
    label = ">50K" if float(row["age"]) >= 40 else "<=50K"  # type: ignore[arg-type]
    return label.encode(), {"Cache-Control": "no-cache; no-store, must-revalidate, private"}


@pytest.fixture
def serve() -> Iterator[Callable[[Answer], str]]:
    """Start a local server answering each POSTed JSON row with ``answer(row)``; its URL."""
    servers: list[ThreadingHTTPServer] = []

    def start(answer: Answer) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                row = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                body, headers = answer(row)
                self.send_response(200)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/predictions/adult"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return pd.read_csv(ADULT, nrows=60).drop(columns=["income"])


def _config(tmp_path: Path, url: str, extra: str = "") -> Path:
    path = tmp_path / "torchserve.yaml"
    path.write_text(f"kind: rest\npreset: torchserve\nurl: {url}\n{extra}", encoding="utf-8")
    return path


def test_a_str_label_sent_as_torchserve_sends_it_is_the_label(serve, rows, tmp_path):
    url = serve(_torchserve_text)
    with load_config_model(_config(tmp_path, url)) as adapter:
        predictions = adapter.predict_batch(rows)
    expected = np.where(rows["age"] >= 40, ">50K", "<=50K")
    assert predictions.labels is not None
    assert predictions.labels.tolist() == expected.tolist()
    declared = "positive_label: '>50K'\nnegative_label: '<=50K'\n"
    with load_config_model(_config(tmp_path, url, declared)) as adapter:
        decisions = adapter.predict_batch(rows)
    assert decisions.labels is not None
    assert decisions.labels.tolist() == (rows["age"] >= 40).astype(int).tolist()


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("text/plain; charset=utf-8", b">50K\n"), ("text/plain; charset=latin-1", b"\xe9lev\xe9")],
)
def test_text_plain_is_read_in_its_charset_without_its_line_ending(
    serve, rows, tmp_path, content_type, body
):
    url = serve(lambda row: (body, {"Content-Type": content_type}))
    with load_config_model(_config(tmp_path, url)) as adapter:
        labels = adapter.predict_batch(rows.head(2)).labels
    assert labels is not None
    assert labels.tolist() == [body.decode(content_type.split("=")[1]).rstrip("\n")] * 2


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/html; charset=utf-8", b"<html>proxy login</html>"),  # a proxy's page
        ("application/json", b'{"label": ">50K"'),  # a lying endpoint: JSON cut short
        ("text/plain", b"Internal error\nTraceback (most recent call last):"),
        (None, b""),
        (None, b"\xff\xfe>50K"),  # not UTF-8, and no charset says otherwise
    ],
)
def test_a_body_that_is_neither_json_nor_one_line_of_text_is_refused(
    serve, rows, tmp_path, content_type, body
):
    headers = {} if content_type is None else {"Content-Type": content_type}
    url = serve(lambda row: (body, headers))
    with (
        load_config_model(_config(tmp_path, url)) as adapter,
        pytest.raises(EndpointError, match="HTTP 200 with a body that is not JSON"),
    ):
        adapter.predict_batch(rows.head(1))


@pytest.mark.parametrize(
    "extra",
    [
        "labels: label\n",  # a field of the answer: text has none
        "mode: batch\nbatch_size: 10\nbody: '{{ rows | tojson }}'\n",  # one answer, many rows
    ],
)
def test_text_is_refused_where_the_label_is_not_the_whole_answer_to_one_row(
    serve, rows, tmp_path, extra
):
    url = serve(lambda row: (b">50K", {"Content-Type": "text/plain"}))
    with (
        load_config_model(_config(tmp_path, url, extra)) as adapter,
        pytest.raises(EndpointError, match="HTTP 200 with a body that is not JSON: >50K"),
    ):
        adapter.predict_batch(rows.head(3))


def test_a_json_answer_is_still_read_as_json(serve, rows, tmp_path):
    # TorchServe sends a handler's dict as indented JSON, also without a Content-Type
    url = serve(lambda row: (json.dumps({"label": 1}, indent=2).encode(), {}))
    with load_config_model(_config(tmp_path, url, "labels: label\n")) as adapter:
        labels = adapter.predict_batch(rows.head(2)).labels
    assert labels is not None
    assert labels.tolist() == [1, 1]
