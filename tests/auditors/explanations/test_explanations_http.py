"""A model served over HTTP is explained in full requests, within the documented bound."""

from __future__ import annotations

import math

import numpy as np

from audit.adapters.http import http_adapter
from audit.core.protocols import Predictions
from audit.testing.endpoint import serve_model

from .conftest import logistic, make_context, run, table

FEATURES = ["x", "z", "colour", "sex", "proxy"]


def _predict(rows):
    scores = logistic(rows["x"].to_numpy() + (rows["colour"] == "red").to_numpy())
    return Predictions(labels=(scores >= 0.5).astype(np.int64), scores=scores)


def test_requests_for_n_rows_stay_within_the_batching_bound(synthetic):
    n_rows, n_samples, batch = 100, 10, 1000
    with serve_model(_predict) as served:
        adapter = http_adapter(served.mlflow_url, batch_size=batch)
        context = make_context(synthetic, adapter, features=FEATURES, sensitive=["sex"])
        served_before = served.requests
        output = run(
            context,
            method="shapley_value_sampling",
            n_rows=n_rows,
            n_samples=n_samples,
            repeats=1,
            compare_with="feature_ablation",
            adverse_per_group=0,
        )
        adapter.close()
        requests = served.requests - served_before
    cost = table(output, "Cost of the explanations")
    explained = cost["Rows explained"][1]
    columns = len(FEATURES)
    # Documented bound: each Captum forward call carries every row under up to
    # rows_per_call // rows perturbations, and is split into requests of `batch` rows.
    per_call = max(1, batch // explained)
    shapley_calls = 1 + n_samples * math.ceil(columns / per_call)
    ablation_calls = 1 + math.ceil(columns / per_call)
    rows_per_forward = explained * per_call
    bound = (shapley_calls + ablation_calls) * math.ceil(rows_per_forward / batch) + 2
    naive = explained * (n_samples * columns + columns)
    assert requests == cost["HTTP requests"][1] == cost["Model calls"][1]
    assert requests <= bound
    assert requests * 50 < naive
    assert cost["Rows evaluated by the model"][1] == served.rows - context.data.shape[0]
