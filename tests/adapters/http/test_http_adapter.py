"""HttpAdapter and http_adapter: URL forms, batching, describe, fingerprint (mock transport)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

import httpx
import numpy as np
import pandas as pd
import pytest

import audit.adapters.http as http_pkg
from audit.adapters.http import HttpAdapter, HttpTransport, http_adapter, parse_endpoint_url
from audit.core.protocols import ModelAdapter
from audit.errors import DataError, EndpointError, ModelSpecError, UsageError


@pytest.mark.parametrize(
    ("url", "protocol", "post_url"),
    [
        ("http://127.0.0.1:5000/invocations", "mlflow", "http://127.0.0.1:5000/invocations"),
        ("https://h/prefix/invocations/", "mlflow", "https://h/prefix/invocations/"),
        ("http://h/v2/models/adult/infer", "oip-v2", "http://h/v2/models/adult/infer"),
        ("http://h/v2/models/adult", "oip-v2", "http://h/v2/models/adult/infer"),
        ("http://h/v2/models/adult/", "oip-v2", "http://h/v2/models/adult/infer"),
        (
            "http://h/v2/models/adult/versions/3",
            "oip-v2",
            "http://h/v2/models/adult/versions/3/infer",
        ),
        (
            "https://gw/ns/x/v2/models/adult/versions/3/infer?key=1",
            "oip-v2",
            "https://gw/ns/x/v2/models/adult/versions/3/infer?key=1",
        ),
        ("http://h/v2/models/adult?key=1", "oip-v2", "http://h/v2/models/adult/infer?key=1"),
    ],
)
def test_urls_pick_the_protocol(url: str, protocol: str, post_url: str) -> None:
    assert parse_endpoint_url(url) == (protocol, post_url)


@pytest.mark.parametrize(
    "url",
    [
        "http://h/predict",
        "http://h/v2/models",
        "http://h/v2/models/adult/versions",
        "http://h/v1/models/adult:predict",
        "ftp://h/invocations",
        "/invocations",
    ],
)
def test_other_urls_are_model_spec_errors_listing_both_forms(url: str) -> None:
    with pytest.raises(ModelSpecError) as caught:
        parse_endpoint_url(url)
    message = str(caught.value)
    assert "/invocations (MLflow scoring server)" in message
    assert "/v2/models/<name>[/versions/<version>]/infer" in message


def test_model_spec_error_hides_credentials() -> None:
    with pytest.raises(ModelSpecError) as caught:
        parse_endpoint_url("http://me:hunter2@h/predict?token=hunter2")
    assert "hunter2" not in str(caught.value)


def test_http_adapter_applies_settings() -> None:
    with http_adapter(
        "http://127.0.0.1:8080/v2/models/adult", batch_size=250, timeout=2.5, max_retries=1
    ) as adapter:
        assert isinstance(adapter, ModelAdapter)
        assert adapter.batch_size == 250
        assert adapter.input_columns is None
        assert adapter.describe() == {
            "kind": "http",
            "protocol": "oip-v2",
            "location": "http://127.0.0.1:8080/v2/models/adult/infer",
            "batch_size": 250,
            "timeout": 2.5,
            "max_retries": 1,
            "auth_headers": [],
            "outputs_asked": ["predict", "predict_proba"],
        }


def test_http_adapter_defaults() -> None:
    with http_adapter("http://127.0.0.1:5000/invocations") as adapter:
        described = adapter.describe()
    assert (described["batch_size"], described["timeout"], described["max_retries"]) == (
        1000,
        30.0,
        3,
    )


@pytest.mark.parametrize("batch_size", [0, -5, True])
def test_batch_size_is_validated(batch_size: int) -> None:
    with pytest.raises(
        UsageError, match="'batch_size' parameter of http_adapter must be an int >= 1"
    ):
        http_adapter("http://h/invocations", batch_size=batch_size)


def test_public_names_are_exported() -> None:
    assert set(http_pkg.__all__) == {
        "DEFAULT_BATCH_SIZE",
        "DEFAULT_CONCURRENCY",
        "DEFAULT_TOKEN_ENV",
        "HttpAdapter",
        "HttpTransport",
        "ProtocolName",
        "http_adapter",
        "parse_endpoint_url",
        "safe_url",
    }
    for name in http_pkg.__all__:
        assert hasattr(http_pkg, name)


# --- against a mock transport ------------------------------------------------------------


class Recorder:
    """A fake MLflow/OIP server answering ``label = row index`` and recording requests."""

    def __init__(self, metadata: dict[str, object] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.metadata = metadata

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.method == "GET":
            if self.metadata is None:
                return httpx.Response(404, json={"error": "no metadata"})
            return httpx.Response(200, json=self.metadata)
        body = json.loads(request.content)
        if "dataframe_split" in body:
            rows = body["dataframe_split"]["data"]
            return httpx.Response(200, json={"predictions": [r[0] for r in rows]})
        data = body["inputs"][0]["data"]
        return httpx.Response(
            200,
            json={
                "outputs": [
                    {"name": "predict", "shape": [len(data)], "datatype": "INT64", "data": data}
                ]
            },
        )


@pytest.fixture
def mock_adapter() -> Iterator[Callable[..., HttpAdapter]]:
    made: list[HttpAdapter] = []

    def make(
        url: str, handler: Callable[[httpx.Request], httpx.Response], **kwargs: object
    ) -> HttpAdapter:
        protocol, post_url = parse_endpoint_url(url)
        transport = HttpTransport(transport=httpx.MockTransport(handler), max_retries=0)
        adapter = HttpAdapter(post_url, protocol=protocol, transport=transport, **kwargs)  # type: ignore[arg-type]
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        adapter.close()


@pytest.mark.parametrize("url", ["http://h/invocations", "http://h/v2/models/m"])
def test_predict_batch_splits_large_inputs_and_keeps_order(
    mock_adapter: Callable[..., HttpAdapter], url: str
) -> None:
    recorder = Recorder()
    adapter = mock_adapter(url, recorder, batch_size=7)
    rows = pd.DataFrame({"i": np.arange(30), "s": ["x"] * 30})
    predictions = adapter.predict_batch(rows)
    assert predictions.labels is not None
    assert predictions.labels.tolist() == list(range(30))
    assert len(recorder.requests) == 5
    assert (adapter.requests_sent, adapter.rows_sent) == (5, 30)


def test_empty_batch_sends_nothing(mock_adapter: Callable[..., HttpAdapter]) -> None:
    recorder = Recorder()
    adapter = mock_adapter("http://h/invocations", recorder)
    assert len(adapter.predict_batch(pd.DataFrame({"i": []}))) == 0
    assert recorder.requests == []


def test_input_columns_select_and_order(mock_adapter: Callable[..., HttpAdapter]) -> None:
    recorder = Recorder()
    adapter = mock_adapter("http://h/invocations", recorder, input_columns=["b", "a"])
    adapter.predict_batch(pd.DataFrame({"a": [1], "b": [2], "c": [3]}))
    assert json.loads(recorder.requests[0].content)["dataframe_split"]["columns"] == ["b", "a"]
    with pytest.raises(
        DataError, match=r"input columns \['b'\] are not in the data; columns are: \['a'\]"
    ):
        adapter.predict_batch(pd.DataFrame({"a": [1]}))


def test_wrong_row_count_is_an_endpoint_error(mock_adapter: Callable[..., HttpAdapter]) -> None:
    adapter = mock_adapter(
        "http://h/invocations", lambda request: httpx.Response(200, json={"predictions": [1] * 9})
    )
    with pytest.raises(
        EndpointError,
        match=r"^http://h/invocations: endpoint returned 9 predictions for 10 rows\.$",
    ):
        adapter.predict_batch(pd.DataFrame({"i": range(10)}))


def test_decode_errors_name_the_endpoint(mock_adapter: Callable[..., HttpAdapter]) -> None:
    adapter = mock_adapter(
        "http://h/invocations?k=1", lambda request: httpx.Response(200, json={"x": 1})
    )
    with pytest.raises(
        EndpointError, match=r"^http://h/invocations: MLflow answer: expected an object"
    ):
        adapter.predict_batch(pd.DataFrame({"i": [1]}))


def test_output_name_is_used(mock_adapter: Callable[..., HttpAdapter]) -> None:
    answer = {
        "outputs": [
            {"name": "a", "shape": [1], "datatype": "INT64", "data": [5]},
            {"name": "b", "shape": [1], "datatype": "INT64", "data": [6]},
        ]
    }
    adapter = mock_adapter(
        "http://h/v2/models/m", lambda request: httpx.Response(200, json=answer), output_name="b"
    )
    predictions = adapter.predict_batch(pd.DataFrame({"i": [1]}))
    assert predictions.labels is not None
    assert predictions.labels.tolist() == [6]
    assert adapter.describe()["output_name"] == "b"


def test_oip_fingerprint_hashes_the_model_metadata(
    mock_adapter: Callable[..., HttpAdapter],
) -> None:
    fingerprints = []
    for metadata in ({"name": "m", "versions": ["1"]}, {"name": "m", "versions": ["2"]}, None):
        recorder = Recorder(metadata)
        adapter = mock_adapter("http://h/v2/models/m/infer?key=1", recorder)
        fingerprint = adapter.fingerprint()
        assert re.fullmatch(r"[0-9a-f]{64}", fingerprint)
        assert adapter.fingerprint() == fingerprint  # computed once
        assert [(r.method, r.url.path) for r in recorder.requests] == [("GET", "/v2/models/m")]
        fingerprints.append(fingerprint)
    assert len(set(fingerprints)) == 3


def test_mlflow_fingerprint_is_the_endpoint_identity(
    mock_adapter: Callable[..., HttpAdapter],
) -> None:
    recorder = Recorder()
    one = mock_adapter("http://a:1/invocations", recorder).fingerprint()
    same = mock_adapter("http://user:pw@a:1/invocations?key=x", recorder).fingerprint()
    other = mock_adapter("http://b:1/invocations", recorder).fingerprint()
    assert one == same != other
    assert recorder.requests == []


def test_describe_and_repr_hide_credentials(
    mock_adapter: Callable[..., HttpAdapter], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAAS_AUDIT_TOKEN", "tok-XYZ-987")
    adapter = http_adapter("http://me:pw-ABC@h/invocations?sig=pw-ABC")
    for text in (json.dumps(adapter.describe()), repr(adapter)):
        assert "pw-ABC" not in text
        assert "tok-XYZ-987" not in text
    assert adapter.describe()["auth_headers"] == ["Authorization"]
