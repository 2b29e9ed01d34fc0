"""The model the auditor retrains: the audited network from fresh weights, or a stand-in.

A PyTorch model (:class:`~audit.adapters.torch.TorchAdapter`) is deep-copied and its
parameters reset, so the DP model has the audited architecture and input encoding: a
classifier (``output="logits"`` or ``"probabilities"``) for a binary task, a one-output
network for regression (a regressor, ``output="values"``, or a classifier's one output
retrained as a value).  Any other model is replaced by a stand-in of the same task on
the same columns: a logistic regression (or a one-hidden-layer MLP) over one-hot
categories and standardised numbers, and for regression the same networks read as a value
(linear regression or MLP, trained with squared error).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from audit.auditors.privacy.dp_training import Head
from audit.auditors.privacy.encoding import TabularEncoding

__all__ = [
    "Retrainable",
    "fresh_copy",
    "module_outputs",
    "stand_in",
    "stand_in_module",
    "stand_in_name",
    "torch_retrainable",
]

Encoder = Callable[[pd.DataFrame], npt.NDArray[np.float32]]


@dataclass(frozen=True, eq=False)
class Retrainable:
    """A model to retrain: how to build it fresh, how to encode rows, how to read it.

    Attributes
    ----------
    build:
        Returns a new module with fresh weights, seeded.
    encode:
        Rows to the module's ``float32`` inputs.
    head:
        How the module's output is read.
    stand_in:
        Whether the module is a stand-in for a model that is not PyTorch.
    architecture:
        JSON-safe description of the module, saved with it.
    encoding:
        The stand-in's fitted encoding (``None`` for the audited network's own).
    problems:
        Why the audited network could not be retrained as it is (then a stand-in is used).
    """

    build: Callable[[int], Any]
    encode: Encoder
    head: Head
    stand_in: bool
    architecture: dict[str, Any]
    encoding: TabularEncoding | None = None
    problems: tuple[str, ...] = ()


def stand_in_module(n_inputs: int, hidden_units: int) -> Any:
    """Logistic regression (``hidden_units == 0``) or a one-hidden-layer MLP, one logit out."""
    import torch

    if hidden_units == 0:
        return torch.nn.Sequential(torch.nn.Linear(n_inputs, 1))
    return torch.nn.Sequential(
        torch.nn.Linear(n_inputs, hidden_units), torch.nn.ReLU(), torch.nn.Linear(hidden_units, 1)
    )


def _seeded(factory: Callable[[], Any], seed: int) -> Any:
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return factory()


def stand_in_name(hidden_units: int, *, regression: bool) -> str:
    """How the report names a stand-in.

    Examples
    --------
    >>> stand_in_name(0, regression=True), stand_in_name(64, regression=False)
    ('linear regression', 'one-hidden-layer MLP (64 units)')
    """
    if hidden_units:
        return f"one-hidden-layer MLP ({hidden_units} units)"
    return "linear regression" if regression else "logistic regression"


def stand_in(
    train_rows: pd.DataFrame, columns: list[str], hidden_units: int, *, regression: bool = False
) -> Retrainable:
    """A stand-in over ``columns``, its encoding fitted on ``train_rows``.

    Classification stand-ins return one logit; regression stand-ins one value.
    """
    encoding = TabularEncoding.fit(train_rows, columns)
    width = encoding.width
    return Retrainable(
        build=lambda seed: _seeded(lambda: stand_in_module(width, hidden_units), seed),
        encode=encoding,
        head="value" if regression else "logit",
        stand_in=True,
        architecture={
            "kind": "stand-in",
            "model": ("linear regression" if regression else "logistic regression")
            if hidden_units == 0
            else "mlp",
            "inputs": width,
            "hidden_units": hidden_units,
        },
        encoding=encoding,
    )


def fresh_copy(module: Any, seed: int) -> Any:
    """A deep copy of ``module`` with every resettable layer re-initialised, seeded."""

    def factory() -> Any:
        fresh = copy.deepcopy(module).to("cpu")
        for layer in fresh.modules():
            reset = getattr(layer, "reset_parameters", None)
            if callable(reset):
                reset()
        return fresh

    return _seeded(factory, seed)


def _head(width: int, output: str, regression: bool) -> Head | None:
    """How a network of ``width`` outputs is trained, or ``None`` when it is not."""
    if regression:
        return "value" if width == 1 else None
    if width == 1:
        return "logit" if output == "logits" else "probability"
    if width == 2:
        return "two_logits" if output == "logits" else "two_probabilities"
    return None


def torch_retrainable(
    adapter: Any, sample: pd.DataFrame, *, regression: bool = False
) -> Retrainable | str:
    """The audited network as a :class:`Retrainable`, or why it cannot be retrained privately.

    Parameters
    ----------
    adapter:
        A :class:`~audit.adapters.torch.TorchAdapter`.
    sample:
        A few rows, to probe the encoding and the output width.
    regression:
        Whether the task is regression: the network's one output is then read as the
        predicted value and retrained with squared error.  A regressor
        (``output="values"``) is retrained only for regression.
    """
    import torch
    from opacus.validators import ModuleValidator

    if adapter.output == "values" and not regression:
        return "the network predicts values (output='values'), not scores of a binary task"
    transform = getattr(adapter.encode, "transform", None)
    encoder = transform if callable(transform) else adapter.encode

    def encode(rows: pd.DataFrame) -> npt.NDArray[np.float32]:
        encoded = encoder(rows)
        if hasattr(encoded, "toarray"):
            encoded = encoded.toarray()
        if isinstance(encoded, torch.Tensor):
            encoded = encoded.detach().to("cpu").numpy()
        # contiguous and writable, as torch.from_numpy warns on read-only arrays
        return np.require(np.asarray(encoded, dtype=np.float32), requirements=("C", "W"))

    module = adapter.module
    errors = ModuleValidator.validate(copy.deepcopy(module).to("cpu").train(), strict=False)
    if errors:
        shown = "; ".join(" ".join(str(e).split())[:120] for e in errors[:3])
        return f"Opacus cannot train this network privately ({shown})"
    probe = fresh_copy(module, 0).eval()
    with torch.no_grad():
        out = probe(torch.from_numpy(encode(sample)))
    width = 1 if out.ndim == 1 else int(out.shape[1])
    head = _head(width, str(adapter.output), regression)
    if head is None:
        wanted = "one output (regression)" if regression else "one or two outputs (binary)"
        return f"the network returns {width} outputs; only networks with {wanted} are retrained"
    if head.startswith("two") and int(adapter.positive_index) != 1:
        return "two-output networks are retrained only when column 1 is the positive class"
    return Retrainable(
        build=lambda seed: fresh_copy(module, seed),
        encode=encode,
        head=head,
        stand_in=False,
        architecture={
            "kind": "audited network",
            "class": f"{type(module).__module__}.{type(module).__qualname__}",
            "output": str(adapter.output),
            "outputs": width,
        },
    )


def module_outputs(
    module: Any, head: str, inputs: npt.NDArray[np.float32]
) -> npt.NDArray[np.float64]:
    """Positive-class probabilities of a trained classifier, or a regressor's raw values."""
    import torch

    with torch.no_grad():
        out = module(torch.from_numpy(inputs)).to(torch.float64)
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    if head == "logit":
        out = torch.sigmoid(out)
    elif head == "two_logits":
        out = torch.softmax(out, dim=1)[:, 1]
    elif head == "two_probabilities":
        out = out[:, 1]
    return np.ascontiguousarray(out.numpy(), dtype=np.float64)
