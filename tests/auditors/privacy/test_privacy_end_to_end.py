"""End to end on UCI Adult: "epsilon <= 3 with at most 2 points of accuracy lost in any group"."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from audit import run_audit
from audit.core.findings import Verdict
from audit.core.measurements import LineChart
from tests.auditors.privacy.conftest import FEATURES, sklearn_pipeline

POLICY = Path(__file__).resolve().parents[3] / "examples" / "privacy-policy.yaml"


def test_example_policy_judges_epsilon_and_the_worst_group_drop(
    adult: pd.DataFrame, tmp_path: Path
) -> None:
    policy = yaml.safe_load(POLICY.read_text(encoding="utf-8"))
    privacy = policy["auditors"]["privacy"]
    privacy.update(
        {"output_dir": str(tmp_path / "dp"), "epochs": 3, "sweep_epsilons": [1], "bootstrap": 50}
    )
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy), encoding="utf-8")
    data = adult.drop(columns=["y"])
    model = sklearn_pipeline().fit(data[FEATURES], adult["y"])

    result = run_audit(
        model=model,
        data=data,
        policy=path,
        target="income",
        positive_label=">50K",
        sensitive=["sex"],
        features=FEATURES,
    )
    findings = {f.requirement_id: f for f in result.findings}
    assert findings["dp-epsilon"].verdict is Verdict.PASS
    assert findings["dp-epsilon"].measured is not None and findings["dp-epsilon"].measured <= 3.0
    assert findings["dp-delta"].verdict is Verdict.PASS
    drop = findings["dp-accuracy-cost-any-group"]
    assert drop.verdict in (Verdict.PASS, Verdict.FAIL)
    assert drop.grouping == ("sex",)
    output = next(o for o in result.outputs if o.auditor == "privacy")
    (by_group,) = [m for m in output.metrics if m.metric == "accuracy_drop_by_group"]
    worst = max(g.value for g in by_group.groups if g.value is not None)
    assert drop.measured == worst
    assert drop.worst_group in {g.group for g in by_group.groups}
    assert (Verdict.PASS if worst <= 0.02 else Verdict.FAIL) is drop.verdict
    assert (tmp_path / "dp" / "metadata.json").is_file()
    titles = [t.title for t in output.tables]
    assert any(t.startswith("Epsilon sweep") for t in titles)
    curves = {c.title: c for c in output.charts if isinstance(c, LineChart)}
    curve = curves["Accuracy against epsilon (sex)"]
    assert len(curve.x_labels) == len(output.config["sweep_epsilons"]) + 1  # + non-private
    assert {s.name for s in curve.series} == {"sex=Female", "sex=Male"}
    # the curve carries the sweep table's numbers (which the table shows to 4 decimals)
    (sweep,) = [t for t in output.tables if t.title.startswith("Epsilon sweep")]
    table_values = {v for row in sweep.rows for v in row if isinstance(v, float)}
    curve_values = {round(v, 4) for s in curve.series for v in s.values if v is not None}
    assert curve_values and curve_values <= table_values
    report = tmp_path / "report.html"
    result.to_html(report)
    html = report.read_text(encoding="utf-8")
    assert "Membership inference" in html and str((tmp_path / "dp").resolve()) in html
