"""Tallies of chunks merge into exactly what the fairness auditor measures on the whole table."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from audit.auditors.fairness import FairnessAuditor, FairnessConfig
from audit.auditors.fairness.tally import FairnessTally
from audit.core.context import AuditContext, ColumnRoles, Outcomes, Task
from audit.core.measurements import AuditorOutput


class NoModel:
    batch_size = 1

    input_columns = None

    def predict_batch(self, rows):
        raise AssertionError("the fairness auditor never calls the model")

    def describe(self):
        return {"kind": "none", "location": "test"}

    def fingerprint(self):
        return "0" * 64


def _context(frame: pd.DataFrame, y_true, y_pred, sensitive) -> AuditContext:
    roles = ColumnRoles(target="y", sensitive=tuple(sensitive), features=())
    outcomes = Outcomes(task=Task.BINARY, y_true=np.asarray(y_true), y_pred=np.asarray(y_pred))
    return AuditContext(data=frame, roles=roles, outcomes=outcomes, model=NoModel(), seed=3)


def _whole_and_chunked(frame, y_true, y_pred, sensitive, bounds, **settings):
    auditor = FairnessAuditor()
    config = FairnessConfig(**settings)
    whole = auditor.run(_context(frame, y_true, y_pred, sensitive), config)
    merged: FairnessTally | None = None
    for start, stop in itertools.pairwise(bounds):
        piece = frame.iloc[start:stop].reset_index(drop=True)
        # each chunk is re-typed as a reader of that chunk alone would type it
        piece = piece.apply(lambda column: column.infer_objects())
        tally = auditor.tally(
            _context(piece, y_true[start:stop], y_pred[start:stop], sensitive), config
        )
        merged = tally if merged is None else merged.merge(tally)
    roles = ColumnRoles(target="y", sensitive=tuple(sensitive), features=())
    chunked = auditor.finish(merged, config, roles=roles, seed=3)
    return whole, chunked


def _same(whole: AuditorOutput, chunked: AuditorOutput) -> None:
    assert chunked.metrics == whole.metrics
    assert chunked.tables == whole.tables
    assert chunked.warnings == whole.warnings


def test_adult_in_uneven_chunks_equals_the_whole(adult_sample):
    frame = adult_sample[["sex", "race", "marital-status"]]
    rng = np.random.default_rng(11)
    y_true = (adult_sample["income"] == ">50K").to_numpy().astype(np.int8)
    y_pred = (rng.random(len(frame)) < 0.3).astype(np.int8)
    whole, chunked = _whole_and_chunked(
        frame, y_true, y_pred, ["sex", "race", "marital-status"], [0, 1, 700, 701, 1999, 2000]
    )
    _same(whole, chunked)
    ratio = next(
        m
        for m in whole.metrics
        if m.metric == "demographic_parity_ratio" and m.grouping == ("sex",)
    )
    # by hand: selection rates are the random decisions' shares per sex
    rates = pd.Series(y_pred).groupby(frame["sex"].to_numpy()).mean()
    assert ratio.value == pytest.approx(rates.min() / rates.max(), abs=1e-12)


def test_missing_blank_categorical_and_mixed_values_order_as_in_memory():
    rng = np.random.default_rng(5)
    n = 600
    frame = pd.DataFrame(
        {
            # an integer column whose chunks with gaps read as floats
            "band": pd.array(rng.integers(1, 12, n), dtype="Int64").astype(object),
            "city": rng.choice(["Zagreb", "Ålesund", "  ", "unknown", "Oslo"], n),
            "tier": pd.Categorical(
                rng.choice(["low", "mid", "high"], n), categories=["low", "mid", "high"]
            ),
        }
    )
    frame.loc[rng.choice(n, 40, replace=False), "band"] = None
    frame.loc[rng.choice(n, 30, replace=False), "city"] = np.nan
    y_true = rng.integers(0, 2, n)
    y_pred = rng.integers(0, 2, n)
    whole, chunked = _whole_and_chunked(
        frame, y_true, y_pred, ["band", "city", "tier"], [0, 100, 250, 599, 600], min_group_size=5
    )
    _same(whole, chunked)
    table = next(t for t in whole.tables if t.title == "Selection rates by city")
    cities = [row[0] for row in table.rows]
    # blank strings are missing; the real value "unknown" forces the missing group's new name
    assert cities == [
        "city=Oslo",
        "city=Zagreb",
        "city=unknown",
        "city=Ålesund",
        "city=unknown (missing)",
    ]
    (missing,) = [w for w in whole.warnings if "'city' is missing" in w]
    assert missing.endswith("they form the group 'city=unknown (missing)'")


def test_a_chunk_that_cannot_be_counted_makes_every_metric_unmeasured():
    frame = pd.DataFrame({"g": ["a", "b", "a", "b"]})
    auditor = FairnessAuditor()
    config = FairnessConfig()
    good = auditor.tally(_context(frame, [1, 0, 1, 0], [1, 1, 0, 0], ["g"]), config)
    bad = auditor.tally(_context(frame, [1, 0, 1, 0], [1, 2, 0, 0], ["g"]), config)
    roles = ColumnRoles(target="y", sensitive=("g",), features=())
    output = auditor.finish(good.merge(bad), config, roles=roles, seed=0)
    assert all(m.value is None for m in output.metrics)
    assert "values other than 0 and 1" in output.warnings[0]


def test_row_pieces_counted_on_threads_equal_one_piece(monkeypatch):
    """A large chunk is counted in row pieces on threads; the merge equals one pass."""
    from audit.auditors.fairness import tally as tally_module

    rng = np.random.default_rng(11)
    n = 900
    city = pd.Series(rng.choice(["Zagreb", "Oslo", "  ", "Lyon"], n), dtype="str")
    city[rng.choice(n, 25, replace=False)] = np.nan
    frame = pd.DataFrame(
        {
            "city": city,
            "tier": pd.Categorical(rng.choice(["low", "mid", "high"], n)),
            "band": rng.integers(1, 5, n),
        }
    )
    y_true, y_pred = rng.integers(0, 2, n), rng.integers(0, 2, n)
    sensitive = ["city", "tier", "band"]
    config = FairnessConfig(min_group_size=5)
    whole = FairnessAuditor().run(_context(frame, y_true, y_pred, sensitive), config)
    monkeypatch.setattr(
        tally_module, "row_pieces", lambda rows: [slice(0, 7), slice(7, 500), slice(500, rows)]
    )
    pieces = FairnessAuditor().run(_context(frame, y_true, y_pred, sensitive), config)
    _same(whole, pieces)
    rates = next(
        m for m in whole.metrics if m.metric == "selection_rate" and m.grouping == ("city",)
    )
    expected = pd.Series(y_pred).groupby(city.str.strip().replace("", np.nan).to_numpy()).mean()
    measured = {g.group: g.value for g in rates.groups}
    for name, rate in expected.items():
        assert measured[f"city={name}"] == pytest.approx(rate, abs=1e-12)
