"""A regression network that predicts in its target's units (this module imports torch)."""

from __future__ import annotations

import math

import torch

__all__ = ["Destandardised"]


class Destandardised(torch.nn.Module):
    """A network trained on the standardised target, predicting in the target's units.

    ``forward(x)`` is ``module(x) * scale + mean``, computed in float64 like the privacy
    auditor's own predictions.  ``mean`` and ``scale`` are buffers: part of the state dict,
    so of a :class:`~audit.adapters.torch.TorchAdapter`'s fingerprint.

    Parameters
    ----------
    module:
        A regression network trained on the standardised target (one output per row).
    mean, scale:
        The training target's mean and scale (the saved metadata's ``target_scaling``).

    Raises
    ------
    ValueError
        When ``mean`` is not finite or ``scale`` is not a positive finite number.
    """

    mean: torch.Tensor
    scale: torch.Tensor

    def __init__(self, module: torch.nn.Module, mean: float, scale: float) -> None:
        if not (math.isfinite(mean) and math.isfinite(scale) and scale > 0):
            raise ValueError(
                f"target scaling needs a finite mean and a positive scale; got {mean!r}, {scale!r}"
            )
        super().__init__()
        self.module = module
        self.register_buffer("mean", torch.tensor(float(mean), dtype=torch.float64))
        self.register_buffer("scale", torch.tensor(float(scale), dtype=torch.float64))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """The wrapped network's output times ``scale`` plus ``mean``."""
        out: torch.Tensor = self.module(inputs)
        return out.to(self.scale.dtype) * self.scale + self.mean
