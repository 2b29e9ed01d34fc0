"""Predictions already in the data: audit a decision log without the model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from audit.adapters.base import check_batch_size, sha256_hex
from audit.core.protocols import Predictions
from audit.errors import DataError, ModelSpecError

__all__ = ["ColumnAdapter", "MissingDecisions"]

_SHOWN_COLUMNS = 20


class MissingDecisions(DataError):
    """A decision column has rows without a decision: how many, and of how many rows.

    The chunked and Dask engines add up each chunk's count and refuse the whole table
    with the total, in the words the in-memory engine uses for its single pass.

    Attributes
    ----------
    column:
        The decision column.
    missing, rows:
        Rows without a decision, and the rows read.
    """

    def __init__(self, column: str, missing: int, rows: int) -> None:
        super().__init__(
            f"decision column {column!r} has {missing:,} missing value(s) in {rows:,} rows; "
            "every row needs a decision"
        )
        self.column = column
        self.missing = missing
        self.rows = rows


class ColumnAdapter:
    """Read each row's decision (and optionally its score) from columns of the data.

    This is the adapter behind the spec ``column:NAME`` (``column:NAME,score=SCORECOL``).
    The decision columns are part of the data, whose hash the report already records.

    Parameters
    ----------
    column:
        The column holding the decision (label) for each row.
    score_column:
        A column holding the score (positive-class probability) for each row, if any.
    batch_size:
        Rows per batch; reading columns is cheap, so batches are large.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"decision": ["yes", "no"], "p": [0.9, 0.2]})
    >>> ColumnAdapter("decision", score_column="p").predict_batch(rows).scores.tolist()
    [0.9, 0.2]
    """

    def __init__(
        self, column: str, *, score_column: str | None = None, batch_size: int = 100_000
    ) -> None:
        if not isinstance(column, str) or not column:
            raise ModelSpecError(
                f"The 'column' parameter of ColumnAdapter must be a column name; got {column!r}"
            )
        if score_column is not None and (not isinstance(score_column, str) or not score_column):
            raise ModelSpecError(
                "The 'score_column' parameter of ColumnAdapter must be a column name or None; "
                f"got {score_column!r}"
            )
        self.column = column
        self.score_column = score_column
        self.batch_size = check_batch_size(batch_size, "ColumnAdapter")

    @property
    def input_columns(self) -> Sequence[str]:
        """The decision column, then the score column if there is one."""
        return (self.column,) if self.score_column is None else (self.column, self.score_column)

    @property
    def spec(self) -> str:
        """The model spec naming this adapter, e.g. ``column:decision,score=p``."""
        suffix = "" if self.score_column is None else f",score={self.score_column}"
        return f"column:{self.column}{suffix}"

    def check_columns(self, columns: Sequence[Any]) -> None:
        """Raise :class:`DataError` unless every input column is among ``columns``."""
        available = [str(c) for c in columns]
        for name in self.input_columns:
            if name not in available:
                shown = ", ".join(repr(c) for c in available[:_SHOWN_COLUMNS])
                more = f", ... ({len(available)} in all)" if len(available) > _SHOWN_COLUMNS else ""
                raise DataError(
                    f"column {name!r} (model spec '{self.spec}') is not in the data; "
                    f"columns are: {shown or '(none)'}{more}"
                )

    def predict_batch(self, rows: pd.DataFrame) -> Predictions:
        """Read the decisions (and scores) of ``rows``.

        Raises
        ------
        DataError
            A column is missing, or holds values that cannot be used;
            :class:`MissingDecisions` when rows have no decision.
        """
        self.check_columns(list(rows.columns))
        labels = rows[self.column]
        missing = int(labels.isna().sum())
        if missing:
            raise MissingDecisions(self.column, missing, len(rows))
        scores = None
        if self.score_column is not None:
            scores = self._scores(rows[self.score_column])
        return Predictions(labels=labels.to_numpy(), scores=scores)

    def _scores(self, column: pd.Series) -> np.ndarray:
        try:
            scores: np.ndarray = pd.to_numeric(column, errors="raise").to_numpy(
                dtype=np.float64, na_value=np.nan
            )
        except (TypeError, ValueError) as exc:
            raise DataError(
                f"score column {self.score_column!r} holds values that are not numbers: {exc}"
            ) from exc
        if np.isnan(scores).any():
            raise DataError(
                f"score column {self.score_column!r} has {int(np.isnan(scores).sum())} "
                "missing value(s); every row needs a score"
            )
        return scores

    def describe(self) -> dict[str, Any]:
        """Kind, spec and columns."""
        return {
            "kind": "column",
            "location": f"column '{self.column}' of the data",
            "spec": self.spec,
            "column": self.column,
            "score_column": self.score_column,
            "batch_size": self.batch_size,
        }

    def fingerprint(self) -> str:
        """Hex SHA-256 of the spec: the decisions themselves are hashed with the data."""
        return sha256_hex(self.spec.encode())
