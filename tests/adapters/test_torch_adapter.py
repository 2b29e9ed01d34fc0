"""TorchAdapter: a module plus its declared encoding gives the module's own outputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from audit.adapters import TorchAdapter
from audit.core.protocols import ModelAdapter
from audit.errors import ModelError, ModelSpecError


@pytest.fixture(scope="module")
def encoder(pipeline):
    """The pipeline's fitted ColumnTransformer: a declared encoding with sparse output."""
    return pipeline.named_steps["encode"]


def make_net(n_inputs: int, n_outputs: int, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(n_inputs, 8), nn.ReLU(), nn.Linear(8, n_outputs))


def manual_forward(net: nn.Module, encoder, rows) -> torch.Tensor:
    encoded = encoder.transform(rows)
    dense = encoded.toarray() if hasattr(encoded, "toarray") else encoded
    with torch.no_grad():
        return net(torch.as_tensor(np.asarray(dense), dtype=torch.float32))


def test_binary_logit_matches_manual_forward_and_sigmoid(encoder, audit_rows):
    width = encoder.transform(audit_rows.iloc[:1]).shape[1]
    net = make_net(width, 1)
    adapter = TorchAdapter(net, encode=encoder, device="cpu")
    predictions = adapter.predict_batch(audit_rows)

    expected = torch.sigmoid(manual_forward(net, encoder, audit_rows)[:, 0]).numpy()
    assert isinstance(adapter, ModelAdapter)
    np.testing.assert_allclose(predictions.scores, expected, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(predictions.labels, (expected >= 0.5).astype(int))
    assert not net.training


def test_batches_give_the_same_result(encoder, audit_rows, predict_in_batches):
    width = encoder.transform(audit_rows.iloc[:1]).shape[1]
    net = make_net(width, 1)
    whole = TorchAdapter(net, encode=encoder, device="cpu").predict_batch(audit_rows)
    batched = predict_in_batches(
        TorchAdapter(net, encode=encoder, batch_size=16, device="cpu"), audit_rows
    )

    np.testing.assert_allclose(batched.scores, whole.scores, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(batched.labels, whole.labels)


def test_callable_encoding_and_probability_output(audit_rows, numeric):
    net = nn.Sequential(make_net(len(numeric), 1), nn.Sigmoid())

    def encode(rows):
        return (rows[numeric].to_numpy(dtype=np.float64) - 40.0) / 100.0

    predictions = TorchAdapter(net, encode=encode, output="probabilities").predict_batch(audit_rows)
    with torch.no_grad():
        expected = net(torch.tensor(encode(audit_rows), dtype=torch.float32))[:, 0].numpy()
    np.testing.assert_allclose(predictions.scores, expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("positive_index", [0, 1])
def test_two_logits_softmax_and_positive_index(encoder, audit_rows, positive_index):
    width = encoder.transform(audit_rows.iloc[:1]).shape[1]
    net = make_net(width, 2)
    adapter = TorchAdapter(net, encode=encoder, positive_index=positive_index)
    predictions = adapter.predict_batch(audit_rows)

    logits = manual_forward(net, encoder, audit_rows)
    expected = torch.softmax(logits, dim=1)[:, positive_index].numpy()
    np.testing.assert_allclose(predictions.scores, expected, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(predictions.labels, (expected >= 0.5).astype(int))


def test_more_than_two_classes_give_argmax_labels_only(encoder, audit_rows):
    width = encoder.transform(audit_rows.iloc[:1]).shape[1]
    net = make_net(width, 3)
    predictions = TorchAdapter(net, encode=encoder).predict_batch(audit_rows)

    expected = torch.argmax(manual_forward(net, encoder, audit_rows), dim=1).numpy()
    assert predictions.scores is None
    np.testing.assert_array_equal(predictions.labels, expected)


def linear_regressor(weights: list[float], bias: float, *, flat: bool) -> nn.Module:
    """A float64 ``nn.Linear`` with hand-set weights; ``flat`` gives shape (n,), else (n, 1)."""
    linear = nn.Linear(len(weights), 1).double()
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([weights], dtype=torch.float64))
        linear.bias.fill_(bias)
    return nn.Sequential(linear, nn.Flatten(0)) if flat else linear


@pytest.mark.parametrize("flat", [False, True], ids=["(n, 1)", "(n,)"])
def test_values_output_is_the_predicted_value_without_sigmoid(
    audit_rows, numeric, predict_in_batches, flat
):
    weights = [0.5, 1e-5, -0.25, 0.001, 0.002, 0.75]
    bias = 3.0
    assert len(weights) == len(numeric)

    def encode(rows):
        return rows[numeric].fillna(0.0).to_numpy(dtype=np.float64)

    net = linear_regressor(weights, bias, flat=flat)
    adapter = TorchAdapter(net, encode=encode, output="values", device="cpu")
    predictions = adapter.predict_batch(audit_rows)

    expected = encode(audit_rows) @ np.array(weights) + bias
    assert predictions.scores is None
    assert predictions.labels is not None and predictions.labels.dtype == np.float64
    np.testing.assert_allclose(predictions.labels, expected, rtol=1e-12, atol=0)
    assert expected.max() > 1.0  # a sigmoid would have bounded them by 1
    batched = predict_in_batches(
        TorchAdapter(net, encode=encode, output="values", batch_size=16), audit_rows
    )
    np.testing.assert_array_equal(batched.labels, predictions.labels)
    assert batched.scores is None
    assert adapter.describe()["output"] == "values"


@pytest.mark.parametrize(
    ("module", "shape"),
    [
        (nn.Linear(2, 2), "(250, 2)"),
        (nn.Sequential(nn.Linear(2, 1), nn.Flatten(0), nn.Unflatten(0, (50, 5))), "(50, 5)"),
    ],
    ids=["two columns", "wrong rows"],
)
def test_values_output_of_another_shape_is_a_one_line_error(audit_rows, module, shape):
    adapter = TorchAdapter(module, encode=lambda rows: np.zeros((len(rows), 2)), output="values")

    with pytest.raises(ModelError, match="output='values' expects one value per row") as caught:
        adapter.predict_batch(audit_rows)
    message = str(caught.value)
    assert f"returned output of shape {shape} for 250 rows" in message
    assert "\n" not in message


def test_fingerprint_hashes_the_weights(encoder):
    first = TorchAdapter(make_net(4, 1, seed=1), encode=encoder)
    same = TorchAdapter(make_net(4, 1, seed=1), encode=encoder)
    other = TorchAdapter(make_net(4, 1, seed=2), encode=encoder)

    assert first.fingerprint() == same.fingerprint()
    assert first.fingerprint() != other.fingerprint()
    assert len(first.fingerprint()) == 64


def test_describe_is_json_safe(encoder):
    description = TorchAdapter(make_net(4, 1), encode=encoder, device="cpu").describe()

    assert json.loads(json.dumps(description)) == description
    assert description["kind"] == "pytorch"
    assert description["device"] == "cpu"
    assert description["encode"].endswith("ColumnTransformer")


def test_encoding_of_the_wrong_width_is_a_one_line_error(encoder, audit_rows):
    adapter = TorchAdapter(make_net(3, 1), encode=encoder)

    with pytest.raises(ModelError, match="PyTorch model Sequential failed") as caught:
        adapter.predict_batch(audit_rows)
    assert "\n" not in str(caught.value)


def test_encoding_with_the_wrong_row_count_is_refused(audit_rows):
    adapter = TorchAdapter(make_net(2, 1), encode=lambda rows: np.zeros((3, 2)))

    with pytest.raises(ModelError, match=r"returned shape \(3, 2\) for 250 rows"):
        adapter.predict_batch(audit_rows)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"output": "odds"}, "'output' parameter .* must be 'logits', 'probabilities' or 'values'"),
        ({"positive_index": 2}, "'positive_index' parameter"),
        ({"encode": "onehot"}, "'encode' parameter"),
        ({"batch_size": 0}, "'batch_size' parameter"),
        ({"device": "no-such-device"}, "cannot run the PyTorch model on device 'no-such-device'"),
    ],
)
def test_invalid_settings_are_refused(encoder, kwargs, message):
    settings = {"encode": encoder, **kwargs}
    with pytest.raises(ModelSpecError, match=message):
        TorchAdapter(make_net(2, 1), **settings)


def test_non_module_is_refused(encoder):
    with pytest.raises(ModelSpecError, match=r"needs a torch\.nn\.Module"):
        TorchAdapter(lambda x: x, encode=encoder)
