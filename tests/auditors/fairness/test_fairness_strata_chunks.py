"""Stratified comparisons from counts that add up over chunks, as the chunked engines make them.

Each group's rows per stratum, selected or not, are tallied chunk by chunk and merged; the
Cochran-Mantel-Haenszel test, the Mantel-Haenszel common odds ratio and the Breslow-Day
test computed from the merged counts must equal those of the whole table, and statsmodels'
``StratifiedTable`` on the Berkeley admissions data (Bickel, Hammel and O'Connell, 1975).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.contingency_tables import StratifiedTable

from audit.auditors.fairness import FairnessAuditor, FairnessConfig
from audit.core.context import ColumnRoles
from tests.auditors.fairness.test_fairness_strata import BERKELEY, _rows
from tests.auditors.fairness.test_fairness_tally_merge import _context, _same, _whole_and_chunked

TITLE = "Selection within strata of dept, by sex"

# chunk bounds that cut departments (the rows run department by department)
BOUNDS = [0, 1, 977, 1500, 2600, 4000, 4525, 4526]


def _row(output) -> dict:
    table = next(t for t in output.tables if t.title == TITLE)
    (row,) = table.rows
    return dict(zip(table.columns, row, strict=True))


def _berkeley_with_gaps() -> tuple[pd.DataFrame, np.ndarray, list[list[list[int]]]]:
    """Berkeley's rows with department F's rows missing or blank, and the women's 2x2 tables.

    In memory, missing and blank values form one stratum of their own, so F's rows stay one
    stratum under another name, placed last.
    """
    data, admitted = _rows()
    f_rows = np.flatnonzero(data["dept"].to_numpy() == "F")
    data.loc[f_rows[::2], "dept"] = None
    data.loc[f_rows[1::2], "dept"] = " "
    tables = [[list(women), list(men)] for men, women in BERKELEY.values()]
    return data, admitted, tables


@pytest.mark.parametrize("categorical", [False, True])
def test_chunks_cutting_strata_give_statsmodels_figures(categorical):
    data, admitted, tables = _berkeley_with_gaps()
    if categorical:
        data["dept"] = pd.Categorical(data["dept"], categories=["F", "E", "D", "C", "B", "A", " "])
    whole, chunked = _whole_and_chunked(data, admitted, admitted, ["sex"], BOUNDS, strata="dept")
    _same(whole, chunked)
    row = _row(chunked)
    expected = StratifiedTable(np.array(tables, dtype=float).transpose(1, 2, 0))
    cmh = expected.test_null_odds(correction=False)
    assert row["group"] == "sex=Female"
    assert (row["strata used"], row["strata left out"]) == (6, 0)
    assert row["CMH chi-squared"] == pytest.approx(cmh.statistic, rel=1e-12)
    assert row["p (CMH)"] == pytest.approx(cmh.pvalue, rel=1e-12)
    assert row["common odds ratio"] == pytest.approx(expected.oddsratio_pooled, rel=1e-12)
    low, high = expected.oddsratio_pooled_confint()
    assert row["odds ratio 95% low"] == pytest.approx(low, rel=1e-12)
    assert row["odds ratio 95% high"] == pytest.approx(high, rel=1e-12)
    assert row["p (Breslow-Day)"] == pytest.approx(expected.test_equal_odds().pvalue, rel=1e-12)


def test_each_chunk_of_one_stratum_still_gives_the_whole_tables_test():
    # every chunk holds one department only; the whole table holds six
    data, admitted = _rows()
    cuts = np.flatnonzero(data["dept"].ne(data["dept"].shift()).to_numpy()).tolist()
    whole, chunked = _whole_and_chunked(
        data, admitted, admitted, ["sex"], [*cuts, len(data)], strata="dept"
    )
    _same(whole, chunked)
    assert _row(chunked)["strata used"] == 6


def test_a_strata_column_absent_from_every_chunk_is_the_same_warning():
    data, admitted = _rows()
    whole, chunked = _whole_and_chunked(data, admitted, admitted, ["sex"], BOUNDS, strata="site")
    _same(whole, chunked)
    assert any("strata column 'site' is not in the data" in w for w in chunked.warnings)


def test_a_single_stratum_over_all_chunks_is_the_same_warning():
    data, admitted = _rows()
    data["campus"] = "Berkeley"
    whole, chunked = _whole_and_chunked(data, admitted, admitted, ["sex"], BOUNDS, strata="campus")
    _same(whole, chunked)
    assert any("'campus' holds a single value" in w for w in chunked.warnings)
    assert not [t for t in chunked.tables if t.title.startswith("Selection within strata")]


def test_strata_counted_in_row_pieces_on_threads_equal_one_piece(monkeypatch):
    from audit.auditors.fairness import tally as tally_module

    data, admitted, _ = _berkeley_with_gaps()
    config = FairnessConfig(strata="dept")
    whole = FairnessAuditor().run(_context(data, admitted, admitted, ["sex"]), config)
    monkeypatch.setattr(
        tally_module, "row_pieces", lambda rows: [slice(0, 7), slice(7, 3000), slice(3000, rows)]
    )
    pieces = FairnessAuditor().run(_context(data, admitted, admitted, ["sex"]), config)
    _same(whole, pieces)


def test_tallies_of_different_strata_do_not_merge():
    data, admitted = _rows()
    auditor = FairnessAuditor()
    context = _context(data, admitted, admitted, ["sex"])
    with_strata = auditor.tally(context, FairnessConfig(strata="dept"))
    without = auditor.tally(context, FairnessConfig())
    with pytest.raises(ValueError, match="different strata"):
        with_strata.merge(without)
    roles = ColumnRoles(target="y", sensitive=("sex",), features=())
    merged = auditor.tally(context, FairnessConfig(strata="dept")).merge(with_strata)
    output = auditor.finish(merged, FairnessConfig(strata="dept"), roles=roles, seed=3)
    doubled = StratifiedTable(
        2.0 * np.array([[w, m] for m, w in BERKELEY.values()], dtype=float).transpose(1, 2, 0)
    )
    assert _row(output)["common odds ratio"] == pytest.approx(doubled.oddsratio_pooled)
