"""Prompt-field attributions of an LLM screener whose rule reads three fields and nothing else.

The stand-in's own screener draws its confidence and its planted flips from a hash of
every field, so ablating any field moves its P(approve).  Here the confidence is fixed
(0.9) and every merited woman is rejected: P(approve) is 0.9 for a merited man and 0.1
otherwise.  The expected attribution of each field is worked out in this file from that
rule and the row's values, not from the server's code: fields the rule does not read get
exactly 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from audit.adapters.config import load_config_model
from audit.adapters.http.chat_adapter import ChatDecisionAdapter
from audit.auditors.explanations import ExplanationsConfig
from audit.auditors.explanations.measure import measure
from audit.testing.llm import Screener, serve_screener
from tests.conftest import llm_config

from .conftest import make_context, metric, run

pytest.importorskip("captum")

REPO = Path(__file__).resolve().parents[3]
CONFIDENCE = 0.9
READ = ("education-num", "hours-per-week", "sex")
"""The only fields the rule reads."""
FEATURES = [
    "age", "workclass", "education", "education-num", "marital-status", "occupation",
    "relationship", "race", "sex", "hours-per-week",
]  # fmt: skip


@dataclass(frozen=True)
class _FixedRule(Screener):
    """Approve a merited man with probability 0.9; reject everyone else with 0.9."""

    def decide(self, fields: Mapping[str, str]) -> tuple[bool, float]:
        """Merit (the default rule) and not a woman."""
        merited = bool(self.approve(fields))
        return merited and fields.get(self.bias_field) != self.bias_value, CONFIDENCE


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _p_approve(values: Mapping[str, Any]) -> float:
    merited = _number(values["education-num"]) >= 13 or _number(values["hours-per-week"]) >= 50
    return CONFIDENCE if merited and values["sex"] != "Female" else 1 - CONFIDENCE


def _expected(row: pd.Series, field: str) -> float:
    """P(approve) of the row minus P(approve) with ``field`` reading 'not stated'."""
    values = {name: row[name] for name in READ}
    ablated = {**values, field: "not stated"} if field in values else values
    return _p_approve(values) - _p_approve(ablated)


@pytest.fixture(scope="module")
def applicants() -> pd.DataFrame:
    return pd.read_csv(REPO / "examples" / "data" / "adult.csv", nrows=120)


def _adapter(llm: Any, folder: Path, **changes: Any) -> ChatDecisionAdapter:
    adapter = load_config_model(llm_config(llm, folder, **changes))
    assert isinstance(adapter, ChatDecisionAdapter)
    return adapter


def test_only_the_fields_the_rule_reads_get_attribution(applicants, tmp_path):
    settings = ExplanationsConfig(
        method="feature_ablation", compare_with="none", n_rows=60, adverse_per_group=0
    )
    with serve_screener(_FixedRule()) as llm, _adapter(llm, tmp_path) as adapter:
        context = make_context(applicants, adapter, features=FEATURES, sensitive=["sex"])
        columns = list(adapter.template.fields)
        measured = measure(context, settings, columns)
    rows = applicants.iloc[measured.plan.rows()]
    expected = np.array([[_expected(row, f) for f in columns] for _, row in rows.iterrows()])
    np.testing.assert_allclose(measured.explained.primary, expected, rtol=0, atol=1e-9)
    ignored = [columns.index(f) for f in columns if f not in READ]
    assert not np.any(measured.explained.primary[:, ignored])
    # a merited woman is rejected for her sex alone: 0.1 - 0.9
    sex = measured.explained.primary[:, columns.index("sex")]
    merited = (rows["education-num"] >= 13) | (rows["hours-per-week"] >= 50)
    women = (merited & (rows["sex"] == "Female")).to_numpy()
    assert women.any()
    np.testing.assert_allclose(sex[women], 1 - 2 * CONFIDENCE)


def test_answers_without_a_decision_never_become_attributions(applicants, tmp_path):
    screener = _FixedRule(off_format=0.05)
    with serve_screener(screener) as llm, _adapter(llm, tmp_path, max_unanswered=0.5) as adapter:
        answered = adapter.predict_batch(applicants[FEATURES])
        assert answered.unanswered is not None and answered.unanswered.any()
        kept = applicants[~np.asarray(answered.unanswered)].reset_index(drop=True)
        context = make_context(kept, adapter, features=FEATURES, sensitive=["sex"])
        output = run(
            context, method="feature_ablation", compare_with="none", n_rows=60, adverse_per_group=0
        )
    share = metric(output, "sensitive_attribution_share", ("sex",))
    assert share.value is None
    assert "no decision" in " ".join(output.warnings)
