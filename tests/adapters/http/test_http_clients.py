"""Each request borrows its own client; bodies are encoded before they are sent."""

from __future__ import annotations

import json
import ssl
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pandas as pd
import pytest

from audit.adapters.http import HttpAdapter, mlflow
from audit.adapters.http.transport import HttpTransport, encode_json

URL = "http://model.test/invocations"


def _recording(bodies: list[bytes]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        rows = json.loads(request.content)["dataframe_split"]["data"]
        return httpx.Response(200, json={"predictions": [0] * len(rows)})

    return httpx.MockTransport(handler)


def test_post_encoded_sends_the_body_as_it_is_and_counts_rows():
    bodies: list[bytes] = []
    body = b'{"dataframe_split":{"columns":["x"],"data":[[1],[2]]}}'
    with HttpTransport(transport=_recording(bodies), max_retries=0) as transport:
        assert transport.post_encoded(URL, body, rows=2) == {"predictions": [0, 0]}
        assert (transport.requests_sent, transport.rows_sent) == (1, 2)
    assert bodies == [body]


def test_encode_json_is_compact_and_refuses_nan():
    assert encode_json({"a": [1, 2.5, None, "é"]}) == b'{"a":[1,2.5,null,"\\u00e9"]}'
    with pytest.raises(ValueError, match="JSON compliant"):
        encode_json({"a": float("nan")})


def test_the_adapter_sends_the_codec_payload_byte_for_byte():
    rows = pd.DataFrame({"x": [1.5, float("nan"), 3.0], "s": ["a", None, "c"], "n": [1, 2, 3]})
    bodies: list[bytes] = []
    transport = HttpTransport(transport=_recording(bodies), max_retries=0)
    with HttpAdapter(URL, protocol="mlflow", transport=transport, batch_size=2) as adapter:
        assert adapter.predict_batch(rows).labels.tolist() == [0, 0, 0]  # type: ignore[union-attr]
    expected = [
        json.dumps(
            mlflow.encode_dataframe_split(part), allow_nan=False, separators=(",", ":")
        ).encode()
        for part in (rows.iloc[:2], rows.iloc[2:])
    ]
    assert bodies == expected


def test_requests_in_flight_share_one_ssl_context(monkeypatch):
    made: list[Any] = []
    real = ssl.create_default_context

    def counted(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        made.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(ssl, "create_default_context", counted)
    barrier = threading.Barrier(8)

    def handler(request: httpx.Request) -> httpx.Response:
        barrier.wait(timeout=10)  # all 8 in flight at once, each on its own client
        return httpx.Response(200, json=[])

    with (
        HttpTransport(transport=httpx.MockTransport(handler), max_retries=0) as transport,
        ThreadPoolExecutor(8) as pool,
    ):
        answers = list(pool.map(lambda _: transport.post_json(URL, {}), range(8)))
    assert answers == [[]] * 8
    assert len(made) == 1  # loading the CA bundle once per client cost ~40 ms each


def test_a_closed_transport_refuses_requests():
    transport = HttpTransport(transport=_recording([]), max_retries=0)
    transport.close()
    transport.close()  # twice is harmless
    with pytest.raises(RuntimeError, match="closed"):
        transport.post_encoded(URL, b"{}")
