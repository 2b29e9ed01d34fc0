"""Run the chosen attribution methods on the chosen rows, counting what they cost."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from audit.adapters.torch import TorchAdapter
from audit.auditors.explanations.columns import ColumnSpace, baseline_row
from audit.auditors.explanations.config import ExplanationsConfig
from audit.auditors.explanations.forward import CallCount, ModelForward
from audit.auditors.explanations.gradients import EncodedModel, column_of_inputs
from audit.auditors.explanations.perturbation import STOCHASTIC, explain_black_box
from audit.auditors.explanations.prompts import baseline_overrides
from audit.core.context import Task
from audit.core.protocols import ModelAdapter

__all__ = ["Explained", "Run", "choose_methods", "explain", "rows_per_call"]

FloatArray = npt.NDArray[np.float64]

_BASELINE_ROWS = 5000
"""Most data rows whose encoded inputs give a PyTorch model's mean or median baseline."""


@dataclass(frozen=True)
class Run:
    """One method's attributions, shape ``(rows, columns)``."""

    method: str
    seed: int | None
    values: FloatArray

    @property
    def label(self) -> str:
        """``"shapley_value_sampling (seed 1)"``."""
        return self.method if self.seed is None else f"{self.method} (seed {self.seed})"


@dataclass
class Explained:
    """Everything the attribution step produced."""

    columns: tuple[str, ...]
    method: str
    runs: list[Run]
    primary: FloatArray
    """Mean over the primary method's runs: the reported attributions."""
    row_scores: FloatArray
    baseline_score: float
    baseline: dict[str, str]
    attributed: str
    device: str
    cost: CallCount = field(default_factory=CallCount)
    completeness_error: float | None = None
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)


def choose_methods(
    settings: ExplanationsConfig, model: ModelAdapter
) -> tuple[str, str | None, list[str]]:
    """The primary and comparison methods for ``model``, and warnings about the choice."""
    torch_model = isinstance(model, TorchAdapter)
    warnings: list[str] = []
    method = settings.method
    if method == "auto":
        method = "integrated_gradients" if torch_model else "shapley_value_sampling"
    if method == "integrated_gradients" and not torch_model:
        warnings.append(
            "integrated_gradients needs a PyTorch model (TorchAdapter) and this model is a "
            f"{model.describe().get('kind', 'black box')}; shapley_value_sampling is used instead"
        )
        method = "shapley_value_sampling"
    compare: str | None = settings.compare_with
    if compare == "auto":
        compare = "feature_ablation"
    if compare in ("none", method) or (compare == "integrated_gradients" and not torch_model):
        compare = None
    return method, compare, warnings


def rows_per_call(settings: ExplanationsConfig, model: ModelAdapter) -> int:
    """Most rows per model call: the setting, else the adapter's batch size."""
    if settings.rows_per_call is not None:
        return settings.rows_per_call
    return max(int(getattr(model, "batch_size", 1000)), 1)


def _attributed(forward: ModelForward, task: Task) -> str:
    if task is Task.REGRESSION:
        return "the predicted value"
    if forward.used_scores:
        return "the positive-class score"
    return "the decision (1 = positive label), as the model returns no scores"


def explain(
    *,
    model: ModelAdapter,
    data: pd.DataFrame,
    rows: pd.DataFrame,
    columns: Sequence[str],
    settings: ExplanationsConfig,
    task: Task,
    positive_label: Any,
    seed: int,
) -> Explained:
    """Attribute the model's output for every row of ``rows`` to ``columns``.

    Parameters
    ----------
    model:
        The adapter; a :class:`TorchAdapter` allows Integrated Gradients.
    data:
        All audited rows: the baseline's medians, means and most frequent values.
    rows:
        The rows to explain.
    columns:
        The model's input columns.
    settings:
        The auditor's settings.
    task, positive_label:
        What is attributed (see :func:`~audit.auditors.explanations.forward.scores_of`).
    seed:
        The audit's seed; repeat ``r`` of a sampling method uses ``seed + r``.
    """
    started = time.perf_counter()
    method, compare, warnings = choose_methods(settings, model)
    base, described, base_warnings = baseline_row(
        data,
        columns,
        "mean" if settings.baseline == "mean" else settings.baseline,
        settings.reference,
    )
    warnings.extend(base_warnings)
    overrides = baseline_overrides(
        model,
        columns,
        settings.baseline_values,
        reference=(settings.reference or {}) if settings.baseline == "reference" else {},
    )
    _override(base, described, overrides)
    unknown = sorted(set(settings.baseline_values or {}) - set(columns))
    if unknown:
        warnings.append("baseline_values names columns not explained: " + ", ".join(unknown))
    per_call = rows_per_call(settings, model)
    space = ColumnSpace.build(rows, base)
    forward = ModelForward(
        model, space, rows_per_call=per_call, task=task, positive_label=positive_label
    )
    row_scores = forward.predict(space.decode(space.inputs()))
    baseline_score = float(forward.predict(base)[0])
    runs: list[Run] = []
    encoded: EncodedModel | None = None
    completeness: float | None = None
    device = "cpu"
    if isinstance(model, TorchAdapter) and "integrated_gradients" in (method, compare):
        encoded, enc_warnings = _encoded_model(model, data, columns, seed)
        warnings.extend(enc_warnings)
    if encoded is not None:
        device = encoded.device
        x = encoded.encode(space.decode(space.inputs()))
        b = _encoded_baseline(encoded, data, columns, base, settings, seed)
        untraced = encoded.untraced(x, b)
        if untraced:
            warnings.append(
                f"{untraced} encoded input(s) differ from the baseline in explained rows but "
                "were traced to no column; their attribution is left out, so those rows' "
                "attributions do not add up to their score minus the baseline's"
            )
    for name, is_primary in ((method, True), (compare, False)):
        if name is None:
            continue
        repeats = settings.repeats if (is_primary and name in STOCHASTIC) else 1
        for r in range(repeats):
            run_seed = seed + r
            if encoded is not None and name == "integrated_gradients":
                values, completeness = encoded.integrated_gradients(
                    x, b, steps=settings.ig_steps, rows_per_call=per_call
                )
            elif encoded is not None and name == "feature_ablation" and not is_primary:
                values = encoded.feature_ablation(
                    x, b, rows_per_call=per_call, setting=settings.perturbations_per_eval
                )
            else:
                values = explain_black_box(
                    forward,
                    name,
                    n_samples=settings.samples(name),
                    seed=run_seed,
                    perturbations_per_eval=settings.perturbations_per_eval,
                )
            runs.append(Run(name, run_seed if name in STOCHASTIC else None, values))
    primary = np.mean([r.values for r in runs if r.method == method], axis=0)
    cost = CallCount()
    cost.add(forward.count)
    if encoded is not None:
        cost.add(encoded.count)
        if method == "integrated_gradients":
            import torch

            with torch.no_grad():
                row_scores = encoded.score(x).detach().cpu().double().numpy()
                baseline_score = float(encoded.score(b).detach().cpu().double().numpy()[0])
            warnings.extend(
                _completeness_warnings(completeness, row_scores, baseline_score, settings.ig_steps)
            )
    return Explained(
        columns=tuple(columns),
        method=method,
        runs=runs,
        primary=primary,
        row_scores=np.asarray(row_scores, dtype=np.float64),
        baseline_score=baseline_score,
        baseline=described
        if encoded is None or settings.baseline == "reference" or settings.baseline_values
        else {c: f"{settings.baseline} of the encoded inputs" for c in columns},
        attributed=_attributed(forward, task),
        device=device,
        cost=cost,
        completeness_error=completeness,
        seconds=time.perf_counter() - started,
        warnings=warnings,
    )


COMPLETENESS_SHARE = 0.01
"""Largest completeness error, as a share of the largest ``|f(row) - f(baseline)|``, let pass."""


def _completeness_warnings(
    error: float | None, row_scores: Any, baseline_score: float, steps: int
) -> list[str]:
    """A warning when Integrated Gradients' attributions miss much of what they explain.

    Each row's attributions should add up to ``f(row) - f(baseline)``; the convergence
    delta is by how much they do not, which shrinks as ``ig_steps`` grows.
    """
    if error is None or row_scores is None:
        return []
    spread = float(np.max(np.abs(np.asarray(row_scores) - baseline_score), initial=0.0))
    if spread <= 0 or error <= COMPLETENESS_SHARE * spread:
        return []
    return [
        f"Integrated Gradients' attributions of a row miss up to {error:.3g} of "
        f"f(row) - f(baseline) ({error / spread:.0%} of the largest such difference, "
        f"{spread:.3g}); raise ig_steps (now {steps}) to make the error smaller"
    ]


def _override(
    base: pd.DataFrame,
    described: dict[str, str],
    overrides: Mapping[str, tuple[Any, str]],
) -> None:
    """Put each overriding value in the one-row ``base``, and say where it came from.

    The column becomes an object column: a text may replace a number.
    """
    for column, (value, why) in overrides.items():
        base[column] = pd.Series([value], index=base.index, dtype=object)
        described[column] = f"{value} ({why})"


def _encoded_model(
    model: ModelAdapter, data: pd.DataFrame, columns: Sequence[str], seed: int
) -> tuple[EncodedModel, list[str]]:
    owner, warnings = column_of_inputs(model, data, columns, seed)
    return EncodedModel(model, owner, len(columns)), warnings


def _encoded_baseline(
    encoded: EncodedModel,
    data: pd.DataFrame,
    columns: Sequence[str],
    base: pd.DataFrame,
    settings: ExplanationsConfig,
    seed: int,
) -> Any:
    import torch

    if settings.baseline == "reference" or settings.baseline_values:
        return encoded.encode(base)
    sample = data if len(data) <= _BASELINE_ROWS else data.sample(_BASELINE_ROWS, random_state=seed)
    inputs = encoded.encode(sample.loc[:, list(columns)])
    if settings.baseline == "mean":
        return inputs.mean(dim=0, keepdim=True)
    # the median of an even count is the mean of the middle two, as for every other model;
    # torch.median would return the lower one
    middle = np.median(inputs.detach().cpu().double().numpy(), axis=0, keepdims=True)
    return torch.from_numpy(middle).to(device=inputs.device, dtype=inputs.dtype)
