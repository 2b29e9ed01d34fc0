"""Each group tested against the reference group, and rate intervals that do not collapse."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact
from statsmodels.stats.proportion import proportion_confint

from audit.auditors.fairness.config import FairnessConfig
from audit.auditors.fairness.measure import measure_binary
from audit.auditors.fairness.tally import tally_outcomes


def _rows(sizes_and_rates: dict[str, tuple[int, float]]) -> tuple[pd.DataFrame, np.ndarray]:
    groups, decisions = [], []
    for name, (size, rate) in sizes_and_rates.items():
        selected = round(size * rate)
        groups += [name] * size
        decisions += [1] * selected + [0] * (size - selected)
    return pd.DataFrame({"race": groups}), np.array(decisions, dtype=np.int8)


def _measure(data, decisions, **settings):
    tally = tally_outcomes(data, ["race"], decisions, decisions, intersectional=False)
    config = FairnessConfig(**settings)
    return measure_binary(tally.grouped_counts()[0], config, np.random.default_rng(0))


def test_groups_are_tested_against_the_highest_rate_with_scipy_values():
    data, decisions = _rows({"A": (400, 0.30), "B": (300, 0.45), "C": (200, 0.40)})
    m = _measure(data, decisions)
    assert m.labels[m.reference] == "race=B"
    table = pd.crosstab(data["race"], decisions)
    for g, label in enumerate(m.labels):
        versus = m.versus[g]
        if label == "race=B":
            assert versus is None
            continue
        group = label.removeprefix("race=")
        a, n = int(table.loc[group, 1]), int(table.loc[group].sum())
        c, total = int(table.loc["B", 1]), int(table.loc["B"].sum())
        expected = fisher_exact([[a, n - a], [c, total - c]], alternative="less").pvalue
        assert versus.fisher_p_value == pytest.approx(expected, abs=1e-12)
        assert versus.shortfall == pytest.approx(n * c / total - a, abs=1e-9)
    fisher = sorted((m.versus[g].fisher_p_value, g) for g in (0, 2))
    assert m.holm[fisher[0][1]] == pytest.approx(min(1.0, 2 * fisher[0][0]), abs=1e-12)


def test_a_group_with_no_selections_gets_a_wilson_interval_not_zero_zero():
    data, decisions = _rows({"A": (100, 0.5), "B": (40, 0.0)})
    m = _measure(data, decisions, min_group_size=1)
    selection = m.rates["selection_rate"]
    low, high = proportion_confint(0, 40, alpha=0.05, method="wilson")
    assert selection.low[1] == pytest.approx(max(0.0, low), abs=1e-12)
    assert selection.high[1] == pytest.approx(high, abs=1e-12)
    assert selection.high[1] > 0.05


def test_the_evidence_table_reads_p_values_in_words(run_audit):
    data, decisions = _rows({"A": (400, 0.30), "B": (300, 0.45)})
    output = run_audit(data, decisions, decisions, ["race"])
    table = next(t for t in output.tables if t.title.startswith("Selection rates tested"))
    row = dict(zip(table.columns, table.rows[0], strict=True))
    assert row["group"] == "race=A"
    assert row["reading"].startswith("larger than chance would explain: p ")
    assert row["reading"].endswith("Fisher's exact test")
    assert "Reference group: race=B" in table.caption
