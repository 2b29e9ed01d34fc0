"""A model whose output moves with no column gives no attribution: every metric is INCONCLUSIVE.

Before, ``top_k_agreement_across_groups`` was PASS at 1.00 for a constant model: all
attributions were zero and both top-k lists were the first k columns (issue 21, item 6).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from audit import run_audit
from audit.core.findings import Verdict
from audit.core.measurements import GroupStatus

from .conftest import make_context, metric, run, score_adapter

FEATURES = ["x", "z", "colour", "sex", "proxy"]
POLICY = Path(__file__).resolve().parents[3] / "examples" / "explanations-policy.yaml"


def _constant(rows: pd.DataFrame) -> np.ndarray:
    return np.full(len(rows), 0.3)


def test_every_explanation_metric_of_a_constant_model_has_no_value_and_says_why(synthetic):
    context = make_context(
        synthetic, score_adapter(_constant, "constant"), features=FEATURES, sensitive=["sex"]
    )
    output = run(context, n_rows=60, min_group_rows=10)
    for name in ("sensitive_attribution_share", "proxy_attribution_share"):
        found = metric(output, name, ("sex",))
        assert found.value is None and "no attribution" in (found.reason or "")
        assert {g.status for g in found.groups} == {GroupStatus.UNDEFINED}
    agreement = metric(output, "top_k_agreement_across_groups", ("sex",))
    assert agreement.value is None
    assert "no attribution" in (agreement.reason or "")
    assert {g.status for g in agreement.groups} == {GroupStatus.UNDEFINED}
    assert all(g.value is None for g in agreement.groups)
    assert metric(output, "attribution_stability", ()).value is None


def test_the_example_policy_is_inconclusive_for_a_constant_model(synthetic):
    result = run_audit(
        model=score_adapter(_constant, "constant"),
        data=synthetic,
        policy=POLICY,
        target="y",
        positive_label=1,
        sensitive=["sex"],
        features=FEATURES,
    )
    verdicts = {f.requirement_id: f.verdict for f in result.findings}
    assert verdicts == {
        "sensitive-reliance": Verdict.INCONCLUSIVE,
        "proxy-reliance": Verdict.INCONCLUSIVE,
        "top-reasons-agree": Verdict.INCONCLUSIVE,
        # Every decision is adverse and no column explains any of them: measured, and
        # below the threshold, not a pass.
        "adverse-reasons": Verdict.FAIL,
    }
