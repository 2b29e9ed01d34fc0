"""OIP v2 requests ask for ``predict`` and ``predict_proba`` by name, as MLServer needs.

MLServer's scikit-learn runtime (which KServe's scikit-learn v2 server runs) answers only
``predict`` unless a request names the outputs it wants; the test server answers the same
way (``audit.testing.endpoint``).  A server that refuses to be asked is asked again
without names, once per adapter.  ``test_oip_mlserver.py`` runs the same against a real
MLServer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audit.adapters.http import http_adapter, oip_v2
from audit.core.context import ColumnRoles
from audit.core.protocols import Predictions
from audit.errors import EndpointError
from audit.scoring import score_batches
from audit.testing import serve_model

ROWS = pd.DataFrame({"income": [10.0, 55.0, 30.0, 80.0] * 10, "region": ["n", "s"] * 20})


def _scored(rows: pd.DataFrame) -> Predictions:
    scores = rows["income"].to_numpy(dtype=float) / 100
    return Predictions(labels=(scores >= 0.5).astype(np.int64), scores=scores)


def _labels_only(rows: pd.DataFrame) -> Predictions:
    return Predictions(labels=(rows["income"].to_numpy() >= 50).astype(np.int64))


def test_a_request_names_the_outputs_it_asks_for() -> None:
    body = oip_v2.encode_infer_request(ROWS.head(2), outputs=("predict", "predict_proba"))
    assert body["outputs"] == [{"name": "predict"}, {"name": "predict_proba"}]
    assert oip_v2.asked_outputs(body) == ("predict", "predict_proba")
    assert "outputs" not in oip_v2.encode_infer_request(ROWS.head(2))
    assert oip_v2.asked_outputs({"inputs": []}) == ()


@pytest.mark.parametrize("outputs", ["predict", [{"id": "predict"}], [{"name": 3}]])
def test_malformed_outputs_of_a_request_are_refused(outputs: object) -> None:
    with pytest.raises(EndpointError, match="'outputs' must be a list of objects"):
        oip_v2.asked_outputs({"inputs": [], "outputs": outputs})


def test_the_test_server_answers_as_mlservers_sklearn_runtime() -> None:
    predictions = _scored(ROWS.head(3))
    alone = oip_v2.encode_infer_response(predictions, model_name="m")
    assert [o["name"] for o in alone["outputs"]] == ["predict"]
    both = oip_v2.encode_infer_response(
        predictions, model_name="m", asked=("predict_proba", "predict")
    )
    assert [o["name"] for o in both["outputs"]] == ["predict_proba", "predict"]
    with pytest.raises(EndpointError, match=r"only supports 'predict' and 'predict_proba'"):
        oip_v2.encode_infer_response(predictions, model_name="m", asked=("output0",))
    with pytest.raises(EndpointError, match="cannot give 'predict_proba'"):
        oip_v2.encode_infer_response(
            _labels_only(ROWS.head(3)), model_name="m", asked=("predict_proba",)
        )


def test_scores_come_back_from_a_server_that_answers_predict_alone_unless_asked() -> None:
    with (
        serve_model(_scored) as served,
        http_adapter(served.oip_url, batch_size=10) as adapter,
    ):
        predictions = adapter.predict_batch(ROWS)
        assert served.requests == 4  # nothing refused, nothing sent twice
    expected = _scored(ROWS)
    assert predictions.scores is not None
    np.testing.assert_array_equal(predictions.scores, expected.scores)
    assert predictions.labels is not None
    assert predictions.labels.tolist() == expected.labels.tolist()  # type: ignore[union-attr]
    assert adapter.describe()["outputs_asked"] == ["predict", "predict_proba"]


def test_a_refusal_costs_one_request_however_many_are_in_flight() -> None:
    with (
        serve_model(_labels_only, latency=0.05) as served,
        http_adapter(served.oip_url, batch_size=5, concurrency=4) as adapter,
    ):
        roles = ColumnRoles(target="y", sensitive=("region",), features=("income", "region"))
        frame = ROWS.assign(y=0)
        predictions, _ = score_batches(adapter, frame, roles, concurrency=4)
        # 8 batches; only the first asked for predict_proba, was refused and sent again
        assert served.requests == 8 + 1
    assert predictions.scores is None
    assert predictions.labels is not None
    assert predictions.labels.tolist() == _labels_only(ROWS).labels.tolist()  # type: ignore[union-attr]


def test_asking_for_no_output_sends_no_names() -> None:
    with (
        serve_model(_scored) as served,
        http_adapter(served.oip_url, batch_size=40, outputs=()) as adapter,
    ):
        predictions = adapter.predict_batch(ROWS)
        assert served.requests == 1
    assert predictions.scores is None  # the server's choice: predict alone
    assert "outputs_asked" not in adapter.describe()


def test_a_refusal_for_another_reason_is_not_sent_again() -> None:
    with (
        serve_model(_scored, require_token="s3cret") as served,
        http_adapter(served.oip_url, batch_size=40, max_retries=0) as adapter,
    ):
        with pytest.raises(EndpointError, match="HTTP 401"):
            adapter.predict_batch(ROWS)
        assert served.requests == 1  # a 401 is not a refusal of the names asked for


def test_requests_sent_are_in_the_description_though_the_answers_name_no_model() -> None:
    # MLflow answers name no model; the usage record used to appear only when one did
    with (
        serve_model(_scored) as served,
        http_adapter(served.mlflow_url, batch_size=10) as adapter,
    ):
        assert "usage" not in adapter.describe()  # nothing sent yet
        adapter.predict_batch(ROWS)
        assert served.requests == 4
    assert adapter.describe()["usage"] == {"requests": 4, "models": [], "from_cache": None}
