"""The model as Captum sees it: coded rows in, one score per row out, every call counted.

Captum calls :meth:`ModelForward.__call__` with a batch of coded (perturbed) inputs;
the batch holds many rows *and* many perturbations.  The rows are decoded into the
user's columns and sent to the adapter in calls of at most ``rows_per_call`` rows,
so a served model receives full requests, never one per perturbation; an adapter
that declares ``concurrency`` gets that many calls in flight at once.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from audit.auditors.explanations.columns import ColumnSpace
from audit.core.context import Task
from audit.core.outcomes import fractional_scores, matches_label
from audit.core.protocols import ModelAdapter, Predictions
from audit.errors import ModelError
from audit.scoring import scoring_concurrency

__all__ = ["CallCount", "ModelForward", "scores_of"]

FloatArray = npt.NDArray[np.float64]


def _positive(labels: np.ndarray, positive: Any) -> FloatArray:
    if positive is None:
        positive = True if pd.api.types.is_bool_dtype(pd.Series(labels)) else 1
    return np.asarray(matches_label(labels, positive), dtype=np.float64)


def scores_of(predictions: Predictions, *, task: Task, positive_label: Any) -> FloatArray:
    """The number attributed for each row: the positive-class score, else the decision.

    Binary models without scores give 1.0 for the positive label and 0.0 otherwise;
    regression models give their predicted value.

    Raises
    ------
    ModelError
        If the model left rows unanswered (``Predictions.unanswered``): a perturbed
        row without a decision must not count as the negative class; or if it returned
        a score or predicted value that is not a finite number.
    """
    if predictions.unanswered_count:
        raise ModelError(
            f"the model gave {predictions.unanswered_count} of {len(predictions)} perturbed "
            "rows no decision; attributions need every row answered"
        )
    fractions = fractional_scores(predictions.labels) if task is Task.BINARY else None
    if predictions.scores is not None:
        values = np.asarray(predictions.scores, dtype=np.float64)
    elif fractions is not None:  # one probability per row, read as labels by its adapter
        values = fractions
    elif task is Task.REGRESSION:
        values = np.asarray(predictions.labels).astype(np.float64)
    else:
        return _positive(np.asarray(predictions.labels), positive_label)
    bad = int(np.count_nonzero(~np.isfinite(values)))
    if bad:
        what = "score" if predictions.scores is not None else "predicted value"
        raise ModelError(
            f"the model returned a {what} that is NaN or infinite for {bad} of the {len(values)} "
            "rows built to explain it; attributions need a finite number for every row"
        )
    return values


@dataclass
class CallCount:
    """What explaining cost, in model calls and rows."""

    model_calls: int = 0
    """Calls of the adapter's ``predict_batch`` (or of a PyTorch module's forward)."""
    rows: int = 0
    """Rows those calls evaluated."""
    requests: int | None = None
    """HTTP requests sent, for adapters that count them."""

    def add(self, other: CallCount) -> None:
        """Add ``other``'s counts to these."""
        self.model_calls += other.model_calls
        self.rows += other.rows
        if other.requests is not None:
            self.requests = (self.requests or 0) + other.requests


def _requests_sent(adapter: ModelAdapter) -> int | None:
    """HTTP requests the adapter (or its transport) has sent so far; None if it does not count."""
    for owner in (adapter, getattr(adapter, "transport", None)):
        sent = getattr(owner, "requests_sent", None)
        if isinstance(sent, int) and not isinstance(sent, bool):
            return sent
    return None


class ModelForward:
    """Captum's forward function over any model adapter.

    Parameters
    ----------
    adapter:
        The model.
    space:
        Decodes Captum's coded inputs into rows of the user's columns; None when only
        :meth:`predict` is used.
    rows_per_call:
        Most rows per ``predict_batch`` call.
    task, positive_label:
        How predictions become the attributed number; see :func:`scores_of`.
    """

    def __init__(
        self,
        adapter: ModelAdapter,
        space: ColumnSpace | None,
        *,
        rows_per_call: int,
        task: Task,
        positive_label: Any,
    ) -> None:
        self.adapter = adapter
        self._space = space
        self.rows_per_call = max(int(rows_per_call), 1)
        self.task = task
        self.positive_label = positive_label
        self.count = CallCount()
        self.used_scores: bool | None = None

    @property
    def space(self) -> ColumnSpace:
        """The column space that decodes Captum's inputs."""
        if self._space is None:
            raise ValueError("this forward function has no column space to decode inputs")
        return self._space

    def _call(self, chunk: pd.DataFrame) -> Predictions:
        predictions = self.adapter.predict_batch(chunk)
        if len(predictions) != len(chunk):
            raise ValueError(
                f"the model returned {len(predictions)} predictions for {len(chunk)} rows"
            )
        return predictions

    def _call_all(self, chunks: list[pd.DataFrame]) -> list[Predictions]:
        """Every chunk's predictions in order; ``concurrency`` calls in flight at once."""
        workers = min(scoring_concurrency(self.adapter), len(chunks))
        if workers <= 1:
            return [self._call(chunk) for chunk in chunks]
        with ThreadPoolExecutor(workers, thread_name_prefix="maas-audit-explain") as pool:
            futures = [pool.submit(self._call, chunk) for chunk in chunks]
            try:
                return [future.result() for future in futures]
            except BaseException:
                for future in futures:  # send nothing more; calls in flight finish
                    future.cancel()
                raise

    def predict(self, rows: pd.DataFrame) -> FloatArray:
        """Attributed number for each row of ``rows``, in calls of at most ``rows_per_call``.

        An adapter that declares ``concurrency`` (a served model) gets that many calls in
        flight at once, as in the audit's scoring pass (:mod:`audit.scoring`).
        """
        before = _requests_sent(self.adapter)
        chunks = [
            rows.iloc[start : start + self.rows_per_call]
            for start in range(0, len(rows), self.rows_per_call)
        ]
        parts: list[FloatArray] = []
        for chunk, predictions in zip(chunks, self._call_all(chunks), strict=True):
            self.used_scores = predictions.scores is not None
            parts.append(scores_of(predictions, task=self.task, positive_label=self.positive_label))
            self.count.model_calls += 1
            self.count.rows += len(chunk)
        after = _requests_sent(self.adapter)
        if isinstance(before, int) and isinstance(after, int):
            self.count.requests = (self.count.requests or 0) + after - before
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float64)

    def predict_codes(self, codes: npt.ArrayLike) -> FloatArray:
        """Attributed number for coded rows (see :class:`ColumnSpace`)."""
        return self.predict(self.space.decode(codes))

    def __call__(self, inputs: Any) -> Any:
        """Captum's forward: a tensor of coded rows in, a tensor of one score per row out."""
        import torch

        codes = inputs.detach().to("cpu", torch.float64).numpy()
        return torch.from_numpy(self.predict_codes(codes)).to(inputs.device)
