"""NYC LL144's own comparison: the 2% rule, small categories, scoring rates, sex x race."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audit.auditors.fairness import FairnessAuditor, FairnessConfig
from audit.auditors.fairness.config import LL144Config
from audit.core.context import AuditContext, ColumnRoles, Outcomes, Task
from audit.core.findings import Verdict
from audit.core.measurements import GroupStatus
from audit.policy.evaluate import evaluate_requirement
from audit.policy.schema import Requirement
from tests.auditors.fairness.conftest import UnusedModel

LL144_RATIO = Requirement(
    id="ll144",
    title="LL144 impact ratios",
    citation="6 RCNY § 5-301",
    auditor="fairness",
    metric="ll144_rate",
    compare="ratio_to_max",
    threshold=0.8,
    severity="advisory",
    group_by="each",
)


def _context(data, y_pred, sensitive, *, task=Task.BINARY, y_score=None):
    y_pred = np.asarray(y_pred)
    return AuditContext(
        data=data,
        roles=ColumnRoles(target="y", sensitive=tuple(sensitive), features=(), task=task),
        outcomes=Outcomes(task=task, y_true=y_pred, y_pred=y_pred, y_score=y_score),
        model=UnusedModel(),
    )


def _race_a_and_b():
    # race A: 1,000 rows selected at 0.30; race B: 25 rows (2.4%) selected at 0.60
    race = ["A"] * 1000 + ["B"] * 25
    decisions = [1] * 300 + [0] * 700 + [1] * 15 + [0] * 10
    return pd.DataFrame({"race": race}), np.array(decisions, dtype=np.int8)


def _run(context, **ll144):
    config = FairnessConfig(unknown_group="exclude", ll144=LL144Config(**ll144))
    return FairnessAuditor().run(context, config)


def test_a_small_category_over_two_percent_is_the_denominator():
    data, decisions = _race_a_and_b()
    output = _run(_context(data, decisions, ["race"]))
    result = next(m for m in output.find("ll144_rate") if m.grouping == ("race",))
    groups = {g.group: g for g in result.groups}
    assert groups["race=B"].status is GroupStatus.OK  # compared, though under 30 rows
    assert "small sample" in groups["race=B"].note
    assert groups["race=B"].ci_low < 0.6 < groups["race=B"].ci_high
    table = next(t for t in output.tables if t.title == "LL144 selection rates by race")
    rows = {row[0]: dict(zip(table.columns, row, strict=True)) for row in table.rows}
    assert rows["race=A"]["impact ratio"] == pytest.approx(0.5, abs=1e-12)
    assert rows["race=B"]["impact ratio"] == 1.0
    assert rows["race=B"]["status"] == "small sample"
    (finding,) = evaluate_requirement(LL144_RATIO, output.metrics, sensitive=["race"])
    assert finding.verdict is Verdict.FAIL
    assert finding.measured == pytest.approx(0.5, abs=1e-12)
    assert finding.reference_group == "race=B"


def test_only_categories_under_the_share_are_excluded():
    data, decisions = _race_a_and_b()
    output = _run(_context(data, decisions, ["race"]), exclude_below_share=0.03)
    result = next(m for m in output.find("ll144_rate") if m.grouping == ("race",))
    b = next(g for g in result.groups if g.group == "race=B")
    assert b.status is GroupStatus.EXCLUDED
    assert "6 RCNY § 5-301" in b.note


def test_the_selection_rate_settings_are_not_changed_by_ll144():
    data, decisions = _race_a_and_b()
    output = _run(_context(data, decisions, ["race"]), exclude_below_share=0.03)
    selection = next(m for m in output.find("selection_rate") if m.grouping == ("race",))
    b = next(g for g in selection.groups if g.group == "race=B")
    assert b.status is GroupStatus.SMALL  # the four-fifths comparison's own rule


def test_a_scoring_model_gets_scoring_rates_above_the_full_sample_median():
    rng = np.random.default_rng(3)
    data = pd.DataFrame(
        {"sex": rng.choice(["F", "M"], 400), "race": rng.choice(["X", "Y", "Z"], 400)}
    )
    scores = rng.normal(size=400) + (data["sex"] == "M").to_numpy() * 0.5
    output = _run(_context(data, scores, ["sex", "race"], task=Task.REGRESSION))
    titles = [t.title for t in output.tables if t.title.startswith("LL144")]
    assert titles == [
        "LL144 scoring rates by sex",
        "LL144 scoring rates by race",
        "LL144 scoring rates by sex \N{MULTIPLICATION SIGN} race",
    ]
    table = output.tables[[t.title for t in output.tables].index(titles[0])]
    median = np.median(scores)
    for row in table.rows:
        members = (data["sex"] == row[0].removeprefix("sex=")).to_numpy()
        assert row[3] == int((scores[members] > median).sum())
        assert row[4] == pytest.approx((scores[members] > median).mean(), abs=1e-12)
    assert "detected from the model's output" in table.caption


def test_sex_and_race_designations_give_the_law_s_three_tables():
    rng = np.random.default_rng(4)
    data = pd.DataFrame(
        {
            "gender": rng.choice(["F", "M"], 300),
            "ethnicity": rng.choice(["X", "Y"], 300),
            "age": rng.choice(["<40", "40+"], 300),
        }
    )
    decisions = rng.integers(0, 2, 300)
    output = _run(
        _context(data, decisions, ["age", "gender", "ethnicity"]), sex="gender", race="ethnicity"
    )
    groupings = [m.grouping for m in output.find("ll144_rate")]
    assert groupings == [("gender",), ("ethnicity",), ("gender", "ethnicity")]


def test_a_binary_model_asked_for_scoring_without_scores_is_unmeasured():
    data, decisions = _race_a_and_b()
    output = _run(_context(data, decisions, ["race"]), rate="scoring")
    (result,) = output.find("ll144_rate")
    assert result.value is None
    assert "gives no score" in result.reason


def test_nyc_ll144_audit_of_a_scoring_model_on_adult(adult_model_split, tmp_path):
    from audit import run_audit

    held_out, y_true, decisions, scores = adult_model_split
    frame = held_out[["sex", "race"]].copy()
    frame["income"] = y_true
    frame["decision"] = decisions
    frame["score"] = scores
    policy = tmp_path / "scoring.yaml"
    policy.write_text(
        'name: scoring\nversion: "1"\nextends: nyc-ll144\n'
        "auditors:\n  fairness:\n    ll144:\n      rate: scoring\n"
        "      exclude_below_share: 0.01\n",
        encoding="utf-8",
    )
    result = run_audit(
        model="column:decision,score=score",
        data=frame,
        policy=policy,
        target="income",
        sensitive=["sex", "race"],
        features=["decision", "score"],
        positive_label=1,
    )
    tables = {t.title: t for t in result.output("fairness").tables}
    median = float(np.median(scores))
    above = scores > median
    for label, columns in (
        ("sex", ["sex"]),
        ("race", ["race"]),
        ("sex \N{MULTIPLICATION SIGN} race", ["sex", "race"]),
    ):
        table = tables[f"LL144 scoring rates by {label}"]
        expected = pd.Series(above).groupby([frame[c] for c in columns]).agg(["sum", "mean"])
        for row in table.rows:
            cells = dict(zip(table.columns, row, strict=True))
            key = tuple(part.split("=", 1)[1] for part in cells["group"].split(", "))
            got = expected.loc[key if len(key) > 1 else key[0]]
            assert cells["scored above the median"] == int(got["sum"])
            assert cells["scoring rate"] == pytest.approx(float(got["mean"]), abs=1e-12)
    summary = next(
        f for f in result.findings if f.requirement_id == "ll144-impact-ratio-by-category"
    )
    assert "LL144 rate" in summary.summary
    from audit.reporting import render_html
    from audit.reporting.ll144 import ll144_summary

    published = ll144_summary(result)
    assert [t.rate for t in published.tables] == ["scoring"] * 3
    assert published.exclusion_share == 0.01
    page = render_html(result)
    assert "Scoring rate" in page
    assert "under 1% of the data were excluded" in page


def test_the_chunked_engine_gives_the_same_ll144_tables(adult_model_split, tmp_path):
    from audit import run_audit

    held_out, y_true, decisions, _ = adult_model_split
    frame = held_out[["sex", "race"]].copy()
    frame["income"] = y_true
    frame["decision"] = decisions
    path = tmp_path / "data.parquet"
    frame.to_parquet(path, index=False)

    def tables(engine: str) -> dict:
        result = run_audit(
            model="column:decision",
            data=path,
            policy="nyc-ll144",
            target="income",
            sensitive=["sex", "race"],
            features=["decision"],
            positive_label=1,
            engine=engine,
            chunk_rows=1000,
        )
        return {
            t.title: t.rows for t in result.output("fairness").tables if t.title.startswith("LL144")
        }

    in_memory = tables("pandas")
    assert len(in_memory) == 3
    assert tables("chunked") == in_memory
