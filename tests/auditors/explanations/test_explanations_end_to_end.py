"""The explanations auditor through run_audit on UCI Adult: policy, JSON and HTML report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from audit import run_audit
from audit.core.findings import Verdict
from audit.plugins import get_auditor

from .conftest import ADULT_CATEGORICAL, ADULT_NUMERIC

POLICY = Path(__file__).resolve().parents[3] / "examples" / "explanations-policy.yaml"
FEATURES = ADULT_CATEGORICAL + ADULT_NUMERIC


@pytest.fixture(scope="module")
def adult_model(adult):
    train = adult.sample(n=3000, random_state=5)
    encode = ColumnTransformer(
        [
            ("categorical", OneHotEncoder(handle_unknown="ignore"), ADULT_CATEGORICAL),
            ("numeric", StandardScaler(), ADULT_NUMERIC),
        ]
    )
    model = Pipeline([("encode", encode), ("classify", LogisticRegression(max_iter=1000))])
    return model.fit(train[FEATURES], train["income"])


def test_the_auditor_is_a_registered_plugin():
    assert "sensitive_attribution_share" in get_auditor("explanations").metrics()


def test_run_audit_with_the_example_policy_on_adult(adult, adult_model, tmp_path):
    data = adult.sample(n=1000, random_state=9).reset_index(drop=True)
    result = run_audit(
        model=adult_model,
        data=data,
        policy=POLICY,
        target="income",
        positive_label=">50K",
        sensitive=["sex"],
        features=FEATURES,
    )
    by_id = {f.requirement_id: f for f in result.findings}
    assert set(by_id) == {
        "sensitive-reliance",
        "proxy-reliance",
        "top-reasons-agree",
        "adverse-reasons",
    }
    assert by_id["adverse-reasons"].verdict in (Verdict.PASS, Verdict.FAIL)
    # The model reads sex: its share is measured, and the groups are compared.
    assert by_id["sensitive-reliance"].verdict in (Verdict.PASS, Verdict.FAIL)
    assert by_id["sensitive-reliance"].measured > 0
    (output,) = result.outputs
    assert output.auditor == "explanations" and output.charts

    report = result.to_json(tmp_path / "report.json")
    saved = json.loads(Path(report).read_text())
    (entry,) = saved["auditors"]
    assert entry["charts"][0]["labels"][0] in FEATURES
    assert len(entry["charts"][0]["values"]) == len(entry["charts"][0]["labels"])

    html = Path(result.to_html(tmp_path / "report.html")).read_text()
    assert "Explanations auditor" in html
    assert "Global importance: mean |attribution| per column" in html
    assert "Most adverse decisions by group: principal reasons" in html
    assert html.count("<svg") >= 2
