"""A model with a planted, known bias, audited through run_audit and the CLI.

The model selects a row when x > 0, except that under group B it rejects the rows whose
column u is under 0.3. Every row is a base row (n_rows exceeds the data), so the true flip
count, McNemar's p and the rate ratio follow from the data alone.
"""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from audit import run_audit
from audit.cli.main import main
from audit.core.findings import Verdict
from audit.plugins import get_auditor

ROWS = 400


def planted(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    selected = frame["x"].to_numpy() > 0
    biased = (frame["group"].astype(str).to_numpy() == "B") & (frame["u"].to_numpy() < 0.3)
    score = 1 / (1 + np.exp(-frame["x"].to_numpy())) - 0.1 * biased
    return {"labels": (selected & ~biased).astype(int), "scores": score}


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=ROWS),
            "u": rng.uniform(size=ROWS),
            "group": rng.choice(["A", "B"], ROWS),
            "first_name": "Pat",
        }
    )
    frame["y"] = (frame["x"] > 0).astype(int)
    return frame


def _policy(tmp_path, extra: str = "", **replace: str) -> str:
    path = tmp_path / "counterfactual.yaml"
    text = textwrap.dedent(
        """\
            name: paired-test
            version: "1"
            auditors:
              counterfactual:
                attribute: group
                groups: [A, B]
                n_rows: {rows}
                {extra}
            requirements:
              - id: cf-four-fifths
                title: Assigned groups are selected at four-fifths of the best rate
                citation: "29 CFR 1607.4(D)"
                auditor: counterfactual
                metric: counterfactual_selection_rate
                compare: ratio_to_max
                threshold: 0.8
                group_by: [group]
              - id: cf-flips
                title: At most 1% of decisions change with the group cue
                citation: "Policy choice"
                auditor: counterfactual
                metric: flip_rate
                compare: at_most
                threshold: 0.01
                group_by: [group]
            """
    ).format(rows=ROWS * 2, extra=extra)
    for old, new in replace.items():
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return str(path)


def _audit(data: pd.DataFrame, model: Any, policy: str, **settings: Any) -> Any:
    """``run_audit`` of ``data`` by ``model`` under ``policy``, with the table's roles."""
    return run_audit(
        model=model,
        data=data,
        policy=policy,
        target="y",
        positive_label=1,
        sensitive=["group"],
        features=["x", "u", "group", "first_name"],
        **settings,
    )


def test_the_planted_flip_rate_rate_ratio_and_p_value_are_measured(data, tmp_path):
    result = _audit(data, planted, _policy(tmp_path))
    (output,) = result.outputs
    values = {m.metric: m for m in output.metrics}
    selected = data["x"] > 0
    flips = int((selected & (data["u"] < 0.3)).sum())
    assert values["flip_rate"].value == pytest.approx(flips / ROWS, abs=1e-15)
    rates = {g.group: g.value for g in values["counterfactual_selection_rate"].groups}
    assert rates["group=A"] == pytest.approx(selected.mean())
    assert rates["group=B"] / rates["group=A"] == pytest.approx(
        (selected.sum() - flips) / selected.sum()
    )
    assert values["paired_test_p_value"].value == pytest.approx(
        stats.binomtest(0, flips, 0.5).pvalue, rel=1e-12
    )
    assert values["mean_score_difference"].groups[0].value == pytest.approx(
        -0.1 * (data["u"] < 0.3).mean()
    )
    verdicts = {f.requirement_id: f.verdict for f in result.findings}
    assert verdicts == {"cf-four-fifths": Verdict.FAIL, "cf-flips": Verdict.FAIL}
    titles = [t.title for t in output.tables]
    assert "Examples of decisions that changed with the group cue" in titles
    (directions,) = [t for t in output.tables if t.title == "Changed decisions by direction"]
    assert directions.rows == (("B", flips, flips / ROWS, 0, 0.0),)


def test_an_unbiased_model_passes_and_names_do_not_leak_other_values(data, tmp_path):
    policy = _policy(tmp_path, "cues: {first_name: {A: [Emily, Greg], B: [Lakisha, Jamal]}}")
    result = _audit(data, lambda f: (f["x"] > 0).astype(int), policy)
    assert {f.verdict for f in result.findings} == {Verdict.PASS}
    (output,) = result.outputs
    assert output.find("flip_rate")[0].value == 0.0


def test_the_shipped_name_list_is_a_cue_for_a_model_that_reads_names(data, tmp_path):
    black = {
        "Aisha",
        "Ebony",
        "Keisha",
        "Kenya",
        "Lakisha",
        "Latonya",
        "Latoya",
        "Tamika",
        "Tanisha",
        "Darnell",
        "Hakim",
        "Jamal",
        "Jermaine",
        "Kareem",
        "Leroy",
        "Rasheed",
        "Tremayne",
        "Tyrone",
    }

    def reads_names(frame: pd.DataFrame) -> np.ndarray:
        return ((frame["x"] > 0) & ~frame["first_name"].isin(black)).astype(int).to_numpy()

    policy = _policy(
        tmp_path,
        "name_list: bertrand-mullainathan-2004\n    set_attribute: false",
        **{"groups: [A, B]": "groups: [White, Black]"},
    )
    result = _audit(data, reads_names, policy)
    flips = result.outputs[0].find("flip_rate")[0].value
    assert flips == pytest.approx((data["x"] > 0).mean())  # every selected row flips


def test_bad_settings_are_inconclusive_with_the_reason(data, tmp_path):
    policy = _policy(tmp_path, **{"attribute: group": "attribute: nowhere"})
    result = _audit(data, planted, policy)
    assert {f.verdict for f in result.findings} == {Verdict.INCONCLUSIVE}
    assert any("nowhere" in r for f in result.findings for r in f.reasons)


def test_a_group_the_attribute_never_holds_is_inconclusive_not_a_pass(data, tmp_path):
    result = _audit(data, planted, _policy(tmp_path, **{"groups: [A, B]": "groups: [A, b]"}))
    assert {f.verdict for f in result.findings} == {Verdict.INCONCLUSIVE}
    reasons = [r for f in result.findings for r in f.reasons]
    assert any("'b' of 'group' are not in the data (its values: " in r for r in reasons)


def test_a_value_the_data_lacks_is_assigned_through_cues(data, tmp_path):
    policy = _policy(
        tmp_path,
        "set_attribute: false\n    cues: {group: {A: [A], C: [C]}}",
        **{"groups: [A, B]": "groups: [A, C]"},
    )
    result = _audit(data, planted, policy)
    assert result.outputs[0].find("flip_rate")[0].value == 0.0  # C is not the biased group


def test_the_auditor_is_a_registered_plugin_and_runs_from_the_cli(data, tmp_path, capsys):
    assert "flip_rate" in get_auditor("counterfactual").metrics()
    csv = tmp_path / "data.csv"
    data.to_csv(csv, index=False)
    code = main(
        [
            "run",
            "--model",
            "column:y",
            "--data",
            str(csv),
            "--target",
            "y",
            "--positive-label",
            "1",
            "--sensitive",
            "group",
            "--policy",
            _policy(tmp_path),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 0  # a decision log cannot change with a cue: no flips
    assert (tmp_path / "out" / "report.html").is_file()


def test_a_rerun_with_a_cache_sends_the_pairs_no_more(data, tmp_path):
    rows_scored: list[int] = []

    def counted(frame: pd.DataFrame) -> dict[str, np.ndarray]:
        rows_scored.append(len(frame))
        return planted(frame)

    def audit() -> list:
        result = _audit(data, counted, _policy(tmp_path), cache_dir=tmp_path / "cache")
        return [(f.requirement_id, f.verdict, f.measured) for f in result.findings]

    first = audit()
    assert sum(rows_scored) == ROWS + 2 * ROWS  # the data, then each row as A and as B
    rows_scored.clear()
    assert audit() == first
    assert rows_scored == []  # the data and the pairs came from the cache
