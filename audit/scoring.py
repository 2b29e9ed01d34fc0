"""One scoring pass: the model's predictions for every row, batch by batch."""

from __future__ import annotations

import pandas as pd

from audit.core.context import ColumnRoles, ProgressFactory, no_progress
from audit.core.protocols import ModelAdapter, Predictions
from audit.errors import AuditError, DataError, ModelError

__all__ = ["score"]


def score(
    adapter: ModelAdapter,
    frame: pd.DataFrame,
    roles: ColumnRoles,
    *,
    progress: ProgressFactory = no_progress,
) -> Predictions:
    """Predict every row of ``frame`` in batches of ``adapter.batch_size``.

    The adapter receives its own ``input_columns`` when it declares them, otherwise
    the feature columns of ``roles``.

    Raises
    ------
    DataError
        When a column the adapter reads is missing.
    ModelError
        When the model raises, or returns a wrong number of predictions.
    """
    columns = list(adapter.input_columns or roles.features)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"the model reads columns missing from the data: {', '.join(missing)}")
    inputs = frame[columns]
    size = max(int(adapter.batch_size), 1)
    bar = progress("Scoring", len(inputs))
    parts: list[Predictions] = []
    try:
        for start in range(0, len(inputs), size):
            batch = inputs.iloc[start : start + size]
            try:
                predictions = adapter.predict_batch(batch)
            except AuditError:
                raise
            except Exception as exc:
                detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                raise ModelError(
                    f"the model failed on rows {start}-{start + len(batch) - 1}: "
                    f"{type(exc).__name__}: {detail}"
                ) from None
            if len(predictions) != len(batch):
                raise ModelError(
                    f"the model returned {len(predictions)} predictions for {len(batch)} rows"
                )
            parts.append(predictions)
            bar.update(len(batch))
    finally:
        bar.close()
    return Predictions.concatenate(parts)
