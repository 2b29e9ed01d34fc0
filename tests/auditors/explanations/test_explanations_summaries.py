"""Ranks, top-k lists and shares treat differences within numerical tolerance as none.

Captum's Kernel SHAP solves its regression in single precision, so a column the model
ignores gets an attribution of about 1e-8 instead of 0.  Ranking such columns by that
noise made a perfectly stable model look unstable (issue 14).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import rankdata, spearmanr

from audit.auditors.explanations import ExplanationsConfig
from audit.auditors.explanations.measure import measure
from audit.auditors.explanations.summaries import (
    TIE_RTOL,
    rank_correlation,
    share,
    tied_ranks,
    top_k,
    top_k_overlap,
)

from .conftest import make_context, metric, run, score_adapter

FEATURES = ["x", "z", "colour", "sex", "proxy"]

# Two runs of Kernel SHAP on a linear model of x and z (issue 14's case): the three
# ignored columns hold single-precision noise in a different order in each run.
RUN_A = np.array([7.833811740390956e-02, 4.838740412320476e-02, 7.3e-09, 8.0e-09, 8.5e-09])
RUN_B = np.array([7.833812490105629e-02, 4.838740697752655e-02, 1.62e-08, 1.09e-08, 5.6e-09])


def _linear(rows: pd.DataFrame) -> np.ndarray:
    return 0.5 + 0.1 * rows["x"].to_numpy() - 0.05 * rows["z"].to_numpy()


def test_kernel_shap_on_a_stable_linear_model_is_perfectly_stable(synthetic):
    context = make_context(
        synthetic, score_adapter(_linear, "linear"), features=FEATURES, sensitive=["sex"]
    )
    output = run(context, method="kernel_shap", n_rows=100, repeats=3)
    stability = metric(output, "attribution_stability", ())
    assert stability.value == pytest.approx(1.0)


def test_noise_ties_are_ties_and_agree_with_scipy_on_tie_corrected_values():
    # Tie-corrected by hand: the noise columns are 0 in both runs.
    exact = spearmanr([0.0783, 0.0484, 0, 0, 0], [0.0783, 0.0484, 0, 0, 0]).statistic
    assert rank_correlation(RUN_A, RUN_B) == pytest.approx(exact) == pytest.approx(1.0)
    np.testing.assert_array_equal(tied_ranks(RUN_A), rankdata([2, 1, 0, 0, 0]))


def test_real_differences_and_noise_ties_together_match_scipy():
    first = np.array([3.0, 2.0, 1e-9, 2e-9, 1.0, 1.0 + 1e-7])
    second = np.array([1.0, 3.0, 2e-9, 1e-9, 2.0, 0.5])
    # Within 1e-5 of the largest value: 1e-9 ~ 2e-9 ~ 0, and 1.0 ~ 1.0 + 1e-7.
    snapped_first = [3.0, 2.0, 0.0, 0.0, 1.0, 1.0]
    snapped_second = [1.0, 3.0, 0.0, 0.0, 2.0, 0.5]
    expected = spearmanr(snapped_first, snapped_second).statistic
    assert rank_correlation(first, second) == pytest.approx(expected)
    np.testing.assert_array_equal(tied_ranks(first), rankdata(snapped_first))


def test_differences_beyond_the_tolerance_are_not_ties():
    values = np.array([1.0, 1.0 - 20 * TIE_RTOL, 0.0])
    np.testing.assert_array_equal(tied_ranks(values), [3.0, 2.0, 1.0])
    assert TIE_RTOL == 1e-5


def test_top_k_leaves_out_columns_without_attribution_and_orders_ties_by_column():
    assert top_k(RUN_A, FEATURES, 4) == ("x", "z")
    assert top_k(RUN_B, FEATURES, 4) == ("x", "z")
    assert top_k(np.array([1.0, 1.0 + 1e-9, 0.5]), ["a", "b", "c"], 2) == ("a", "b")
    assert top_k(np.zeros(3), ["a", "b", "c"], 2) == ()
    assert top_k_overlap((), ()) is None


def test_share_counts_noise_as_none():
    assert share(RUN_A, FEATURES, {"sex"}) == 0.0
    assert share(np.array([3.0, 1.0]), ["a", "b"], {"b"}) == 0.25
    assert share(np.zeros(2), ["a", "b"], {"b"}) is None


def test_the_measured_shares_of_ignored_columns_are_zero_under_kernel_shap(synthetic):
    context = make_context(
        synthetic, score_adapter(_linear, "linear"), features=FEATURES, sensitive=["sex"]
    )
    settings = ExplanationsConfig(method="kernel_shap", n_rows=100, repeats=2)
    measured = measure(context, settings, FEATURES)
    assert measured.importance[3] > 0  # the noise is there ...
    (grouping,) = measured.groupings
    assert grouping.sensitive_share == 0.0  # ... and counts as no reliance
    assert all(g.sensitive_share == 0.0 for g in grouping.groups)


def test_noise_is_no_principal_reason_and_no_contribution():
    from audit.auditors.explanations.reasons import principal_reasons, top_contributions

    values = [0.5, -0.3, "red", "F", "a"]
    row = np.array([0.05, -0.02, -3e-9, -8e-9, 2e-9])
    assert principal_reasons(row, values, FEATURES, 3, {}) == ["z = -0.3 (-0.020)"]
    assert top_contributions(row, values, FEATURES, 4, {}) == [
        "x = 0.5 (+0.050)",
        "z = -0.3 (-0.020)",
    ]
