"""Plain Python functions as models."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from audit.adapters.base import (
    as_column,
    check_batch_size,
    object_sha256,
    qualified_name,
    wrap_model_call,
)
from audit.core.protocols import Predictions
from audit.errors import ModelError, ModelSpecError

__all__ = ["CallableAdapter"]

_KEYS = frozenset({"labels", "scores"})


class CallableAdapter:
    """A function ``DataFrame -> predictions`` as a :class:`~audit.core.protocols.ModelAdapter`.

    The function may return

    - an array-like of labels, one per row;
    - a mapping with ``"labels"`` and/or ``"scores"`` (positive-class probabilities);
    - a :class:`~audit.core.protocols.Predictions`.

    Parameters
    ----------
    fn:
        The function; it receives a batch of rows with the audit's feature columns.
    batch_size:
        Rows per call.
    name:
        How reports name the model; by default the function's qualified name.

    Examples
    --------
    >>> import pandas as pd
    >>> adapter = CallableAdapter(lambda rows: (rows["age"] > 40).astype(int), name="rule")
    >>> adapter.predict_batch(pd.DataFrame({"age": [30, 50]})).labels.tolist()
    [0, 1]
    """

    def __init__(
        self,
        fn: Callable[[pd.DataFrame], Any],
        *,
        batch_size: int = 10_000,
        name: str | None = None,
    ) -> None:
        if not callable(fn):
            raise ModelSpecError(f"CallableAdapter needs a callable; got a {type(fn).__name__}")
        self.fn = fn
        self.batch_size = check_batch_size(batch_size, "CallableAdapter")
        self.name = name if name is not None else qualified_name(fn)
        self._sha256: str | None = None

    @property
    def input_columns(self) -> Sequence[str] | None:
        """Always ``None``: the function receives the audit's feature columns."""
        return None

    def predict_batch(self, rows: pd.DataFrame) -> Predictions:
        """Call the function on ``rows`` and check it answered once per row."""
        what = f"model function {self.name!r}"
        n = len(rows)
        result = wrap_model_call(lambda: self.fn(rows), what, n, rows)
        if isinstance(result, Predictions):
            labels, scores = result.labels, result.scores
        elif isinstance(result, Mapping):
            unknown = sorted(map(str, set(result) - _KEYS))
            if unknown or not (set(result) & _KEYS):
                raise ModelError(
                    f"{what} returned a mapping with keys {sorted(map(str, result))}; "
                    "expected 'labels' and/or 'scores'"
                )
            labels, scores = result.get("labels"), result.get("scores")
        else:
            labels, scores = result, None
        if labels is None and scores is None:
            raise ModelError(f"{what} returned neither labels nor scores")
        return Predictions(
            labels=None if labels is None else as_column(labels, n, what, "labels"),
            scores=None if scores is None else _scores(scores, n, what),
        )

    def describe(self) -> dict[str, Any]:
        """Kind, name and batch size."""
        return {
            "kind": "callable",
            "location": f"Python callable {self.name}",
            "name": self.name,
            "batch_size": self.batch_size,
        }

    def fingerprint(self) -> str:
        """Hex SHA-256 of the function: its qualified name and bytecode.

        Callable objects are hashed by their pickle instead; see
        :func:`audit.adapters.base.object_sha256`.  Closures and defaults are not hashed.
        """
        if self._sha256 is None:
            self._sha256 = object_sha256(self.fn)
        return self._sha256


def _scores(values: Any, n: int, what: str) -> np.ndarray:
    column = as_column(values, n, what, "scores")
    try:
        return column.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"{what} returned scores that are not numbers: {exc}") from exc
