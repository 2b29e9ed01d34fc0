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

The noise is drawn as Opacus's ``DPOptimizer`` draws it: one normal draw per parameter, in
parameter order, from torch's generator, with standard deviation noise multiplier x
``max_grad_norm``; the noisy sum is divided by the expected batch size ``B``.  Here the
division is folded into the draw and the clip factors (noise of standard deviation
``σ C / B`` plus the sum of rows scaled by ``c / B``), which is the same gradient up to
rounding and saves two passes over every parameter per step.  With the same seed and
batches, a training takes the same steps as Opacus's per-sample-gradient hooks.

Beyond the forward pass and one ``autograd.grad`` to the linear layers' outputs, a step costs
a few small tensor operations per linear layer (two row-wise squared norms, one scaling, one
matrix product into the weight's noise, one matrix-vector product into the bias's noise)
and four on the batch's norms: with the non-private step near 0.2 ms on a CPU, each counts.
So the noise is drawn into the same gradient tensors every step (nothing is allocated for
them), and the forward pass calls each layer's function directly, without
``Module.__call__``'s hook handling: a layer with hooks is not a linear stack (a hook may
change what the layer computes, which the closed-form norms would not see).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = [
    "ELEMENTWISE_LAYERS",
    "LinearStackGradients",
    "has_hooks",
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


_HOOK_DICTS = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks")


def has_hooks(module: Any) -> bool:
    """Whether forward or backward hooks run when ``module`` or one of its layers is called.

    Counts hooks registered on the module or its submodules, and the global ones that
    ``torch.nn.modules.module.register_module_forward_hook`` and its kin register for
    every module.
    """
    from torch.nn.modules import module as torch_module

    global_dicts = (f"_global{name}" for name in _HOOK_DICTS)
    if any(getattr(torch_module, name, None) for name in global_dicts):
        return True
    return any(getattr(layer, name, None) for layer in module.modules() for name in _HOOK_DICTS)


def why_not_linear_stack(module: Any, input_ndim: int = 2) -> str | None:
    """Why ``module`` cannot be trained by :class:`LinearStackGradients`; ``None`` when it can.

    It can when it is a ``torch.nn.Linear``, or a ``torch.nn.Sequential`` of linear layers
    and :data:`ELEMENTWISE_LAYERS`, every parameter trainable and used once, no hooks
    registered (:func:`has_hooks`), fed rows of 2-D inputs.
    """
    import torch

    if input_ndim != 2:
        return f"its inputs have {input_ndim} dimensions, not 2 (rows x features)"
    if has_tied_parameters(module):
        return "a layer or parameter is used more than once (tied weights)"
    if has_hooks(module):
        return "hooks are registered on it or on every module"
    layers = list(module) if isinstance(module, torch.nn.Sequential) else [module]
    for layer in layers:
        name = type(layer).__name__
        if isinstance(layer, torch.nn.Linear):
            if type(layer).forward is not torch.nn.Linear.forward:
                return f"its {name} layer has a forward of its own"
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
        # (weight, bias) per linear layer, looked up once rather than through each
        # layer's attribute lookup on every step
        self._parameters = tuple((layer.weight, layer.bias) for layer in self.linears)
        # what the forward pass calls per layer: a linear layer's (weight, bias) for
        # F.linear, any other layer's own forward (see the module docstring)
        self._calls: tuple[tuple[Any, Any] | Callable[[Any], Any], ...] = tuple(
            (layer.weight, layer.bias) if isinstance(layer, torch.nn.Linear) else layer.forward
            for layer in layers
        )
        self._grads: dict[Any, Any] = {}  # parameter -> the gradient tensor reused each step

    def _forward(self, rows: Any) -> tuple[Any, list[Any], list[Any]]:
        """The output, each linear layer's input and each linear layer's output.

        The inputs are detached: nothing recorded on them afterwards needs a gradient.
        """
        from torch.nn.functional import linear

        inputs: list[Any] = []
        outputs: list[Any] = []
        out = rows
        for call in self._calls:
            if isinstance(call, tuple):
                inputs.append(out.detach() if out.requires_grad else out)
                out = linear(out, *call)
                outputs.append(out)
            else:
                out = call(out)
        return out, inputs, outputs

    def clip_factors(self, inputs: list[Any], output_grads: list[Any]) -> Any:
        """Each row's clip factor ``min(1, C / (‖row gradient‖ + 1e-6))``."""
        return self._clip_divisors(inputs, output_grads).reciprocal_().mul_(self.max_grad_norm)

    def _clip_divisors(self, inputs: list[Any], output_grads: list[Any]) -> Any:
        """Per row ``max(‖row gradient‖ + 1e-6, C)``: its clip factor is ``C`` over this.

        A row's squared gradient norm is the sum over linear layers of
        ``‖g‖² (‖a‖² + 1)`` (``‖g‖² ‖a‖²`` for a layer without bias).
        """
        import torch

        squared = None
        for (_, bias), a, g in zip(self._parameters, inputs, output_grads, strict=True):
            g_squared = torch.linalg.vecdot(g, g)
            a_squared = torch.linalg.vecdot(a, a)
            if squared is None:
                # g² a² + g² in one operation, or g² a² without bias
                squared = (
                    torch.addcmul(g_squared, g_squared, a_squared)
                    if bias is not None
                    else g_squared.mul_(a_squared)
                )
            else:
                squared.addcmul_(g_squared, a_squared)
                if bias is not None:
                    squared.add_(g_squared)
        assert squared is not None  # a linear stack has a linear layer
        return squared.sqrt_().add_(_CLIP_EPSILON).clamp_(min=self.max_grad_norm)

    def __call__(self, rows: Any, labels: Any) -> None:
        """Compute the private gradient of the batch ``rows`` and store it in each ``grad``.

        An empty batch (Poisson sampling draws them) gets a noise-only gradient.
        """
        import torch

        out, inputs, outputs = self._forward(rows)
        output_grads = torch.autograd.grad(self.loss(out, labels), outputs)
        # None of these tensors needs a gradient, so no graph is recorded.  The clip
        # factor C / divisor and the division by B are applied as one factor: the
        # products are scaled by C / B (``alpha``) and the noise is drawn at sigma C / B.
        inverse = self._clip_divisors(inputs, list(output_grads)).reciprocal_()
        column = inverse.unsqueeze(1)
        alpha = self.max_grad_norm / self.expected_batch_size
        scale = 1.0 / self.expected_batch_size
        for (weight, bias), a, g in zip(self._parameters, inputs, output_grads, strict=True):
            # scale whichever of the output gradients and inputs is narrower
            narrow = g.shape[1] <= a.shape[1]
            left, right = ((g * column).t(), a) if narrow else (g.t(), a * column)
            self._noised_grad(weight, scale).addmm_(left, right, alpha=alpha)
            if bias is not None:
                self._noised_grad(bias, scale).addmv_(g.t(), inverse, alpha=alpha)

    def _noised_grad(self, parameter: Any, scale: float) -> Any:
        """``parameter.grad``, refilled with Gaussian noise (std ``σ C`` x ``scale``).

        Zeros without noise.  The same tensor serves every step: it is set as the grad
        again when something else replaced it (``zero_grad`` sets grads to ``None``).
        """
        import torch

        grad = self._grads.get(parameter)
        if grad is None:
            grad = self._grads[parameter] = torch.empty_like(parameter, requires_grad=False)
        if parameter.grad is not grad:
            parameter.grad = grad
        if self.noise_std == 0:
            return grad.zero_()
        # the numbers of torch.normal(0, std, parameter.shape), Opacus's draw
        return grad.normal_(0.0, self.noise_std * scale)
