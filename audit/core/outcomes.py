"""Turn a target column and a model's raw predictions into aligned outcome arrays."""

from __future__ import annotations

import contextlib
from collections.abc import Collection
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from audit.core.context import Outcomes, Task
from audit.core.protocols import Predictions
from audit.errors import DataError

__all__ = [
    "ERR_FEW_WHOLE_NUMBERS",
    "ERR_LABELS_ONLY",
    "FEW_WHOLE_NUMBERS",
    "fractional_scores",
    "infer_positive_label",
    "infer_task",
    "label_occurs",
    "matches_label",
    "resolve_outcomes",
]

_BOOLEAN_LIKE = ({0, 1}, {False, True})


def _describe_values(values: Any, limit: int = 6) -> str:
    shown = sorted(map(str, values))
    extra = f", ... ({len(shown)} in all)" if len(shown) > limit else ""
    return ", ".join(repr(v) for v in shown[:limit]) + extra


FEW_WHOLE_NUMBERS = 10
"""A numeric target with at most this many distinct whole numbers is not taken for a
regression target without being told: it may as well be a class code."""

ERR_FEW_WHOLE_NUMBERS = (
    "target column {target!r} has {n} distinct whole numbers ({values}): a class code or a "
    "regression target? Name the favourable class with --positive-label (the others are "
    "unfavourable), or pass --task regression"
)
ERR_LABELS_ONLY = "a score threshold ({threshold}) was given but the model returns labels only"


def infer_task(target: pd.Series, positive_label: Any) -> Task:
    """Infer the task: binary with a positive label or at most two values, else regression.

    A numeric target of more than two values is a regression target, unless it holds at
    most :data:`FEW_WHOLE_NUMBERS` distinct whole numbers: then the task must be named.
    """
    if positive_label is not None:
        return Task.BINARY
    distinct = target.dropna().unique()
    if len(distinct) <= 2:
        return Task.BINARY
    if pd.api.types.is_numeric_dtype(target) and not pd.api.types.is_bool_dtype(target):
        numbers = distinct.astype(float)
        whole = bool(np.isfinite(numbers).all() and (numbers == np.floor(numbers)).all())
        if whole and len(distinct) <= FEW_WHOLE_NUMBERS:
            # a class code (0/1 with a stray 2) read as a regression target would measure
            # no selection rate and say nothing of why: the task must be named
            raise DataError(
                ERR_FEW_WHOLE_NUMBERS.format(
                    target=target.name,
                    n=len(distinct),
                    values=", ".join(f"{v:g}" for v in sorted(distinct.astype(float))),
                )
            )
        return Task.REGRESSION
    raise DataError(
        f"target column {target.name!r} has {len(distinct)} classes "
        f"({_describe_values(distinct)}); name the favourable one with --positive-label "
        "to audit it against the rest"
    )


def infer_positive_label(target: pd.Series) -> Any:
    """The favourable label of a 0/1 (or False/True) target; other targets must name it."""
    distinct = set(target.dropna().unique().tolist())
    if distinct and distinct <= {0, 1}:  # {0, 1} == {False, True}: tell them apart by type
        return True if all(isinstance(v, bool) for v in distinct) else 1
    raise DataError(
        f"target column {target.name!r} has values {_describe_values(distinct)}; "
        "name the favourable one with --positive-label"
    )


def matches_label(values: np.ndarray, label: Any) -> np.ndarray:
    """Elementwise ``values == label``, tolerant of int/str/float spellings of one label."""
    as_series = pd.Series(values)
    if as_series.dtype == object or pd.api.types.is_string_dtype(as_series):
        equal = as_series.astype(str).str.strip() == str(label).strip()
        if isinstance(label, int | float | np.number) and not isinstance(label, bool):
            # mixed spellings of a number in one column (1 and "1") are the same label
            with contextlib.suppress(TypeError, ValueError):
                equal |= pd.to_numeric(as_series, errors="coerce") == float(label)
    else:
        try:
            equal = as_series.astype(float) == float(label)
        except (TypeError, ValueError):
            equal = as_series.astype(str) == str(label)
    return np.asarray(equal.to_numpy(), dtype=bool)


def label_occurs(values: pd.Series, label: Any) -> bool:
    """True when ``label`` is one of ``values``, compared as :func:`resolve_outcomes` does.

    ``1``, ``1.0`` and ``"1"`` are one label, so that every engine accepts the same
    ``--positive-label`` for the same data.
    """
    return bool(matches_label(values.to_numpy(), label).any())


def _look_like_scores(labels: np.ndarray) -> bool:
    try:
        values = pd.to_numeric(pd.Series(labels), errors="coerce")
    except (TypeError, ValueError):
        return False
    return bool(values.notna().all() and values.between(0.0, 1.0).all())


def fractional_scores(labels: np.ndarray | None) -> np.ndarray | None:
    """``labels`` as scores when they are numbers in [0, 1], some strictly between.

    A model that answers with one probability per row (an MLflow pyfunc returning
    ``predict_proba[:, 1]``, an ONNX export with one sigmoid output) has its answer read
    as labels; a binary task's labels are never fractions, so they are its scores (a
    threshold turns them into decisions).  Answers of only 0 and 1 are labels.
    """
    if labels is None or not _look_like_scores(labels):
        return None
    values = pd.to_numeric(pd.Series(labels)).to_numpy(dtype=float)
    return values if bool(((values > 0.0) & (values < 1.0)).any()) else None


def _binary_predictions(
    predictions: Predictions, positive_label: Any, target_labels: set[Any], threshold: float | None
) -> np.ndarray:
    if threshold is not None:
        if predictions.scores is None:
            raise DataError(ERR_LABELS_ONLY.format(threshold=threshold))
        return (predictions.scores >= threshold).astype(np.int8)
    if predictions.labels is None:
        raise DataError(
            "the model returns scores only; pass --threshold to turn scores into decisions"
        )
    labels = predictions.labels
    if pd.isna(pd.Series(labels)).any():
        missing = int(pd.isna(pd.Series(labels)).sum())
        raise DataError(f"the model returned {missing} missing predictions")
    predicted = set(pd.Series(labels).unique().tolist())
    known = {str(v).strip() for v in target_labels} | {str(positive_label).strip()}
    if {str(v).strip() for v in predicted} <= known:
        return matches_label(labels, positive_label).astype(np.int8)
    for candidates in _BOOLEAN_LIKE:
        if predicted <= candidates:
            return np.asarray(labels).astype(np.int8)
    if _look_like_scores(labels):
        raise DataError(
            f"the model's predictions look like scores ({len(predicted)} distinct values "
            "between 0 and 1), not labels; pass --threshold to turn them into decisions "
            "(for a decision log: column:DECISION,score=SCORE)"
        )
    raise DataError(
        f"the model predicted labels {_describe_values(predicted)}, which are not among the "
        f"target's labels ({_describe_values(target_labels)}); predictions must use the "
        "target's labels, or 0/1 with 1 meaning the positive label"
    )


def resolve_outcomes(
    target: pd.Series,
    predictions: Predictions,
    *,
    task: Task | None = None,
    positive_label: Any = None,
    threshold: float | None = None,
    target_labels: Collection[Any] | None = None,
) -> tuple[Outcomes, Any]:
    """Align ground truth and predictions as numeric arrays.

    Returns the outcomes and the positive label actually used (``None`` for regression).
    ``target_labels`` are the target's distinct values in the whole table, when
    ``target`` is only a chunk of it (default: the values of ``target``).

    Raises
    ------
    DataError
        When the target has missing values, predictions cannot be read as decisions,
        or their number differs from the number of rows.
    """
    if len(predictions) != len(target):
        raise DataError(f"the model returned {len(predictions)} predictions for {len(target)} rows")
    missing = int(target.isna().sum())
    if missing:
        raise DataError(f"target column {target.name!r} has {missing} missing values")
    task = task or infer_task(target, positive_label)
    if task is Task.REGRESSION:
        raw = predictions.labels if predictions.labels is not None else predictions.scores
        try:
            y_pred = np.asarray(raw, dtype=float)
            y_true = target.to_numpy(dtype=float)
        except (TypeError, ValueError) as exc:
            raise DataError(f"regression target or predictions are not numeric: {exc}") from None
        if np.isnan(y_pred).any():
            raise DataError(f"the model returned {int(np.isnan(y_pred).sum())} missing predictions")
        return Outcomes(task=task, y_true=y_true, y_pred=y_pred), None
    inferred = positive_label is None
    if inferred:
        positive_label = infer_positive_label(target)
    target_labels = set(target.unique().tolist() if target_labels is None else target_labels)
    y_true = matches_label(target.to_numpy(), positive_label).astype(np.int8)
    # An inferred 0/1 label may be absent (every row 0): the audit runs, and what needs
    # positives is undefined.  A label the user named but the data lacks is likely a typo.
    if (
        not inferred
        and not y_true.any()
        and str(positive_label) not in {str(v) for v in target_labels}
    ):
        raise DataError(
            f"positive label {positive_label!r} does not occur in target column "
            f"{target.name!r}; its values are {_describe_values(target_labels)}"
        )
    if threshold is not None and predictions.scores is None:
        read_as_scores = fractional_scores(predictions.labels)
        if read_as_scores is not None:
            predictions = replace(predictions, labels=None, scores=read_as_scores)
    y_pred = _binary_predictions(predictions, positive_label, target_labels, threshold)
    scores = None
    if predictions.scores is not None:
        scores = np.asarray(predictions.scores, dtype=float)
        if np.isnan(scores).any():
            raise DataError(f"the model returned {int(np.isnan(scores).sum())} missing scores")
        if np.isinf(scores).any():
            raise DataError(f"the model returned {int(np.isinf(scores).sum())} infinite scores")
    return Outcomes(task=task, y_true=y_true, y_pred=y_pred, y_score=scores), positive_label
