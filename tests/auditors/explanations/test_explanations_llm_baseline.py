"""``baseline_values`` on a model that is not an LLM: Integrated Gradients start from that row.

The explanations auditor's ``baseline_values`` setting (written for LLM prompt fields) is
general; for a PyTorch model explained with Integrated Gradients the path must start at the
row those values give, not at the median of the encoded inputs, or the report's baseline
table would name a row the attributions were not measured from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audit.auditors.explanations import ExplanationsConfig
from audit.auditors.explanations.measure import measure

from .conftest import make_context
from .test_explanations_gradients import FEATURES, _adapter

pytest.importorskip("captum")


def test_integrated_gradients_start_from_the_baseline_values(synthetic: pd.DataFrame) -> None:
    adapter = _adapter(synthetic, device="cpu")
    context = make_context(synthetic, adapter, features=FEATURES, sensitive=["sex"])
    values = {"x": 2.5, "sex": "M"}
    settings = ExplanationsConfig(
        compare_with="none", n_rows=40, adverse_per_group=0, baseline_values=values, ig_steps=200
    )
    measured = measure(context, settings, FEATURES)
    assert measured.explained.method == "integrated_gradients"
    # the baseline row, built here: the given values, else the median or most frequent value
    row = {
        "x": 2.5,
        "z": float(synthetic["z"].median()),
        "colour": synthetic["colour"].mode()[0],
        "sex": "M",
        "proxy": synthetic["proxy"].mode()[0],
    }
    expected = adapter.predict_batch(pd.DataFrame([row])[FEATURES]).scores
    assert expected is not None
    scores = adapter.predict_batch(synthetic.iloc[measured.plan.rows()][FEATURES]).scores
    assert measured.explained.baseline["x"] == "2.5 (baseline_values)"
    # completeness: each row's attributions add up to its score minus the baseline row's
    np.testing.assert_allclose(
        measured.explained.primary.sum(axis=1), np.asarray(scores) - expected[0], atol=1e-3
    )
