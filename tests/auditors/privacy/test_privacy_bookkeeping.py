"""One-pass clipping of linear stacks: each row's gradient clipped as if computed row by row."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import torch

from audit.auditors.privacy.bookkeeping import (
    LinearStackGradients,
    has_hooks,
    linear_stack,
    why_not_linear_stack,
)
from audit.auditors.privacy.dp_training import (
    Head,
    _loss,
    _squeeze,
    _target,
    layers_called_twice,
    resolve_mode,
)


def _network(outputs: int, *, bias: bool = True) -> torch.nn.Sequential:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(6, 5, bias=bias),
        torch.nn.Tanh(),
        torch.nn.Linear(5, 4, bias=bias),
        torch.nn.ReLU(),
        torch.nn.Linear(4, outputs, bias=bias),
    )


def _summed_loss(head: Head) -> Any:
    criterion = _loss(head, reduction="sum")
    return lambda out, labels: criterion(_squeeze(head, out), _target(head, labels))


def _clipped_row_by_row(
    network: torch.nn.Module, head: Head, rows: torch.Tensor, labels: torch.Tensor, bound: float
) -> list[torch.Tensor]:
    """The definition: each row's own gradient, scaled to norm at most ``bound``, summed."""
    loss = _summed_loss(head)
    parameters = list(network.parameters())
    total = [torch.zeros_like(p) for p in parameters]
    for i in range(len(rows)):
        grads = torch.autograd.grad(loss(network(rows[i : i + 1]), labels[i : i + 1]), parameters)
        norm = float(torch.sqrt(sum((g**2).sum() for g in grads)))
        factor = min(1.0, bound / (norm + 1e-6))
        for summed, g in zip(total, grads, strict=True):
            summed += factor * g
    return total


@pytest.mark.parametrize(
    ("head", "outputs", "bias"),
    [
        ("logit", 1, True),
        ("logit", 1, False),
        ("probability", 1, True),
        ("two_logits", 2, True),
        ("value", 1, True),
    ],
)
def test_clipped_gradient_equals_clipping_each_row_separately(
    head: Head, outputs: int, bias: bool
) -> None:
    network = _network(outputs, bias=bias)
    if head == "probability":
        network.append(torch.nn.Sigmoid())
    generator = torch.Generator().manual_seed(1)
    rows = 3 * torch.randn(40, 6, generator=generator)
    labels = (torch.rand(40, generator=generator) < 0.5).long()
    if head == "value":
        labels = torch.randn(40, generator=generator)
    stack = linear_stack(network)
    assert stack is not None
    # a bound that clips some rows and leaves others whole
    bound = 0.5
    LinearStackGradients(
        stack, _summed_loss(head), max_grad_norm=bound, noise_multiplier=0.0, expected_batch_size=40
    )(rows, labels)
    expected = _clipped_row_by_row(network, head, rows, labels, bound)
    for parameter, summed in zip(network.parameters(), expected, strict=True):
        assert parameter.grad is not None
        torch.testing.assert_close(parameter.grad, summed / 40, rtol=1e-4, atol=1e-7)


def test_clip_factors_clip_large_rows_and_keep_small_ones() -> None:
    network = torch.nn.Sequential(torch.nn.Linear(2, 1))
    with torch.no_grad():
        network[0].weight.copy_(torch.tensor([[1.0, 0.0]]))
        network[0].bias.zero_()
    gradients = LinearStackGradients(
        linear_stack(network) or (),
        lambda out, labels: ((out[:, 0] - labels) ** 2).sum() / 2,
        max_grad_norm=1.0,
        noise_multiplier=0.0,
        expected_batch_size=2,
    )
    # squared error / 2: a row's output gradient is (prediction - label); its weight
    # gradient is that times the row, its bias gradient that, so its norm is
    # |prediction - label| * sqrt(‖row‖² + 1)
    rows = torch.tensor([[3.0, 4.0], [0.1, 0.0]])
    labels = torch.tensor([0.0, 0.0])
    out = network(rows)
    (output_grad,) = torch.autograd.grad(gradients.loss(out, labels), [out])
    factors = gradients.clip_factors([rows], [output_grad])
    norm_large = 3.0 * (25.0 + 1.0) ** 0.5
    torch.testing.assert_close(factors, torch.tensor([1.0 / (norm_large + 1e-6), 1.0]))


def test_noise_has_the_stated_standard_deviation_per_averaged_coordinate() -> None:
    torch.manual_seed(0)
    network = torch.nn.Sequential(torch.nn.Linear(200, 50))
    rows, labels = torch.randn(64, 200), torch.randn(64)
    gradients = LinearStackGradients(
        linear_stack(network) or (),
        lambda out, y: ((out[:, 0] - y) ** 2).sum(),
        max_grad_norm=2.0,
        noise_multiplier=1.5,
        expected_batch_size=64,
    )
    gradients(rows, labels)
    first = network[0].weight.grad.clone()
    gradients(rows, labels)
    # the same batch twice: the clipped sums cancel and the difference of two noise
    # draws remains, each coordinate N(0, 2 (1.5 x 2 / 64)^2); 10,000 coordinates give
    # the standard deviation to about 0.7 %
    difference = network[0].weight.grad - first
    expected = (2**0.5) * 1.5 * 2.0 / 64
    assert float(difference.std()) == pytest.approx(expected, rel=0.03)
    assert float(difference.mean()) == pytest.approx(0.0, abs=4 * expected / 100)


def test_an_empty_batch_gets_noise_only() -> None:
    torch.manual_seed(0)
    network = _network(1)
    gradients = LinearStackGradients(
        linear_stack(network) or (),
        _summed_loss("logit"),
        max_grad_norm=1.0,
        noise_multiplier=0.0,
        expected_batch_size=10,
    )
    gradients(torch.empty(0, 6), torch.empty(0, dtype=torch.long))
    assert all(p.grad is not None and not p.grad.any() for p in network.parameters())


def test_what_counts_as_a_linear_stack() -> None:
    assert why_not_linear_stack(torch.nn.Linear(3, 1)) is None
    assert why_not_linear_stack(_network(1)) is None
    with_dropout = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.Dropout(0.1), torch.nn.GELU(), torch.nn.Linear(4, 1)
    )
    assert why_not_linear_stack(with_dropout) is None
    norm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LayerNorm(4), torch.nn.Linear(4, 1))
    assert why_not_linear_stack(norm) == "it has a LayerNorm layer"
    prelu = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.PReLU(), torch.nn.Linear(4, 1))
    assert why_not_linear_stack(prelu) == "it has a PReLU layer"
    nested = torch.nn.Sequential(torch.nn.Sequential(torch.nn.Linear(3, 1)))
    assert why_not_linear_stack(nested) == "it has a Sequential layer"
    assert why_not_linear_stack(torch.nn.Sequential(torch.nn.ReLU())) == "it has no linear layer"
    frozen = torch.nn.Linear(3, 1)
    frozen.bias.requires_grad_(False)
    assert why_not_linear_stack(frozen) == "some of its parameters are frozen"
    assert why_not_linear_stack(torch.nn.Linear(3, 1), input_ndim=3) == (
        "its inputs have 3 dimensions, not 2 (rows x features)"
    )
    assert linear_stack(norm) is None
    assert linear_stack(with_dropout) == tuple(with_dropout)


def _tied_network() -> torch.nn.Sequential:
    """One Linear layer used twice in a row: its weights are tied."""
    torch.manual_seed(0)
    shared = torch.nn.Linear(6, 6)
    return torch.nn.Sequential(
        shared, torch.nn.Tanh(), shared, torch.nn.Tanh(), torch.nn.Linear(6, 1)
    )


def test_tied_weights_are_refused_by_book_keeping_and_sent_to_opacus_hooks() -> None:
    network = _tied_network()
    assert why_not_linear_stack(network) == (
        "a layer or parameter is used more than once (tied weights)"
    )
    assert linear_stack(network) is None
    assert resolve_mode("auto", network) == "hooks"
    with pytest.raises(ValueError, match="tied weights"):
        resolve_mode("bookkeeping", network)
    with pytest.raises(ValueError, match="tied weights"):
        LinearStackGradients(
            tuple(network),
            _summed_loss("logit"),
            max_grad_norm=1.0,
            noise_multiplier=0.0,
            expected_batch_size=1,
        )
    # a parameter assigned to two layers is tied too
    first, second = torch.nn.Linear(4, 4), torch.nn.Linear(4, 4)
    second.weight = first.weight
    assert "tied" in str(why_not_linear_stack(torch.nn.Sequential(first, second)))


# torch's notice on Opacus's hooks when the inputs need no gradient; not about the result
@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
def test_the_engine_chosen_for_tied_weights_clips_the_autograd_row_gradients() -> None:
    from opacus import GradSampleModule

    network = _tied_network()
    torch.manual_seed(1)
    rows = torch.randn(12, 6) * 3
    labels = (torch.rand(12) > 0.5).long()
    bound = 0.5
    expected = _clipped_row_by_row(network, "logit", rows, labels, bound)

    sampled = GradSampleModule(copy.deepcopy(network), loss_reduction="sum")
    _summed_loss("logit")(sampled(rows), labels).backward()
    per_row = [p.grad_sample.reshape(len(rows), -1) for p in sampled.parameters()]
    norms = torch.cat(per_row, dim=1).norm(dim=1)
    factor = (bound / (norms + 1e-6)).clamp(max=1.0)
    for want, p in zip(expected, sampled.parameters(), strict=True):
        got = torch.einsum("n,n...->...", factor, p.grad_sample)
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    assert float(factor.min()) < 1.0  # some rows were clipped


class _CalledTwice(torch.nn.Module):
    """A layer registered once and called twice by ``forward``: tied weights no registry shows."""

    def __init__(self) -> None:
        super().__init__()
        self.inner = torch.nn.Linear(6, 6)
        self.head = torch.nn.Linear(6, 1)

    def forward(self, rows: torch.Tensor) -> torch.Tensor:
        return self.head(torch.tanh(self.inner(torch.tanh(self.inner(rows)))))


def test_a_layer_called_twice_by_forward_is_sent_to_opacus_hooks() -> None:
    network = _CalledTwice()
    sample = torch.randn(2, 6)
    assert layers_called_twice(network, sample)
    assert not layers_called_twice(_network(1), sample)
    assert resolve_mode("auto", network) == "ghost"  # what the registry alone suggests
    assert resolve_mode("auto", network, sample=sample) == "hooks"
    assert network.training  # the probe leaves the mode as it was


def test_layers_with_hooks_are_not_a_linear_stack() -> None:
    # the forward pass calls each layer's function directly, so a hook would not run
    network = _network(1)
    handle = network[2].register_forward_hook(lambda module, args, out: out * 2)
    assert has_hooks(network)
    assert why_not_linear_stack(network) == "hooks are registered on it or on every module"
    assert resolve_mode("auto", network) == "ghost"
    handle.remove()
    assert not has_hooks(network)
    assert resolve_mode("auto", network) == "bookkeeping"
    handle = torch.nn.modules.module.register_module_forward_pre_hook(lambda module, args: None)
    try:
        assert has_hooks(network)
        assert linear_stack(network) is None
    finally:
        handle.remove()
    assert linear_stack(network) == tuple(network)


class _DoubledLinear(torch.nn.Linear):
    def forward(self, rows: torch.Tensor) -> torch.Tensor:
        return 2 * super().forward(rows)


def test_a_linear_layer_with_a_forward_of_its_own_is_not_a_linear_stack() -> None:
    network = torch.nn.Sequential(_DoubledLinear(3, 1))
    assert why_not_linear_stack(network) == "its _DoubledLinear layer has a forward of its own"


def test_each_step_refills_the_same_gradient_tensors() -> None:
    network = _network(1)
    untouched = copy.deepcopy(network)
    generator = torch.Generator().manual_seed(2)
    rows = 3 * torch.randn(30, 6, generator=generator)
    labels = (torch.rand(30, generator=generator) < 0.5).long()

    def gradients(of: torch.nn.Sequential) -> LinearStackGradients:
        return LinearStackGradients(
            linear_stack(of) or (),
            _summed_loss("logit"),
            max_grad_norm=0.5,
            noise_multiplier=1.0,
            expected_batch_size=30,
        )

    reused = gradients(network)
    torch.manual_seed(3)
    reused(rows, labels)
    first = [p.grad for p in network.parameters()]
    network.zero_grad()  # grads set to None: the next step sets its own again
    torch.manual_seed(4)
    reused(rows, labels)
    assert all(p.grad is g for p, g in zip(network.parameters(), first, strict=True))
    # nothing of the first step is left: a fresh engine's first step with the same seed
    torch.manual_seed(4)
    gradients(untouched)(rows, labels)
    for got, want in zip(network.parameters(), untouched.parameters(), strict=True):
        assert want.grad is not None
        assert torch.equal(got.grad, want.grad)
