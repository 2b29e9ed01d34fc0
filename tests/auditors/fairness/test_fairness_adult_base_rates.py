"""A hand computation on real data: Adult's published income base rates by sex."""

from __future__ import annotations

import pytest

# UCI Adult, training file (adult.data, 32,561 rows): rows and rows with income >50K by sex.
# These are the well-known base rates 30.6% (men) and 10.9% (women).
PUBLISHED = {"Male": (21790, 6662), "Female": (10771, 1179)}


def test_published_counts_match_the_file(adult):
    counts = adult.groupby("sex")["income"].agg(rows="size", high=lambda s: (s == ">50K").sum())
    assert {sex: (int(r.rows), int(r.high)) for sex, r in counts.iterrows()} == PUBLISHED
    assert len(adult) == 32561


def test_selection_rates_of_a_perfect_model_are_the_base_rates(
    adult, adult_income, run_audit, pick
):
    output = run_audit(adult, adult_income, adult_income, ["sex"], bootstrap=0)
    selection = {g.group: g for g in pick(output, "selection_rate", ["sex"]).groups}
    male_rows, male_high = PUBLISHED["Male"]
    female_rows, female_high = PUBLISHED["Female"]
    assert selection["sex=Male"].count == male_rows
    assert selection["sex=Female"].count == female_rows
    assert selection["sex=Male"].value == male_high / male_rows
    assert selection["sex=Female"].value == female_high / female_rows
    assert selection["sex=Male"].value == pytest.approx(0.306, abs=5e-4)
    assert selection["sex=Female"].value == pytest.approx(0.109, abs=5e-4)

    impact = (female_high / female_rows) / (male_high / male_rows)
    assert impact == pytest.approx(0.3580, abs=1e-4)  # 10.95% / 30.57%
    ratio = pick(output, "demographic_parity_ratio", ["sex"])
    assert ratio.value == pytest.approx(impact, abs=1e-15)
    difference = pick(output, "demographic_parity_difference", ["sex"])
    assert difference.value == pytest.approx(male_high / male_rows - female_high / female_rows)

    table = next(t for t in output.tables if t.title == "Selection rates by sex")
    rows = {row[0]: dict(zip(table.columns, row, strict=True)) for row in table.rows}
    assert rows["sex=Female"]["impact ratio"] == pytest.approx(impact, abs=1e-15)
    assert rows["sex=Male"]["impact ratio"] == 1.0
    assert rows["sex=Female"]["positive decisions"] == female_high
    assert rows["sex=Female"]["share of rows"] == pytest.approx(female_rows / 32561)

    # A perfect model: every error rate is 0 and accuracy 1, in every group.
    for metric, expected in [
        ("accuracy", 1.0),
        ("true_positive_rate", 1.0),
        ("false_positive_rate", 0.0),
        ("precision", 1.0),
    ]:
        assert {g.value for g in pick(output, metric, ["sex"]).groups} == {expected}
    assert pick(output, "equalized_odds_difference", ["sex"]).value == 0.0
