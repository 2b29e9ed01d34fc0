"""PyTorch models: Integrated Gradients and feature ablation on the encoded inputs.

A :class:`~audit.adapters.torch.TorchAdapter` declares its encoding (rows -> tensor),
so gradients are taken with respect to the encoded inputs and every encoded input
is credited to the user's column it comes from.  Which column that is, is found by
probing the encoding: an encoded input belongs to the column whose change moves it.
Sums over a column's encoded inputs keep Integrated Gradients' completeness: the
attributions of a row add up to ``f(row) - f(baseline)`` up to the path integral's
error, reported as the convergence delta.  ``f`` is a classifier's positive-class score
(after sigmoid or softmax for logits) or a regressor's raw output (``output="values"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from audit.auditors.explanations.forward import CallCount
from audit.auditors.explanations.perturbation import import_captum, perturbations_for, seeded

__all__ = ["EncodedModel", "column_of_inputs"]

FloatArray = npt.NDArray[np.float64]

_PROBE_ROWS = 256
_PROBE_VALUES = 4096
"""Most distinct values of one column put in a probe row (see :func:`column_of_inputs`)."""
UNASSIGNED = -1


def _encode(adapter: Any, rows: pd.DataFrame) -> Any:
    """The module's input for ``rows``, on the adapter's device, as the adapter encodes it."""
    import torch

    transform = getattr(adapter.encode, "transform", None)
    encoded = transform(rows) if callable(transform) else adapter.encode(rows)
    if hasattr(encoded, "toarray"):  # scipy sparse
        encoded = encoded.toarray()
    dtype = next(
        (p.dtype for p in adapter.module.parameters() if p.is_floating_point()), torch.float32
    )
    if isinstance(encoded, torch.Tensor):
        tensor = encoded.to(dtype)
    else:
        # writable, as torch.from_numpy warns on read-only arrays (pandas views)
        array = np.require(np.asarray(encoded, dtype=np.float64), requirements="W")
        tensor = torch.from_numpy(array).to(dtype)
    if tensor.ndim != 2 or tensor.shape[0] != len(rows):
        raise ValueError(
            f"the model's encoding returned shape {tuple(tensor.shape)} for {len(rows)} rows; "
            "expected (rows, inputs)"
        )
    return tensor.to(adapter.device)


def _moved(plain: Any, encoded: Any) -> npt.NDArray[np.bool_]:
    """Per encoded input, whether any row of ``encoded`` differs from ``plain``."""
    return np.asarray(~np.isclose(encoded, plain, equal_nan=True).all(axis=0), dtype=np.bool_)


def _each_value(row: pd.DataFrame, column: str, data: pd.DataFrame) -> pd.DataFrame:
    """The one-row ``row`` repeated with every distinct value of ``column`` in ``data``.

    Up to ``_PROBE_VALUES`` values, in order of first appearance.  A rare category that
    no sampled row holds still moves its own one-hot input here.
    """
    values = data[column].drop_duplicates().iloc[:_PROBE_VALUES]
    probe = row.iloc[np.zeros(len(values), dtype=np.int64)].reset_index(drop=True)
    probe[column] = values.to_numpy()
    return probe


def _moved_by(
    adapter: Any, rows: pd.DataFrame, plain: Any, column: str, data: pd.DataFrame
) -> npt.NDArray[np.bool_]:
    """Per encoded input, whether changing ``column`` alone moves it.

    The column's values are rotated among ``rows`` (encoded as ``plain``) in two ways,
    and every distinct value of the column is put in the first row.
    """
    moved = np.zeros(plain.shape[1], dtype=bool)
    for shift in {1, max(len(rows) // 2, 1)}:
        changed = rows.copy()
        changed[column] = np.roll(rows[column].to_numpy(), shift)
        moved |= _moved(plain, _encode(adapter, changed).detach().cpu().numpy())
    probe = _each_value(rows.iloc[:1], column, data)
    moved |= _moved(plain[:1], _encode(adapter, probe).detach().cpu().numpy())
    return moved


def column_of_inputs(
    adapter: Any, data: pd.DataFrame, columns: Sequence[str], seed: int
) -> tuple[npt.NDArray[np.int64], list[str]]:
    """Which of ``columns`` each encoded input comes from (``-1``: none found).

    Each column's values are rotated among up to 256 sampled rows, in two ways, and
    each of its distinct values in ``data`` is put in one of those rows; the encoded
    inputs that change belong to that column.  An input moved by two columns is
    credited to the first, with a warning.

    Returns
    -------
    owner, warnings:
        One column index per encoded input, and what could not be assigned cleanly.
    """
    rng = np.random.default_rng(seed)
    take = rng.choice(len(data), size=min(_PROBE_ROWS, len(data)), replace=False)
    rows = data.iloc[np.sort(take)].loc[:, list(columns)].reset_index(drop=True)
    plain = _encode(adapter, rows).detach().cpu().numpy()
    owner = np.full(plain.shape[1], UNASSIGNED, dtype=np.int64)
    warnings: list[str] = []
    shared: set[int] = set()
    for j, column in enumerate(columns):
        moved = _moved_by(adapter, rows, plain, column, data)
        clash = moved & (owner != UNASSIGNED)
        shared.update(np.flatnonzero(clash).tolist())
        owner[moved & (owner == UNASSIGNED)] = j
    if shared:
        warnings.append(
            f"{len(shared)} encoded input(s) depend on more than one column; each is "
            "credited to the first such column"
        )
    varying = ~np.isclose(plain, plain[:1], equal_nan=True).all(axis=0)
    lost = int((varying & (owner == UNASSIGNED)).sum())
    if lost:
        warnings.append(
            f"{lost} encoded input(s) vary but could not be traced to a column; "
            "their attribution is left out"
        )
    return owner, warnings


def _value(out: Any, n: int) -> Any:
    """A regressor's output, shape ``(n,)`` or ``(n, 1)``, as one value per row."""
    if tuple(out.shape) not in ((n,), (n, 1)):
        raise ValueError(
            f"the PyTorch model returned output of shape {tuple(out.shape)} for {n} rows; "
            "output='values' needs one value per row: shape (n,) or (n, 1)"
        )
    return out.reshape(n)


@dataclass
class EncodedModel:
    """A TorchAdapter's module as a function of encoded inputs to the attributed number.

    That number is the positive-class score of a classifier, or the predicted value of a
    regressor (``output="values"``: the raw output, no sigmoid).

    Parameters
    ----------
    adapter:
        The :class:`~audit.adapters.torch.TorchAdapter`.
    owner:
        Column index of each encoded input (see :func:`column_of_inputs`).
    n_columns:
        Number of user columns.
    """

    adapter: Any
    owner: npt.NDArray[np.int64]
    n_columns: int

    def __post_init__(self) -> None:
        self.count = CallCount()

    @property
    def device(self) -> str:
        """Where the module runs, e.g. ``"cuda:0"`` or ``"cpu"``."""
        return str(self.adapter.device)

    def encode(self, rows: pd.DataFrame) -> Any:
        """Encoded inputs of ``rows`` on the module's device."""
        return _encode(self.adapter, rows)

    def score(self, inputs: Any) -> Any:
        """The positive-class score, or a regressor's value, for encoded inputs (differentiable)."""
        import torch

        self.count.model_calls += 1
        self.count.rows += int(inputs.shape[0])
        out = self.adapter.module(inputs)
        if self.adapter.output == "values":
            return _value(out, int(inputs.shape[0]))
        if out.ndim == 2 and out.shape[1] == 1:
            out = out[:, 0]
        if out.ndim == 1:
            return torch.sigmoid(out) if self.adapter.output == "logits" else out
        if out.ndim == 2 and out.shape[1] == 2:
            if self.adapter.output == "logits":
                out = torch.softmax(out, dim=1)
            return out[:, self.adapter.positive_index]
        raise ValueError(
            f"the PyTorch model returned output of shape {tuple(out.shape)}; explanations "
            "need one score per row: shape (n,), (n, 1) or (n, 2)"
        )

    def to_columns(self, attributions: FloatArray) -> FloatArray:
        """Sum attributions of encoded inputs per user column."""
        owned = self.owner >= 0
        sums = np.zeros((attributions.shape[0], self.n_columns), dtype=np.float64)
        np.add.at(sums.T, self.owner[owned], attributions[:, owned].T)
        return sums

    def untraced(self, inputs: Any, baseline: Any) -> int:
        """Encoded inputs credited to no column on which some row differs from the baseline.

        Their attribution is lost to every column, so rows do not add up to
        ``f(row) - f(baseline)``.
        """
        differs = (inputs != baseline).any(dim=0).detach().cpu().numpy()
        return int(np.count_nonzero(differs & (self.owner < 0)))

    def integrated_gradients(
        self, inputs: Any, baseline: Any, *, steps: int, rows_per_call: int
    ) -> tuple[FloatArray, float]:
        """Integrated Gradients per column, and the largest completeness error of a row."""
        attr = import_captum()
        method = attr.IntegratedGradients(self.score)
        internal = max(int(rows_per_call), steps)
        result, delta = method.attribute(
            inputs,
            baselines=baseline,
            n_steps=steps,
            internal_batch_size=internal,
            return_convergence_delta=True,
        )
        values = result.detach().to("cpu").double().numpy()
        error = float(delta.detach().abs().max().cpu()) if delta.numel() else 0.0
        return self.to_columns(values), error

    def feature_ablation(
        self, inputs: Any, baseline: Any, *, rows_per_call: int, setting: int | str
    ) -> FloatArray:
        """Feature ablation per column: each column's encoded inputs set to the baseline's."""
        import torch

        attr = import_captum()
        groups = np.where(self.owner >= 0, self.owner, self.n_columns)
        present, contiguous = np.unique(groups, return_inverse=True)
        mask = torch.from_numpy(contiguous.reshape(1, -1)).to(inputs.device)
        per_eval = perturbations_for(setting, int(inputs.shape[0]), rows_per_call, len(present))
        with torch.no_grad(), seeded(0):
            result = attr.FeatureAblation(self.score).attribute(
                inputs, baselines=baseline, feature_mask=mask, perturbations_per_eval=per_eval
            )
        values = result.detach().to("cpu").double().numpy()
        out = np.zeros((values.shape[0], self.n_columns), dtype=np.float64)
        for column in range(self.n_columns):
            where = np.flatnonzero(groups == column)
            if len(where):
                out[:, column] = values[:, where[0]]
        return out
