"""The title-vii-hiring pack: a hiring model that reads race or sex is flagged (advisory).

42 U.S.C. § 2000e-2(l) forbids altering the results of employment related tests on the
basis of race, color, religion, sex or national origin.  The pack measures the share of a
model's attribution on the protected columns it reads: exactly 0 for a scikit-learn
pipeline that does not read them, above 0 for one that does.  Run on UCI Adult.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from audit import run_audit
from audit.core.findings import Severity, Verdict
from audit.policy import load_policy

REPO = Path(__file__).resolve().parents[2]
ADULT = REPO / "examples" / "data" / "adult.csv"
NUMERIC = ["age", "education-num", "capital-gain", "hours-per-week"]
PROTECTED = ["race", "sex"]


@pytest.fixture(scope="module")
def adult():
    return pd.read_csv(ADULT, skipinitialspace=True).sample(n=3000, random_state=5)


def _pipeline(adult, categorical):
    encode = ColumnTransformer(
        [
            ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
            ("numeric", StandardScaler(), NUMERIC),
        ]
    )
    model = Pipeline([("encode", encode), ("classify", LogisticRegression(max_iter=1000))])
    return model.fit(adult[categorical + NUMERIC], adult["income"])


@pytest.fixture
def fast_policy(tmp_path):
    path = tmp_path / "screen.yaml"
    path.write_text(
        'name: screen\nversion: "1"\nextends: title-vii-hiring\n'
        "auditors:\n  explanations:\n    n_rows: 60\n    n_samples: 8\n    min_group_rows: 10\n",
        encoding="utf-8",
    )
    return path


def test_pack_shape_and_labels():
    (r,) = load_policy("title-vii-hiring").policy.requirements
    assert (r.auditor, r.metric, r.compare.value, r.threshold) == (
        "explanations",
        "sensitive_attribution_share",
        "at_most",
        0.0,
    )
    # The statute forbids altering results on those bases; it sets no number, and
    # whether a score is an "employment related test" is for counsel: advisory.
    assert r.severity is Severity.ADVISORY
    assert r.threshold_source == "policy"
    assert "2000e-2(l)" in r.citation
    assert r.citation_verified and r.citation_checked == "2026-12-05"


def _audit(adult, categorical, policy):
    return run_audit(
        model=_pipeline(adult, categorical),
        data=adult[["education", "occupation", *PROTECTED, *NUMERIC, "income"]],
        policy=policy,
        target="income",
        positive_label=">50K",
        sensitive=PROTECTED,
        features=[*categorical, *NUMERIC],
    )


def test_model_reading_race_and_sex_is_flagged(adult, fast_policy):
    result = _audit(adult, ["education", "occupation", *PROTECTED], fast_policy)
    findings = [f for f in result.findings if f.requirement_id.startswith("title-vii")]
    assert findings
    assert all(f.verdict is Verdict.FAIL for f in findings), [f.summary for f in findings]
    assert all(f.measured is not None and f.measured > 0 for f in findings)
    assert not any(f.blocks for f in result.findings)  # advisory: flagged, never gates


def test_model_not_reading_them_has_zero_share(adult, fast_policy):
    result = _audit(adult, ["education", "occupation"], fast_policy)
    findings = [f for f in result.findings if f.requirement_id.startswith("title-vii")]
    assert findings
    assert all(f.verdict is Verdict.PASS and f.measured == 0.0 for f in findings)
