"""Sensitive columns named twice are refused; a group_by list of some sensitive columns is
measured (issue #21, item 11)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from audit import run_audit
from audit.cli.main import main
from audit.core.findings import Verdict


def _frame(rows: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(8)
    frame = pd.DataFrame(
        {
            "sex": rng.choice(["F", "M"], rows),
            "race": rng.choice(["X", "Y"], rows),
            "age": rng.choice(["<40", "40+"], rows),
        }
    )
    frame["decision"] = rng.integers(0, 2, rows)
    frame["y"] = frame["decision"]
    return frame


def test_a_sensitive_column_named_twice_is_a_usage_error(tmp_path, capsys):
    data = tmp_path / "data.csv"
    _frame().to_csv(data, index=False)
    code = main(
        [
            "run",
            "--model",
            "column:decision",
            "--data",
            str(data),
            "--target",
            "y",
            "--positive-label",
            "1",
            "--sensitive",
            "sex,sex",
            "--policy",
            "four-fifths",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "'sex' is named more than once" in err
    assert len(err.strip().splitlines()) == 1


def test_a_listed_subset_of_the_sensitive_columns_is_measured(tmp_path):
    policy = tmp_path / "subset.yaml"
    policy.write_text(
        'name: subset\nversion: "1"\nrequirements:\n'
        "  - id: sex-race\n    title: t\n    citation: c\n    auditor: fairness\n"
        "    metric: selection_rate\n    compare: ratio_to_max\n    threshold: 0.5\n"
        "    group_by: [sex, race]\n",
        encoding="utf-8",
    )
    result = run_audit(
        model="column:decision",
        data=_frame(),
        policy=policy,
        target="y",
        sensitive=["sex", "race", "age"],
        features=["decision"],
        positive_label=1,
    )
    (finding,) = result.findings
    assert finding.verdict is not Verdict.INCONCLUSIVE, finding.reasons
    assert finding.grouping == ("sex", "race")
    fairness = result.output("fairness")
    measured = [m.grouping for m in fairness.find("selection_rate")]
    assert ("sex", "race") in measured
