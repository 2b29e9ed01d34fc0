"""Private gradients of a stack of linear layers in one backward pass ("book-keeping").

For a row entering a linear layer with input ``a`` and output gradient ``g``, the row's
weight gradient is the outer product ``g aᵀ``, whose L2 norm is ``‖g‖ ‖a‖`` (its bias
gradient is ``g``): the "ghost norm" that Opacus's ghost clipping also uses.  So every
row's gradient norm over the whole network comes from the inputs and output gradients of
its linear layers, without materialising any row's gradient.  With each row's clip factor
``c`` known, a layer's clipped gradient sum is ``(c ⊙ G)ᵀ A``: the book-keeping step of
Bu et al. (2023, "Differentially private optimization on large model at small cost"), which
replaces ghost clipping's second backward pass.  Both need rows that do not mix: linear
layers on 2-D inputs and parameter-free elementwise layers between them.  Each parameter
must also be used once: a layer used twice (tied weights) has a row gradient that is the
sum of two outer products, whose norm is not the sum of their norms, so such a network is
refused here (``auto`` sends it to Opacus's per-sample-gradient hooks, which add the uses).

The noise is added as Opacus's ``DPOptimizer`` adds it: one normal draw per parameter, in
parameter order, from torch's generator, with standard deviation noise multiplier x
``max_grad_norm``; the noisy sum is divided by the expected batch size.  With the same seed
and batches, a training takes the same steps as Opacus's per-sample-gradient hooks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = [
    "ELEMENTWISE_LAYERS",
    "LinearStackGradients",
    "has_tied_parameters",
    "linear_stack",
    "why_not_linear_stack",
]

ELEMENTWISE_LAYERS: frozenset[str] = frozenset(
    {
        "ReLU",
        "LeakyReLU",
        "ELU",
        "SELU",
        "CELU",
        "GELU",
        "SiLU",
        "Mish",
        "Tanh",
        "Sigmoid",
        "Softplus",
        "Hardtanh",
        "Hardswish",
        "Hardsigmoid",
        "Identity",
        "Dropout",
    }
)
"""Parameter-free layers that act on each row alone, allowed between linear layers."""

_CLIP_EPSILON = 1e-6
"""Added to each row's norm before dividing, as Opacus does."""


def has_tied_parameters(module: Any) -> bool:
    """Whether a parameter of ``module`` is registered more than once (tied weights).

    A layer that appears twice in a ``Sequential``, or a parameter assigned to two layers,
    counts; a layer called twice by a custom ``forward`` without being registered twice
    cannot be seen here.
    """
    every = list(module.named_parameters(remove_duplicate=False))
    return len(every) != len(list(module.parameters()))


def why_not_linear_stack(module: Any, input_ndim: int = 2) -> str | None:
    """Why ``module`` cannot be trained by :class:`LinearStackGradients`; ``None`` when it can.

    It can when it is a ``torch.nn.Linear``, or a ``torch.nn.Sequential`` of linear layers
    and :data:`ELEMENTWISE_LAYERS`, every parameter trainable and used once, fed rows of 2-D
    inputs.
    """
    import torch

    if input_ndim != 2:
        return f"its inputs have {input_ndim} dimensions, not 2 (rows x features)"
    if has_tied_parameters(module):
        return "a layer or parameter is used more than once (tied weights)"
    layers = list(module) if isinstance(module, torch.nn.Sequential) else [module]
    for layer in layers:
        name = type(layer).__name__
        if isinstance(layer, torch.nn.Linear):
            if not all(p.requires_grad for p in layer.parameters()):
                return "some of its parameters are frozen"
        elif name not in ELEMENTWISE_LAYERS or any(True for _ in layer.parameters()):
            return f"it has a {name} layer"
    if not any(isinstance(layer, torch.nn.Linear) for layer in layers):
        return "it has no linear layer"
    return None


def linear_stack(module: Any, input_ndim: int = 2) -> tuple[Any, ...] | None:
    """The layers of ``module`` in order when it is a linear stack, else ``None``.

    See :func:`why_not_linear_stack` for what a linear stack is.
    """
    import torch

    if why_not_linear_stack(module, input_ndim) is not None:
        return None
    return tuple(module) if isinstance(module, torch.nn.Sequential) else (module,)


class LinearStackGradients:
    """Sets each parameter's ``grad`` to the clipped, noised, averaged gradient of a batch.

    Parameters
    ----------
    layers:
        The stack's layers in order (from :func:`linear_stack`).
    loss:
        ``(network output, batch labels) -> summed loss`` of the batch's rows (a sum, so
        that each row's output gradient is its own loss's gradient).
    max_grad_norm:
        The L2 bound each row's whole gradient is clipped to.
    noise_multiplier:
        The Gaussian noise's standard deviation in units of ``max_grad_norm``.
    expected_batch_size:
        What the noisy sum is divided by (Opacus: training rows x sample rate, rounded
        down).
    """

    def __init__(
        self,
        layers: tuple[Any, ...],
        loss: Callable[[Any, Any], Any],
        *,
        max_grad_norm: float,
        noise_multiplier: float,
        expected_batch_size: int,
    ) -> None:
        import torch

        if has_tied_parameters(torch.nn.Sequential(*layers)):
            raise ValueError(
                "book-keeping needs every layer used once; these layers share parameters "
                "(tied weights)"
            )
        self.layers = layers
        self.linears = tuple(layer for layer in layers if isinstance(layer, torch.nn.Linear))
        self.loss = loss
        self.max_grad_norm = float(max_grad_norm)
        self.noise_std = float(noise_multiplier) * self.max_grad_norm
        self.expected_batch_size = int(expected_batch_size)

    def _forward(self, rows: Any) -> tuple[Any, list[Any], list[Any]]:
        import torch

        inputs: list[Any] = []
        outputs: list[Any] = []
        out = rows
        for layer in self.layers:
            if isinstance(layer, torch.nn.Linear):
                inputs.append(out)
                out = layer(out)
                outputs.append(out)
            else:
                out = layer(out)
        return out, inputs, outputs

    def clip_factors(self, inputs: list[Any], output_grads: list[Any]) -> Any:
        """Each row's clip factor ``min(1, C / (‖row gradient‖ + 1e-6))``."""
        squared = None
        for layer, a, g in zip(self.linears, inputs, output_grads, strict=True):
            g_squared = g.square().sum(dim=1)
            term = g_squared * a.square().sum(dim=1)
            if layer.bias is not None:
                term = term + g_squared
            squared = term if squared is None else squared + term
        assert squared is not None  # a linear stack has a linear layer
        return (self.max_grad_norm / (squared.sqrt() + _CLIP_EPSILON)).clamp(max=1.0)

    def __call__(self, rows: Any, labels: Any) -> None:
        """Compute the private gradient of the batch ``rows`` and store it in each ``grad``.

        An empty batch (Poisson sampling draws them) gets a noise-only gradient.
        """
        import torch

        out, inputs, outputs = self._forward(rows)
        output_grads = torch.autograd.grad(self.loss(out, labels), outputs)
        with torch.no_grad():
            clip = self.clip_factors(inputs, list(output_grads))
            for layer, a, g in zip(self.linears, inputs, output_grads, strict=True):
                clipped = g * clip[:, None]
                layer.weight.grad = (
                    self._noise(layer.weight).addmm_(clipped.T, a).div_(self.expected_batch_size)
                )
                if layer.bias is not None:
                    layer.bias.grad = (
                        self._noise(layer.bias)
                        .add_(clipped.sum(dim=0))
                        .div_(self.expected_batch_size)
                    )

    def _noise(self, parameter: Any) -> Any:
        """A fresh tensor of Gaussian noise shaped like ``parameter`` (zeros without noise)."""
        import torch

        if self.noise_std == 0:
            return torch.zeros_like(parameter)
        return torch.normal(
            mean=0.0, std=self.noise_std, size=parameter.shape, device=parameter.device
        )
