"""What the local-explanations table says about the sum of a row's attributions is true."""

from __future__ import annotations

import pytest

from .conftest import logistic, make_context, run, score_adapter

FEATURES = ["x", "z", "colour", "sex", "proxy"]


@pytest.mark.parametrize(
    ("method", "adds_up"), [("shapley_value_sampling", True), ("feature_ablation", False)]
)
def test_the_caption_claims_completeness_only_for_a_method_that_has_it(synthetic, method, adds_up):
    # Columns act together through the logistic link: ablating one at a time misses that.
    adapter = score_adapter(lambda rows: logistic(2 * rows["x"] + 2 * rows["z"]), "xz")
    context = make_context(synthetic, adapter, features=FEATURES, sensitive=["sex"])
    output = run(context, n_rows=30, repeats=1, compare_with="none", method=method)
    (local,) = [t for t in output.tables if t.title.startswith("Local explanations")]
    baseline = next(t for t in output.tables if t.title.startswith("Cost")).rows
    at_baseline = dict(baseline)["Output at the baseline"]
    gaps = [abs(row[2] - (row[1] - at_baseline)) for row in local.rows]
    if adds_up:
        assert max(gaps) < 1e-5
        assert "add up to about its output minus the baseline's" in local.caption
    else:
        assert max(gaps) > 0.05
        assert "need not add up" in local.caption
