"""Per-applicant principal reasons of adverse decisions (Regulation B comment 9(b)(2)-5).

For a points scorecard ``f = sum_i s_i(x_i)`` the reason value of column ``i`` must be
``s_i(x_i) - mean_b s_i(b_i)`` over the reference applicants ``b``: how far the
applicant's score on the factor fell below the reference applicants' average score on it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audit.auditors.explanations import ExplanationsConfig
from audit.auditors.explanations.applicants import pseudonyms
from audit.auditors.explanations.measure import measure

from .conftest import make_context, metric, rows, run, score_adapter

FEATURES = ["x", "z", "colour", "sex", "proxy"]
COLOUR_POINTS = {"red": 0.2, "green": -0.15, "blue": 0.0}


def _points(data: pd.DataFrame) -> np.ndarray:
    """Per row and column, the scorecard's points; the score is their sum."""
    out = np.zeros((len(data), len(FEATURES)))
    out[:, 0] = 0.1 * data["x"].to_numpy()
    out[:, 1] = 0.08 * data["z"].to_numpy() ** 2
    out[:, 2] = data["colour"].map(COLOUR_POINTS).to_numpy()
    out[:, 3] = np.where(data["sex"] == "F", -0.05, 0.0)
    return out


def _scorecard(rows: pd.DataFrame) -> np.ndarray:
    return 0.45 + _points(rows).sum(axis=1)


@pytest.fixture
def context(synthetic):
    return make_context(
        synthetic, score_adapter(_scorecard, "scorecard"), features=FEATURES, sensitive=["sex"]
    )


def _settings(**extra):
    base = {"method": "feature_ablation", "compare_with": "none", "n_rows": 40}
    return ExplanationsConfig(**(base | extra))


def test_reason_values_are_the_score_below_the_average_of_all_applicants(context, synthetic):
    measured = measure(context, _settings(reason_rows=1000, reason_reference_rows=150), FEATURES)
    found = measured.applicants
    assert found is not None and found.reference == "all_applicants"
    adverse = np.flatnonzero(_scorecard(synthetic) < 0.5)
    np.testing.assert_array_equal(found.rows, adverse)
    assert found.adverse_total == len(adverse) and len(found.reference_rows) == 150
    points = _points(synthetic)
    average = points[found.reference_rows].mean(axis=0)
    np.testing.assert_allclose(found.values, points[adverse] - average, atol=1e-12)
    np.testing.assert_allclose(found.scores, _scorecard(synthetic.iloc[adverse]))
    assert found.reference_score == pytest.approx(
        _scorecard(synthetic.iloc[found.reference_rows]).mean()
    )
    # Principal reasons: the factors furthest below average, only those below it.
    for values, chosen in zip(points[adverse] - average, found.reasons(2), strict=True):
        below = [i for i in np.argsort(values, kind="stable")[:2] if values[i] < -1e-9]
        assert list(chosen) == below


def test_near_cutoff_compares_with_the_approved_applicants_of_lowest_score(context, synthetic):
    settings = _settings(reason_rows=1000, reason_reference="near_cutoff", reason_reference_rows=30)
    found = measure(context, settings, FEATURES).applicants
    assert found is not None
    scores = _scorecard(synthetic)
    approved = np.flatnonzero(scores >= 0.5)
    lowest = np.sort(approved[np.argsort(scores[approved])[:30]])
    np.testing.assert_array_equal(found.reference_rows, lowest)
    assert scores[lowest].max() <= np.sort(scores[approved])[29]
    points = _points(synthetic)
    np.testing.assert_allclose(
        found.values, points[found.rows] - points[lowest].mean(axis=0), atol=1e-12
    )


def test_a_bounded_sample_of_adverse_decisions_is_stated(context, synthetic):
    output = run(context, method="feature_ablation", compare_with="none", reason_rows=25)
    found = metric(output, "share_of_adverse_decisions_with_reasons", ())
    adverse = int((_scorecard(synthetic) < 0.5).sum())
    assert f"sample of 25 of the {adverse} adverse decisions" in found.description
    table = rows(output, "Principal reasons of each adverse decision")
    assert len(table) == 25


def test_the_share_established_counts_decisions_with_a_factor_below_average(synthetic):
    # Approved only when colour is not red AND proxy is not 'a'.  A denied (red, a)
    # applicant stays denied whichever single column is changed, so no column falls
    # below the average: no reason.  (red, b) and (other, a) have one.
    def joint(rows: pd.DataFrame) -> np.ndarray:
        approved = (rows["colour"] != "red") & (rows["proxy"] != "a")
        return np.where(approved, 0.8, 0.3)

    context = make_context(
        synthetic, score_adapter(joint, "joint"), features=FEATURES, sensitive=["sex"]
    )
    output = run(context, method="feature_ablation", compare_with="none", reason_rows=1000)
    adverse = joint(synthetic) < 0.5
    no_reason = ((synthetic["colour"] == "red") & (synthetic["proxy"] == "a")).to_numpy()
    expected = 1 - no_reason.sum() / adverse.sum()
    assert 0.3 < expected < 0.9
    found = metric(output, "share_of_adverse_decisions_with_reasons", ())
    assert found.value == pytest.approx(expected)
    table = rows(output, "Principal reasons of each adverse decision")
    assert sum(r[2].startswith("none") for r in table) == no_reason.sum()


def test_a_constant_model_has_no_reason_for_any_adverse_decision(synthetic):
    context = make_context(
        synthetic,
        score_adapter(lambda r: np.full(len(r), 0.3), "constant"),
        features=FEATURES,
        sensitive=["sex"],
    )
    output = run(context, n_rows=40, reason_rows=50)
    assert metric(output, "share_of_adverse_decisions_with_reasons", ()).value == 0.0


def test_not_requested_is_inconclusive_with_a_reason(context):
    output = run(context, method="feature_ablation", compare_with="none", n_rows=40)
    found = metric(output, "share_of_adverse_decisions_with_reasons", ())
    assert found.value is None and "reason_rows" in (found.reason or "")


def test_applicants_are_pseudonymous_and_no_value_is_shown(context, synthetic):
    output = run(context, method="feature_ablation", compare_with="none", reason_rows=1000)
    table = rows(output, "Principal reasons of each adverse decision")
    adverse = np.flatnonzero(_scorecard(synthetic) < 0.5)
    names = pseudonyms(synthetic, range(len(synthetic)))
    assert [r[0] for r in table] == [names[i] for i in adverse]
    for name, _, reasons in table:
        assert name.startswith("applicant-") and "=" not in reasons
        for value in ("F", "M", "red", "green", "blue", "a", "b"):
            assert f"= {value}" not in reasons and f"={value}" not in reasons
    # 'sex' can be named as a reason (the scorecard gives women -0.05) but only tagged.
    assert any("sex (" in r[2] and "[sensitive]" in r[2] for r in table)
    # Another data set gives other pseudonyms: they are keyed with the data's digest.
    assert pseudonyms(synthetic.iloc[:-1], [0]) != pseudonyms(synthetic, [0])


def test_rows_built_in_bounded_chunks_give_the_same_values(context, synthetic, monkeypatch):
    from audit.auditors.explanations import applicants

    monkeypatch.setattr(applicants, "_ROWS_AT_ONCE", 7 * 20 * len(FEATURES))
    found = measure(context, _settings(reason_rows=60, reason_reference_rows=20), FEATURES)
    assert found.applicants is not None
    a = found.applicants
    points = _points(synthetic)
    expected = points[a.rows] - points[a.reference_rows].mean(axis=0)
    np.testing.assert_allclose(a.values, expected, atol=1e-12)
    # 60 rows in chunks of 7: 9 chunks, each at least one call, plus the two plain calls.
    assert a.cost.model_calls >= 9 + 2
