"""Bad data, a failing model or bad settings: reasons and errors that say what is wrong."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from audit.adapters.callable import CallableAdapter
from audit.auditors.explanations import ExplanationsAuditor, ExplanationsConfig
from audit.core.protocols import Auditor

from .conftest import logistic, make_context, run, score_adapter

FEATURES = ["x", "z", "colour", "sex", "proxy"]
METRICS = {
    "sensitive_attribution_share",
    "proxy_attribution_share",
    "top_k_agreement_across_groups",
    "attribution_stability",
    "share_of_adverse_decisions_with_reasons",
}


def test_the_auditor_meets_the_protocol():
    auditor = ExplanationsAuditor()
    assert isinstance(auditor, Auditor)
    assert ExplanationsAuditor.Config is ExplanationsConfig
    assert set(auditor.metrics()) == METRICS


def test_a_missing_input_column_is_a_reason_naming_the_columns(synthetic):
    adapter = score_adapter(lambda rows: logistic(rows["x"].to_numpy()), "x")
    context = make_context(synthetic, adapter, features=["x"], sensitive=["sex"])
    broken = type(context)(
        data=synthetic.drop(columns=["x"]),
        roles=context.roles,
        outcomes=context.outcomes,
        model=adapter,
    )
    output = run(broken)
    assert {m.metric for m in output.metrics} == METRICS
    assert all(m.value is None for m in output.metrics)
    reason = output.metrics[0].reason
    assert "'x'" not in reason and "x not in the data" in reason.replace("(s)", "")
    assert "z, colour, sex, proxy, y" in reason


def test_a_model_that_fails_while_explained_gives_reasons_not_an_exception(synthetic):
    calls = {"n": 0}

    def flaky(rows):
        calls["n"] += 1
        if calls["n"] > 1:
            raise RuntimeError("endpoint melted")
        return {"scores": logistic(rows["x"].to_numpy())}

    context = make_context(
        synthetic, CallableAdapter(flaky, name="flaky"), features=FEATURES, sensitive=["sex"]
    )
    output = run(context, n_rows=20)
    assert all(m.value is None for m in output.metrics)
    assert "endpoint melted" in output.metrics[0].reason
    assert output.warnings and "could not be measured" in output.warnings[0]


def test_integrated_gradients_on_a_black_box_falls_back_with_a_warning(synthetic):
    adapter = score_adapter(lambda rows: logistic(rows["x"].to_numpy()), "x")
    context = make_context(synthetic, adapter, features=FEATURES, sensitive=["sex"])
    output = run(context, method="integrated_gradients", n_rows=30, repeats=1)
    assert any("needs a PyTorch model" in w for w in output.warnings)
    assert "shapley_value_sampling" in output.method


def test_a_labels_only_model_is_explained_through_its_decisions(synthetic):
    adapter = CallableAdapter(lambda rows: (rows["x"] > 0).astype(int), name="rule")
    context = make_context(synthetic, adapter, features=FEATURES, sensitive=["sex"])
    output = run(context, n_rows=30, repeats=1, compare_with="none")
    assert "the decision (1 = positive label)" in output.method


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"n_row": 10}, "Extra inputs are not permitted"),
        ({"baseline": "reference"}, "needs the reference row"),
        ({"reference": {"x": 1}}, "only read when baseline is 'reference'"),
        ({"perturbations_per_eval": 0}, "perturbations_per_eval"),
        ({"proxy_auc_threshold": 0.4}, "greater than 0.5"),
    ],
)
def test_bad_settings_are_refused_with_the_reason(settings, message):
    with pytest.raises(ValidationError, match=message):
        ExplanationsConfig(**settings)
