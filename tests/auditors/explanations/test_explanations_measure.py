"""The measuring step's numbers, checked against closed forms without rendering anything.

With feature ablation and one baseline row, a linear score ``w . x`` has the attribution
``w_i * (x_i - b_i)`` on column ``i``: every number below is recomputed from that.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from audit.auditors.explanations import ExplanationsConfig
from audit.auditors.explanations.measure import Measurement, measure

from .conftest import make_context, score_adapter

FEATURES = ["x", "z", "colour", "sex", "proxy"]
W_X, W_Z, W_SEX = 0.3, -0.2, 0.25


def _score(rows: pd.DataFrame) -> np.ndarray:
    return (
        W_X * rows["x"].to_numpy()
        + W_Z * rows["z"].to_numpy()
        + W_SEX * (rows["sex"] == "F").to_numpy()
    )


def _closed_form(data: pd.DataFrame) -> np.ndarray:
    """Per row and column, the exact attribution against the median / most frequent row."""
    sex_base = data["sex"].value_counts().index[0]
    out = np.zeros((len(data), len(FEATURES)))
    out[:, 0] = W_X * (data["x"] - data["x"].median())
    out[:, 1] = W_Z * (data["z"] - data["z"].median())
    out[:, 3] = W_SEX * ((data["sex"] == "F").astype(float) - float(sex_base == "F"))
    return out


@pytest.fixture
def measured(synthetic: pd.DataFrame) -> Measurement:
    context = make_context(
        synthetic, score_adapter(_score, "linear"), features=FEATURES, sensitive=["sex"]
    )
    settings = ExplanationsConfig(
        method="feature_ablation", compare_with="none", n_rows=120, min_group_rows=80
    )
    return measure(context, settings, FEATURES)


def test_global_importance_is_the_mean_absolute_closed_form(measured, synthetic):
    exact = _closed_form(synthetic)
    expected = np.abs(exact[measured.plan.sample]).mean(axis=0)
    np.testing.assert_allclose(measured.importance, expected, atol=1e-9)
    order = np.argsort(-expected, kind="stable")[:3]
    assert measured.overall_top == tuple(FEATURES[i] for i in order)
    assert measured.importance[2] == 0.0 and measured.importance[4] == 0.0


def test_group_numbers_cover_the_sample_and_the_top_up(measured, synthetic):
    exact = _closed_form(synthetic)
    (grouping,) = measured.groupings
    rows = np.concatenate([measured.plan.sample, measured.plan.top_up])
    for group in grouping.groups:
        members = rows[synthetic["sex"].to_numpy()[rows] == group.label.split("=")[-1]]
        assert group.rows == len(members) >= 80
        weights = np.abs(exact[members]).mean(axis=0)
        np.testing.assert_allclose(group.importance, weights, atol=1e-9)
        assert group.sensitive_share == pytest.approx(weights[3] / weights.sum())
    assert grouping.inputs == frozenset({"sex"})
    overall = np.abs(exact[measured.plan.sample]).mean(axis=0)
    assert grouping.sensitive_share == pytest.approx(overall[3] / overall.sum())


def test_adverse_cases_carry_each_row_s_own_attributions(measured, synthetic):
    exact = _closed_form(synthetic)
    assert measured.adverse, "every sex group has adverse decisions"
    for case in measured.adverse:
        row = synthetic.index.get_loc(int(case.row))
        np.testing.assert_allclose(case.attributions, exact[row], atol=1e-9)
        assert case.score == pytest.approx(_score(synthetic.iloc[[row]])[0])
        assert case.values == tuple(synthetic.iloc[row][c] for c in FEATURES)


def test_run_comparisons_match_scipy(synthetic):
    def bumpy(rows: pd.DataFrame) -> np.ndarray:
        return _score(rows) + 0.4 * np.sin(3 * rows["x"].to_numpy() * rows["z"].to_numpy())

    context = make_context(
        synthetic, score_adapter(bumpy, "bumpy"), features=FEATURES, sensitive=["sex"]
    )
    settings = ExplanationsConfig(
        method="shapley_value_sampling", n_samples=3, repeats=3, n_rows=60
    )
    measured = measure(context, settings, FEATURES)
    assert len(measured.runs) == 4
    first = measured.runs[0].importance
    for run in measured.runs[1:]:
        expected = spearmanr(first, run.importance).statistic
        assert run.spearman == pytest.approx(expected)
    assert measured.stability == pytest.approx(min(r.spearman for r in measured.runs[1:]))


def test_the_mean_baseline_compares_each_row_with_the_average_applicant(synthetic):
    """For a model linear in numeric columns, the attribution against the mean row is the
    row's score on the column minus the average score of all applicants on it, the
    second method of Regulation B comment 9(b)(2)-5: it averages to 0 over the data."""
    context = make_context(
        synthetic, score_adapter(_score, "linear"), features=FEATURES, sensitive=["sex"]
    )
    settings = ExplanationsConfig(
        method="feature_ablation", compare_with="none", n_rows=len(synthetic), baseline="mean"
    )
    measured = measure(context, settings, FEATURES)
    assert len(measured.plan.sample) == len(synthetic)
    values = measured.explained.primary[: len(synthetic)]
    x_score = W_X * synthetic["x"].to_numpy()
    np.testing.assert_allclose(values[:, 0], x_score - x_score.mean(), atol=1e-12)
    np.testing.assert_allclose(values[:, :2].mean(axis=0), 0.0, atol=1e-12)
    assert measured.explained.baseline["x"].endswith("(mean)")
    assert measured.explained.baseline["colour"].endswith("(most frequent)")
