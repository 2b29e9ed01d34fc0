"""The ecoa-reg-b pack on UCI Adult: per-applicant principal reasons of adverse decisions.

Reasons under 12 CFR 1002.9 belong to each applicant; the report lists them under
pseudonyms, without any raw value, and keeps the group-level table as context.
"""

from __future__ import annotations

import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from audit import run_audit
from audit.auditors.explanations.applicants import pseudonyms
from audit.core.findings import Verdict

from .conftest import ADULT_CATEGORICAL, ADULT_NUMERIC

FEATURES = ADULT_CATEGORICAL + ADULT_NUMERIC


@pytest.fixture(scope="module")
def audited(adult):
    train = adult.sample(n=3000, random_state=5)
    encode = ColumnTransformer(
        [
            ("categorical", OneHotEncoder(handle_unknown="ignore"), ADULT_CATEGORICAL),
            ("numeric", StandardScaler(), ADULT_NUMERIC),
        ]
    )
    model = Pipeline([("encode", encode), ("classify", LogisticRegression(max_iter=1000))])
    model.fit(train[FEATURES], train["income"])
    data = adult.sample(n=800, random_state=9).reset_index(drop=True)
    result = run_audit(
        model=model,
        data=data,
        policy="ecoa-reg-b",
        target="income",
        positive_label=">50K",
        sensitive=["sex"],
        features=FEATURES,
    )
    return data, result


def test_the_pack_states_whether_each_adverse_decision_has_reasons(audited):
    _, result = audited
    (finding,) = [
        f for f in result.findings if f.requirement_id == "ecoa-adverse-action-reasons-established"
    ]
    assert finding.verdict in (Verdict.PASS, Verdict.FAIL), finding.reasons
    output = next(o for o in result.outputs if o.auditor == "explanations")
    (per_applicant,) = [t for t in output.tables if t.title.startswith("Principal reasons of")]
    # 800 rows hold more than 500 adverse decisions: a stated uniform sample of 500.
    assert len(per_applicant.rows) == 500
    (measured,) = [
        m for m in output.metrics if m.metric == "share_of_adverse_decisions_with_reasons"
    ]
    assert "uniform random sample of 500 of the" in measured.description
    established = sum(not row[2].startswith("none") for row in per_applicant.rows)
    assert finding.measured == pytest.approx(established / 500)


def test_per_applicant_reasons_show_no_raw_value_and_map_back_with_the_data(audited):
    data, result = audited
    output = next(o for o in result.outputs if o.auditor == "explanations")
    (per_applicant,) = [t for t in output.tables if t.title.startswith("Principal reasons of")]
    names = set(pseudonyms(data, range(len(data))))
    raw = {str(v) for c in FEATURES for v in data[c].unique()}
    for name, _, reasons in per_applicant.rows:
        assert name in names
        for part in reasons.split("; "):
            column = part.split(" (")[0]
            assert column in FEATURES and column not in raw
        assert "Female" not in reasons and "Male" not in reasons
    groups = next(t for t in output.tables if t.title.startswith("Most adverse"))
    assert "context, not a notice" in groups.title
    assert "not an adverse-action notice" in groups.caption
