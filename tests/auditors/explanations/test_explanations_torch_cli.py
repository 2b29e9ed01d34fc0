"""A PyTorch model on real UCI Adult, audited for explanations through the CLI (issue 7).

``examples/torch_model.py`` trains a small MLP behind a declared ColumnTransformer
encoding; ``maas-audit run --model examples.torch_model:model`` imports it from the
working directory and explains it with Integrated Gradients.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("torch")
pytest.importorskip("captum")

REPO = Path(__file__).resolve().parents[3]
ADULT = REPO / "examples" / "data" / "adult.csv"
POLICY = REPO / "examples" / "explanations-policy.yaml"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("torch-cli")
    data = folder / "adult.csv"
    frame = pd.read_csv(ADULT, skipinitialspace=True)
    frame.sample(n=400, random_state=17).to_csv(data, index=False)
    out = folder / "out"
    done = subprocess.run(
        [sys.executable, "-m", "audit", "run", "--model", "examples.torch_model:model",
         "--data", str(data), "--target", "income", "--positive-label", ">50K",
         "--sensitive", "sex", "--policy", str(POLICY), "--out", str(out), "--no-progress"],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    # exit 1: the model reads sex, so the example policy's blocking requirement fails
    assert done.returncode in (0, 1), done.stderr
    assert "sensitive-reliance [sex]" in done.stdout
    return json.loads((out / "report.json").read_text(encoding="utf-8")), (
        out / "report.html"
    ).read_text(encoding="utf-8")


def test_the_report_names_integrated_gradients(report):
    saved, html = report
    assert saved["model"]["kind"] == "pytorch", saved["model"]
    assert saved["model"]["encode"].endswith("ColumnTransformer")
    (entry,) = saved["auditors"]
    assert entry["auditor"] == "explanations"
    assert "Integrated Gradients" in entry["method"]
    cost = next(t for t in entry["tables"] if t["title"].startswith("Cost"))
    assert ["Method", "integrated_gradients"] in cost["rows"]
    assert "Integrated Gradients" in html


def test_the_report_gives_importance_per_sex_group(report):
    saved, html = report
    (entry,) = saved["auditors"]
    by_group = next(t for t in entry["tables"] if t["title"] == "Mean |attribution| by group: sex")
    assert by_group["columns"][0] == "Column"
    assert {c.split(" (")[0] for c in by_group["columns"][1:]} == {"sex=Female", "sex=Male"}
    columns = {row[0] for row in by_group["rows"]}
    assert {"sex", "marital-status", "age"} <= columns
    # one-hot inputs are credited back to the user's columns, not to encoded features
    assert not any("_" in c or c.startswith("x") for c in columns), columns
    charts = [c["title"] for c in entry["charts"]]
    assert any(t.startswith("Importance for sex=Female") for t in charts), charts
    assert "Mean |attribution| by group: sex" in html
    (share,) = [
        m
        for m in entry["metrics"]
        if m["metric"] == "sensitive_attribution_share" and m["grouping"] == ["sex"]
    ]
    assert share["value"] > 0  # the network reads sex
