"""The illinois-hb3773 pack (775 ILCS 5/2-102(L)): worked example through the CLI on Adult.

A scikit-learn pipeline trained on UCI Adult, saved as a .skops file, is audited with
`maas-audit run --policy illinois-hb3773`.  It reads `relationship` ("Husband", "Wife"),
which predicts sex: the proxy requirement, blocking, fails (exit 1); the selection-rate
benchmarks are advisory and shown as benchmarks; the notice to employees is a statement,
missing until given.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import skops.io
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from audit.cli.main import main
from audit.core.findings import Severity
from audit.policy import load_policy

REPO = Path(__file__).resolve().parents[2]
ADULT = REPO / "examples" / "data" / "adult.csv"
CATEGORICAL = ["education", "occupation", "relationship"]
NUMERIC = ["age", "education-num", "hours-per-week"]
FEATURES = CATEGORICAL + NUMERIC


def test_pack_shape():
    policy = load_policy("illinois-hb3773").policy
    by_id = {r.id: r for r in policy.requirements}
    ratio = by_id["il-ai-selection-rate-ratio"]
    assert (ratio.severity, ratio.threshold_source) == (Severity.ADVISORY, "benchmark")
    proxy = by_id["il-ai-no-proxy-for-protected-class"]
    assert (proxy.metric, proxy.threshold, proxy.severity) == (
        "proxy_attribution_share",
        0.0,
        Severity.BLOCKING,
    )
    assert proxy.threshold_source == "policy"
    assert all("775 ILCS 5/2-102(L)" in r.citation for r in policy.requirements)
    assert all(r.citation_verified for r in policy.requirements)
    assert [s.id for s in policy.report.statements] == ["notice-to-employees", "no-zip-code-input"]
    assert policy.report.statements[0].citation == "775 ILCS 5/2-102(L)(2)"


@pytest.fixture(scope="module")
def adult_files(tmp_path_factory):
    adult = pd.read_csv(ADULT, skipinitialspace=True).sample(n=4000, random_state=21)
    train, held_out = adult.iloc[:2500], adult.iloc[2500:]
    encode = ColumnTransformer(
        [
            ("categorical", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
            ("numeric", StandardScaler(), NUMERIC),
        ]
    )
    model = Pipeline([("encode", encode), ("classify", LogisticRegression(max_iter=1000))])
    model.fit(train[FEATURES], train["income"])
    folder = tmp_path_factory.mktemp("illinois")
    skops.io.dump(model, folder / "model.skops")
    held_out.to_csv(folder / "held_out.csv", index=False)
    policy = folder / "screen.yaml"
    policy.write_text(
        'name: il-screen\nversion: "1"\nextends: illinois-hb3773\n'
        "auditors:\n  explanations:\n    n_rows: 80\n    n_samples: 8\n    min_group_rows: 10\n"
        "  fairness:\n    bootstrap: 0\n",
        encoding="utf-8",
    )
    return folder


def _run(folder: Path, out: Path, *extra: str) -> int:
    return main(
        [
            "run", "--model", str(folder / "model.skops"), "--data",
            str(folder / "held_out.csv"), "--target", "income", "--positive-label", ">50K",
            "--sensitive", "sex,race", "--features", ",".join(FEATURES),
            "--policy", str(folder / "screen.yaml"), "--out", str(out), "--no-progress",
            *extra,
        ]
    )  # fmt: skip


def test_worked_example_through_the_cli(adult_files, tmp_path, capsys):
    out = tmp_path / "out"
    code = _run(adult_files, out)
    stdout = capsys.readouterr().out
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    findings = {(f["requirement_id"], tuple(f["grouping"])): f for f in report["findings"]}
    proxy = findings[("il-ai-no-proxy-for-protected-class", ("sex",))]
    # relationship ("Husband"/"Wife") predicts sex and carries attribution: a proxy.
    assert proxy["verdict"] == "FAIL" and proxy["measured"] > 0
    assert code == 1 and "verdict: FAIL" in stdout
    ratio = findings[("il-ai-selection-rate-ratio", ("sex",))]
    assert ratio["severity"] == "advisory"
    assert report["policy"]["name"] == "il-screen"
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "775 ILCS 5/2-102(L)(2)" in page
    assert "--statement notice-to-employees=" in page  # missing until given
    assert "Below benchmark" in page or "At or above benchmark" in page


def test_statements_given_on_the_command_line(adult_files, tmp_path, capsys):
    out = tmp_path / "out"
    _run(
        adult_files,
        out,
        "--statement",
        "notice-to-employees=Posted in the handbook and on every job ad since 2026-01-01",
        "--statement",
        "no-zip-code-input=The model reads no zip code or zip-derived column",
    )
    capsys.readouterr()
    details = json.loads((out / "report.json").read_text(encoding="utf-8"))["details"]
    assert details["statements"]["notice-to-employees"].startswith("Posted in the handbook")
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Posted in the handbook and on every job ad since 2026-01-01" in page
    assert "--statement notice-to-employees=" not in page
