"""Attributions land on the columns the model uses, per original column, and add up."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from audit.adapters.sklearn import SklearnAdapter
from audit.auditors.explanations import (
    ColumnSpace,
    ModelForward,
    baseline_row,
    explain_black_box,
)
from audit.core.context import Task

from .conftest import logistic, score_adapter

FEATURES = ["x", "z", "colour", "sex", "proxy"]
METHODS = ["feature_ablation", "shapley_value_sampling", "kernel_shap"]


def _explain(adapter, data, method, *, n_rows=40, n_samples=60, seed=0):
    base, _, _ = baseline_row(data, FEATURES, "median")
    space = ColumnSpace.build(data.loc[: n_rows - 1, FEATURES], base)
    forward = ModelForward(adapter, space, rows_per_call=1000, task=Task.BINARY, positive_label=1)
    values = explain_black_box(forward, method, n_samples=n_samples, seed=seed)
    return values, forward, space, base


@pytest.mark.parametrize("method", METHODS)
def test_a_model_of_one_column_gets_all_attribution_on_it(synthetic, method):
    adapter = score_adapter(lambda rows: logistic(2.0 * rows["x"].to_numpy()), "x only")
    values, _, _, _ = _explain(adapter, synthetic, method)
    importance = np.abs(values).mean(axis=0)
    assert importance[0] > 0.05
    np.testing.assert_allclose(importance[1:], 0.0, atol=1e-6)


@pytest.mark.parametrize("method", ["shapley_value_sampling", "kernel_shap"])
def test_attributions_add_up_to_the_output_minus_the_baseline(synthetic, method):
    def fn(rows):
        colour = rows["colour"].map({"red": 1.0, "green": -1.0, "blue": 0.0}).to_numpy()
        return logistic(rows["x"].to_numpy() * rows["z"].to_numpy() + colour)

    adapter = score_adapter(fn, "interaction")
    values, forward, space, base = _explain(adapter, synthetic, method)
    outputs = forward.predict(space.decode(space.inputs()))
    at_baseline = forward.predict(base)[0]
    np.testing.assert_allclose(values.sum(axis=1), outputs - at_baseline, atol=1e-4)


def test_one_hot_encoded_columns_are_attributed_to_the_original_column(synthetic):
    target = (synthetic["colour"] == "red").astype(int)
    encode = make_column_transformer(
        (OneHotEncoder(), ["colour", "sex", "proxy"]), remainder="passthrough"
    )
    model = make_pipeline(encode, LogisticRegression(C=100.0, max_iter=2000))
    model.fit(synthetic[FEATURES], target)
    values, _, _, _ = _explain(SklearnAdapter(model), synthetic, "feature_ablation")
    assert values.shape == (40, len(FEATURES))
    importance = np.abs(values).mean(axis=0)
    assert FEATURES[int(np.argmax(importance))] == "colour"
    assert importance[2] > 20 * max(importance[0], importance[1], importance[3], importance[4])


def test_rows_and_perturbations_share_model_calls(synthetic):
    adapter = score_adapter(lambda rows: logistic(rows["x"].to_numpy()), "x")
    _, forward, _, _ = _explain(adapter, synthetic, "shapley_value_sampling", n_samples=10)
    # 40 rows x (1 + 10 permutations x 5 columns); Captum evaluates one permutation
    # of every row per forward call (5 perturbations fit in 1000 rows), so 1 + 10 calls.
    assert forward.count.rows == 40 * (1 + 10 * 5)
    assert forward.count.model_calls == 1 + 10


def test_kernel_shap_equals_a_plain_captum_loop_seeded_alike(synthetic):
    import torch
    from captum.attr import KernelShap

    def fn(rows):
        return logistic(rows["x"].to_numpy() - 0.5 * rows["z"].to_numpy())

    adapter = score_adapter(fn, "linear")
    values, _, space, _ = _explain(adapter, synthetic, "kernel_shap", n_rows=5, n_samples=50)

    def forward(inputs):
        rows = space.decode(inputs.detach().numpy())
        return torch.from_numpy(fn(rows))

    inputs, baseline = torch.from_numpy(space.inputs()), torch.from_numpy(space.baseline())
    mask = torch.arange(len(FEATURES)).unsqueeze(0)
    for row in range(5):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            plain = KernelShap(forward).attribute(
                inputs[row : row + 1], baselines=baseline, feature_mask=mask, n_samples=50
            )
        np.testing.assert_allclose(values[row], plain.numpy()[0], atol=1e-5)


def test_missing_values_and_categories_pass_through_unchanged():
    data = pd.DataFrame({"a": [1.0, np.nan, 3.0], "b": pd.Categorical(["u", "v", None])})
    base, described, _ = baseline_row(data, ["a", "b"], "median")
    space = ColumnSpace.build(data, base)
    decoded = space.decode(space.inputs())
    pd.testing.assert_frame_equal(decoded, data.reset_index(drop=True), check_dtype=False)
    assert described["a"] == "2.0 (median)"
    perturbed = space.decode(np.array([[1.0, 3.0]]))
    assert np.isnan(perturbed.loc[0, "a"]) and perturbed.loc[0, "b"] in ("u", "v")
