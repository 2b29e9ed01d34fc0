"""Bad data, a failing model or bad settings: reasons and errors that say what is wrong."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from audit.adapters.callable import CallableAdapter
from audit.auditors.explanations import ExplanationsAuditor, ExplanationsConfig
from audit.auditors.explanations.metrics import POPULATION_METRICS
from audit.core.protocols import Auditor

from .conftest import logistic, make_context, metric, run, score_adapter

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


@pytest.mark.parametrize(
    ("sex", "why"),
    [(None, "missing in every row"), ("F", "has the same one (sex=F)")],
)
def test_a_sensitive_column_with_fewer_than_two_values_is_not_measured(synthetic, sex, why):
    # The model adds 1.5 for sex F: with one value (or none) the baseline holds it, no
    # attribution can fall on sex and there is no second group, so a share of 0 and an
    # agreement of 1 would be passes built on nothing.
    adapter = score_adapter(
        lambda rows: logistic(rows["x"].to_numpy() + 1.5 * (rows["sex"] == "F").to_numpy()), "m"
    )
    data = synthetic.assign(sex=sex)
    context = make_context(data, adapter, features=FEATURES, sensitive=["sex", "colour"])
    output = run(context, n_rows=60, repeats=1, compare_with="none")
    for grouping in (("sex",), ("sex", "colour")):
        for name in METRICS - POPULATION_METRICS:
            result = metric(output, name, grouping)
            assert result.value is None and why in result.reason
    assert metric(output, "top_k_agreement_across_groups", ("colour",)).value is not None


def test_n_rows_above_the_data_explains_every_row_and_says_so(synthetic):
    adapter = score_adapter(lambda rows: logistic(rows["x"].to_numpy()), "x")
    small = synthetic.iloc[:50].reset_index(drop=True)
    context = make_context(small, adapter, features=FEATURES, sensitive=["sex"])
    output = run(context, n_rows=100_000, repeats=1, compare_with="none")
    assert "over all 50 rows of the data (fewer than the 100000 asked for)" in output.method
    assert "sample of 100000" not in output.method
    caption = next(t.caption for t in output.tables if t.title.startswith("Global importance"))
    assert caption is not None and caption.startswith("Over the 50 randomly sampled rows")


def test_a_model_returning_nan_on_perturbed_rows_gives_the_reason(synthetic):
    # NaN only where z holds the baseline's median exactly: no real row, only perturbed ones.
    median = float(synthetic["z"].median())
    assert not (synthetic["z"] == median).any()

    def scores(rows):
        out = logistic(rows["x"].to_numpy() + rows["z"].to_numpy())
        return np.where(rows["z"].to_numpy() == median, np.nan, out)

    context = make_context(
        synthetic, score_adapter(scores, "nan"), features=FEATURES, sensitive=["sex"]
    )
    output = run(context, n_rows=20, repeats=1, compare_with="none")
    assert {m.metric for m in output.metrics} == METRICS
    assert all(m.value is None for m in output.metrics)
    assert "NaN or infinite" in output.metrics[0].reason
