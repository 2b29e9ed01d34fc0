"""Stratified comparisons on the Berkeley admissions data (Simpson's paradox)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audit.auditors.fairness import FairnessAuditor, FairnessConfig
from audit.auditors.fairness.config import LL144Config
from audit.core.context import Task
from audit.stats import mantel_haenszel
from tests.auditors.fairness.test_fairness_ll144 import _context

# Graduate admissions at UC Berkeley, fall 1973, six largest departments:
# (admitted, rejected) for men, then women (Bickel, Hammel and O'Connell, 1975; the counts
# of the SAS data step in Toronto STA429 handout 3, "The Berkeley Data").
BERKELEY = {
    "A": ((512, 313), (89, 19)),
    "B": ((353, 207), (17, 8)),
    "C": ((120, 205), (202, 391)),
    "D": ((138, 279), (131, 244)),
    "E": ((53, 138), (94, 299)),
    "F": ((22, 351), (24, 317)),
}


def _rows() -> tuple[pd.DataFrame, np.ndarray]:
    sex, dept, admitted = [], [], []
    for name, cells in BERKELEY.items():
        for who, (yes, no) in zip(("Male", "Female"), cells, strict=True):
            sex += [who] * (yes + no)
            dept += [name] * (yes + no)
            admitted += [1] * yes + [0] * no
    return pd.DataFrame({"sex": sex, "dept": dept}), np.array(admitted, dtype=np.int8)


def test_within_departments_the_difference_is_within_chance():
    data, admitted = _rows()
    config = FairnessConfig(strata="dept")
    output = FairnessAuditor().run(_context(data, admitted, ["sex"]), config)
    overall = next(t for t in output.tables if t.title.startswith("Selection rates tested"))
    (pooled,) = overall.rows
    assert pooled[0] == "sex=Female"
    assert pooled[9] < 1e-20  # pooled over departments, women are admitted far less often
    table = next(t for t in output.tables if t.title == "Selection within strata of dept, by sex")
    (row,) = table.rows
    cells = dict(zip(table.columns, row, strict=True))
    tables = [[cells_f, cells_m] for cells_m, cells_f in BERKELEY.values()]
    expected = mantel_haenszel(tables)
    assert cells["CMH chi-squared"] == pytest.approx(expected.cmh_statistic, abs=1e-12)
    assert cells["common odds ratio"] == pytest.approx(expected.common_odds_ratio, abs=1e-12)
    assert cells["common odds ratio"] > 1  # within departments women's odds are not lower
    assert cells["p (CMH)"] > 0.05
    assert cells["p (Breslow-Day)"] < 0.01
    assert "within what chance could explain" in cells["reading"]
    assert "summarises them poorly" in cells["reading"]


def test_strata_and_ll144_tables_both_reach_the_output():
    # LL144's tables used to replace the stratified ones instead of following them
    data, admitted = _rows()
    config = FairnessConfig(strata="dept", ll144=LL144Config())
    output = FairnessAuditor().run(_context(data, admitted, ["sex"]), config)
    titles = [t.title for t in output.tables]
    assert "Selection within strata of dept, by sex" in titles
    assert "LL144 selection rates by sex" in titles
    assert output.find("ll144_rate")


def test_a_missing_strata_column_is_a_warning_not_a_crash():
    data, admitted = _rows()
    output = FairnessAuditor().run(_context(data, admitted, ["sex"]), FairnessConfig(strata="site"))
    assert any("'site' is not in the data" in w for w in output.warnings)


def test_the_cli_strata_option_adds_the_stratified_table(tmp_path, capsys):
    import json

    from audit.cli.main import main

    data, admitted = _rows()
    data["admit"] = admitted
    data["y"] = admitted
    path = tmp_path / "berkeley.csv"
    data.to_csv(path, index=False)
    out = tmp_path / "out"
    args = ["run", "--model", "column:admit", "--data", str(path), "--target", "y"]
    args += ["--positive-label", "1", "--sensitive", "sex", "--features", "admit"]
    code = main([*args, "--policy", "four-fifths", "--strata", "dept", "--out", str(out)])
    assert code == 1, capsys.readouterr().err  # pooled over departments the four-fifths rule fails
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    fairness = next(a for a in report["auditors"] if a["auditor"] == "fairness")
    titles = [t["title"] for t in fairness["tables"]]
    assert "Selection within strata of dept, by sex" in titles
    assert fairness["config"]["strata"] == "dept"


def _reversal() -> tuple[pd.DataFrame, np.ndarray]:
    """Group G applies mostly where few are selected, yet within each site beats group R.

    Pooled over sites R has the highest selection rate (the reference); within both sites
    G's odds of selection are higher than R's and H's lower.
    """
    cells = {  # (site, group): (selected, not selected)
        ("easy", "R"): (800, 200),
        ("easy", "G"): (90, 10),
        ("easy", "H"): (150, 100),
        ("hard", "R"): (10, 90),
        ("hard", "G"): (200, 800),
        ("hard", "H"): (2, 98),
    }
    site, group, selected = [], [], []
    for (where, who), (yes, no) in cells.items():
        site += [where] * (yes + no)
        group += [who] * (yes + no)
        selected += [1] * yes + [0] * no
    return pd.DataFrame({"group": group, "site": site}), np.array(selected, dtype=np.int8)


def test_the_reading_gives_the_direction_of_a_difference_within_strata():
    from statsmodels.stats.contingency_tables import StratifiedTable

    data, selected = _reversal()
    output = FairnessAuditor().run(
        _context(data, selected, ["group"]), FairnessConfig(strata="site")
    )
    table = next(t for t in output.tables if t.title == "Selection within strata of site, by group")
    rows = {row[0]: dict(zip(table.columns, row, strict=True)) for row in table.rows}
    for label in ("group=G", "group=H"):
        mine = data["group"] == label[-1]
        reference = data["group"] == "R"
        strata = []
        for site in ("easy", "hard"):
            here = data["site"] == site
            g, r = selected[mine & here], selected[reference & here]
            strata.append([[g.sum(), len(g) - g.sum()], [r.sum(), len(r) - r.sum()]])
        expected = StratifiedTable(strata)
        assert rows[label]["common odds ratio"] == pytest.approx(expected.oddsratio_pooled)
        assert rows[label]["p (CMH)"] < 0.001
    assert rows["group=G"]["common odds ratio"] > 1
    assert rows["group=G"]["reading"].startswith(
        "within strata, selected more often than group=R, not less"
    )
    assert rows["group=H"]["common odds ratio"] < 1
    assert rows["group=H"]["reading"].startswith(
        "within strata, selected less often than group=R by more than chance would explain"
    )


def test_a_strata_column_with_one_value_gives_a_warning_and_no_test():
    data, admitted = _rows()
    data["campus"] = "Berkeley"
    output = FairnessAuditor().run(
        _context(data, admitted, ["sex"]), FairnessConfig(strata="campus")
    )
    assert any("'campus' holds a single value" in w for w in output.warnings)
    assert not [t for t in output.tables if t.title.startswith("Selection within strata")]


def test_a_group_sharing_one_stratum_with_the_reference_is_flagged():
    # women apply only to department F, so only F holds both groups
    data, admitted = _rows()
    keep = ((data["sex"] == "Male") | (data["dept"] == "F")).to_numpy()
    data, admitted = data[keep].reset_index(drop=True), admitted[keep]
    output = FairnessAuditor().run(_context(data, admitted, ["sex"]), FairnessConfig(strata="dept"))
    table = next(t for t in output.tables if t.title == "Selection within strata of dept, by sex")
    (row,) = table.rows
    cells = dict(zip(table.columns, row, strict=True))
    assert (cells["strata used"], cells["strata left out"]) == (1, 5)
    assert cells["Breslow-Day chi-squared"] is None
    assert cells["p (Breslow-Day)"] is None
    assert "only one stratum holds both groups" in cells["reading"]


def test_strata_with_a_regression_model_is_a_warning():
    data, admitted = _rows()
    scores = admitted + np.linspace(0.0, 0.5, len(admitted))
    context = _context(data, scores, ["sex"], task=Task.REGRESSION)
    output = FairnessAuditor().run(context, FairnessConfig(strata="dept"))
    assert output.find("mean_absolute_error")
    assert any("regression model makes no selections" in w for w in output.warnings)
