"""Captum's perturbation methods over any model, batched across rows and perturbations.

Feature ablation and Shapley value sampling take the whole batch of rows at once:
each forward call evaluates every row under ``perturbations_per_eval`` perturbations.
Captum's Kernel SHAP explains one row at a time, so it is run in three steps that
leave its sampling and its regression to Captum: (1) record the coalitions Captum
draws under the run's seed, (2) evaluate every row under every coalition in full
model calls, (3) replay Captum's Kernel SHAP row by row under the same seed, its
forward function reading the evaluated outputs.  Step 3 draws the same coalitions
as step 1, so the attributions equal those of a plain per-row Captum loop seeded
alike, at a fraction of its model calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import numpy.typing as npt

from audit.auditors.explanations.forward import ModelForward

__all__ = [
    "STOCHASTIC",
    "evaluations_per_row",
    "explain_black_box",
    "import_captum",
    "perturbations_for",
    "seeded",
]

FloatArray = npt.NDArray[np.float64]

STOCHASTIC = frozenset({"shapley_value_sampling", "kernel_shap"})
"""Methods whose result depends on the seed."""

_REPLAY_BLOCK = 200_000
"""Most coded rows built at once when evaluating Kernel SHAP coalitions."""


def import_captum() -> Any:
    """Import and return ``captum.attr``; ImportError says how to install it."""
    try:
        import captum.attr
    except ImportError as exc:
        raise ImportError(
            "the explanations auditor needs Captum: pip install 'maas-audit[explanations]'"
        ) from exc
    return captum.attr


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """A context in which torch's global random generator starts from ``seed``.

    The generator's state outside the context is restored afterwards.
    """
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def evaluations_per_row(method: str, n_columns: int, n_samples: int) -> int:
    """Model evaluations of one row by ``method`` (Captum's count, baseline included).

    Examples
    --------
    >>> evaluations_per_row("feature_ablation", 12, 25)
    13
    >>> evaluations_per_row("shapley_value_sampling", 12, 25)
    301
    """
    if method == "feature_ablation":
        return n_columns + 1
    if method == "shapley_value_sampling":
        return n_samples * n_columns + 1
    return n_samples


def perturbations_for(setting: int | str, n_rows: int, rows_per_call: int, most: int) -> int:
    """Perturbations per forward call: the setting, or as many as fill ``rows_per_call``.

    Examples
    --------
    >>> perturbations_for("auto", 200, 1000, 12), perturbations_for(64, 200, 1000, 12)
    (5, 64)
    """
    if isinstance(setting, int):
        return setting
    return int(max(1, min(most, rows_per_call // max(n_rows, 1))))


def _tensor(array: FloatArray) -> Any:
    import torch

    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float64))


def explain_black_box(
    forward: ModelForward,
    method: str,
    *,
    n_samples: int,
    seed: int,
    perturbations_per_eval: int | str = "auto",
) -> FloatArray:
    """Attribute the model's score for every row of ``forward.space`` to its columns.

    Parameters
    ----------
    forward:
        The model and the coded rows (see :class:`ModelForward`).
    method:
        ``"feature_ablation"``, ``"shapley_value_sampling"`` or ``"kernel_shap"``.
    n_samples:
        Permutations (Shapley) or coalitions (Kernel SHAP); unused by ablation.
    seed:
        Seed of Captum's sampling.
    perturbations_per_eval:
        Captum's knob, or ``"auto"`` to fill calls of ``forward.rows_per_call`` rows.

    Returns
    -------
    numpy.ndarray
        Shape ``(rows, columns)``: each column's attribution for each row.
    """
    attr = import_captum()
    space = forward.space
    n_columns = len(space.columns)
    inputs, baseline = _tensor(space.inputs()), _tensor(space.baseline())
    mask = _tensor(np.arange(n_columns, dtype=np.float64)[None, :]).long()
    if method == "kernel_shap":
        return _kernel_shap(forward, n_samples=n_samples, seed=seed)
    most = n_columns  # Captum batches one permutation (or one ablation pass) at a time
    per_eval = perturbations_for(perturbations_per_eval, space.n_rows, forward.rows_per_call, most)
    with seeded(seed):
        if method == "feature_ablation":
            result = attr.FeatureAblation(forward).attribute(
                inputs, baselines=baseline, feature_mask=mask, perturbations_per_eval=per_eval
            )
        elif method == "shapley_value_sampling":
            result = attr.ShapleyValueSampling(forward).attribute(
                inputs,
                baselines=baseline,
                feature_mask=mask,
                n_samples=n_samples,
                perturbations_per_eval=per_eval,
            )
        else:
            raise ValueError(f"unknown perturbation method {method!r}")
    return np.asarray(result.detach().to("cpu").numpy(), dtype=np.float64)


def _kernel_shap_once(
    n_columns: int, n_samples: int, seed: int, forward: Callable[[Any], Any]
) -> FloatArray:
    """Captum's Kernel SHAP of one row in its interpretable space (input 1, baseline 0)."""
    import torch

    attr = import_captum()
    ones = torch.ones((1, n_columns), dtype=torch.float64)
    zeros = torch.zeros((1, n_columns), dtype=torch.float64)
    mask = torch.arange(n_columns).unsqueeze(0)
    with seeded(seed):
        result = attr.KernelShap(forward).attribute(
            ones,
            baselines=zeros,
            feature_mask=mask,
            n_samples=n_samples,
            perturbations_per_eval=n_samples,
        )
    return np.asarray(result.detach().to("cpu").numpy()[0], dtype=np.float64)


def _key(row: npt.NDArray[np.int8]) -> bytes:
    return row.tobytes()


def _kernel_shap(forward: ModelForward, *, n_samples: int, seed: int) -> FloatArray:
    import torch

    space = forward.space
    n_rows, n_columns = space.n_rows, len(space.columns)
    drawn: list[npt.NDArray[np.int8]] = []

    def record(inputs: Any) -> Any:
        drawn.append(np.rint(inputs.detach().cpu().numpy()).astype(np.int8))
        return torch.zeros(inputs.shape[0], dtype=torch.float64)

    _kernel_shap_once(n_columns, n_samples, seed, record)
    coalitions = np.unique(np.concatenate(drawn), axis=0)
    index = {_key(c): k for k, c in enumerate(coalitions)}
    outputs = np.empty((n_rows, len(coalitions)), dtype=np.float64)
    block = max(1, _REPLAY_BLOCK // max(len(coalitions), 1))
    keep = coalitions.astype(bool)
    for start in range(0, n_rows, block):
        rows = np.arange(start, min(start + block, n_rows), dtype=np.float64)
        codes = np.where(keep[None, :, :], rows[:, None, None], float(n_rows))
        values = forward.predict_codes(codes.reshape(-1, n_columns))
        outputs[start : start + len(rows)] = values.reshape(len(rows), len(coalitions))

    result = np.empty((n_rows, n_columns), dtype=np.float64)
    for row in range(n_rows):
        own = outputs[row]

        def replay(inputs: Any, own: FloatArray = own) -> Any:
            z = np.rint(inputs.detach().cpu().numpy()).astype(np.int8)
            return torch.from_numpy(own[[index[_key(r)] for r in z]])

        result[row] = _kernel_shap_once(n_columns, n_samples, seed, replay)
    return result
