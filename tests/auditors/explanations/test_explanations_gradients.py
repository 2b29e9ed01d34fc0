"""PyTorch models: Integrated Gradients per original column, complete, on the right device."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.compose import make_column_transformer
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from audit.adapters.torch import TorchAdapter
from audit.auditors.explanations.gradients import EncodedModel, column_of_inputs
from audit.core.context import AuditContext, ColumnRoles, Outcomes, Task

from .conftest import make_context, metric, run, table

FEATURES = ["x", "z", "colour", "sex", "proxy"]
NUMBERS = ["x", "z"]
WEIGHTS = np.array([1.5, -2.0])
BIAS = 4.0


def _adapter(data, device=None):
    encode = make_column_transformer(
        (OneHotEncoder(sparse_output=False), ["colour", "sex", "proxy"]),
        (StandardScaler(), ["x", "z"]),
    ).fit(data[FEATURES])
    torch.manual_seed(0)
    width = encode.transform(data[FEATURES].head(2)).shape[1]
    module = torch.nn.Sequential(
        torch.nn.Linear(width, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)
    ).double()
    return TorchAdapter(module, encode=encode, device=device)


def test_encoded_inputs_are_traced_to_their_columns(synthetic):
    owner, warnings = column_of_inputs(_adapter(synthetic), synthetic, FEATURES, seed=0)
    # one-hot: colour (3), sex (2), proxy (2), then the scaled numbers x and z.
    assert owner.tolist() == [2, 2, 2, 3, 3, 4, 4, 0, 1]
    assert warnings == []


def test_integrated_gradients_are_complete(synthetic):
    adapter = _adapter(synthetic)
    owner, _ = column_of_inputs(adapter, synthetic, FEATURES, seed=0)
    model = EncodedModel(adapter, owner, len(FEATURES))
    inputs = model.encode(synthetic.loc[:49, FEATURES])
    baseline = inputs.mean(dim=0, keepdim=True)
    values, error = model.integrated_gradients(inputs, baseline, steps=200, rows_per_call=4096)
    with torch.no_grad():
        expected = (model.score(inputs) - model.score(baseline)).numpy()
    assert values.shape == (50, len(FEATURES))
    np.testing.assert_allclose(values.sum(axis=1), expected, atol=1e-4)
    assert error < 1e-4


def test_the_auditor_uses_gradients_for_torch_and_states_the_device(synthetic):
    adapter = _adapter(synthetic, device="cpu")
    context = make_context(synthetic, adapter, features=FEATURES, sensitive=["sex"])
    output = run(context, n_rows=60, adverse_per_group=1)
    cost = table(output, "Cost of the explanations")
    assert cost["Method"][1] == "integrated_gradients"
    assert cost["Comparison"][1] == "feature_ablation"
    assert cost["Device"][1] == "cpu"
    assert cost["Largest completeness error (Integrated Gradients)"][1] < 1e-2
    assert "on cpu" in output.method
    assert metric(output, "attribution_stability", ()).value is not None


def _numbers(rows):
    return rows[NUMBERS].to_numpy(dtype=np.float64)


def _linear_regressor(n_outputs: int = 1) -> TorchAdapter:
    """``x @ WEIGHTS + BIAS`` over the columns x and z, declared as a regressor."""
    linear = torch.nn.Linear(len(NUMBERS), n_outputs).double()
    with torch.no_grad():
        linear.weight.copy_(torch.as_tensor(np.tile(WEIGHTS, (n_outputs, 1))))
        linear.bias.fill_(BIAS)
    return TorchAdapter(linear, encode=_numbers, output="values", device="cpu")


def test_integrated_gradients_of_a_linear_regressor_are_weight_times_input(synthetic):
    adapter = _linear_regressor()
    owner, _ = column_of_inputs(adapter, synthetic, NUMBERS, seed=0)
    model = EncodedModel(adapter, owner, len(NUMBERS))
    inputs = model.encode(synthetic.loc[:49, NUMBERS])
    baseline = torch.zeros((1, len(NUMBERS)), dtype=torch.float64)
    values, error = model.integrated_gradients(inputs, baseline, steps=20, rows_per_call=4096)

    x = _numbers(synthetic.loc[:49])
    # exact up to Captum's step weights, which it casts to float32
    np.testing.assert_allclose(values, WEIGHTS * (x - 0.0), rtol=1e-6, atol=0)
    assert error < 1e-6
    with torch.no_grad():  # the raw value, no sigmoid
        np.testing.assert_allclose(model.score(inputs).numpy(), x @ WEIGHTS + BIAS, atol=1e-12)


def test_a_regressor_of_two_outputs_is_refused_in_one_line(synthetic):
    adapter = _linear_regressor(n_outputs=2)
    model = EncodedModel(adapter, np.array([0, 1]), len(NUMBERS))
    with pytest.raises(ValueError, match=r"shape \(5, 2\) for 5 rows; output='values'") as caught:
        model.score(model.encode(synthetic.loc[:4, NUMBERS]))
    assert "\n" not in str(caught.value)


def test_the_auditor_explains_a_torch_regressors_predicted_value(synthetic):
    adapter = _linear_regressor()
    predicted = adapter.predict_batch(synthetic[NUMBERS]).labels
    assert predicted is not None
    context = AuditContext(
        data=synthetic,
        roles=ColumnRoles(
            target="y", sensitive=("sex",), features=tuple(NUMBERS), task=Task.REGRESSION
        ),
        outcomes=Outcomes(
            task=Task.REGRESSION,
            y_true=predicted + np.random.default_rng(0).normal(size=len(synthetic)),
            y_pred=predicted,
        ),
        model=adapter,
        seed=0,
    )
    output = run(context, n_rows=60, adverse_per_group=1, baseline="mean")

    cost = table(output, "Cost of the explanations")
    assert cost["Method"][1] == "integrated_gradients"
    assert cost["Attributed output"][1] == "the predicted value"
    mean = _numbers(synthetic).mean(axis=0)
    assert cost["Output at the baseline"][1] == pytest.approx(mean @ WEIGHTS + BIAS, abs=1e-12)
    assert cost["Largest completeness error (Integrated Gradients)"][1] < 1e-6


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gradients_run_on_the_gpu_when_there_is_one(synthetic):
    adapter = _adapter(synthetic)
    context = make_context(synthetic, adapter, features=FEATURES, sensitive=["sex"])
    output = run(context, n_rows=60)
    assert table(output, "Cost of the explanations")["Device"][1].startswith("cuda")
