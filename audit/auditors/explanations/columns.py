"""The user's columns as Captum inputs: every value is a row index, so perturbing substitutes.

Captum's perturbation methods build each perturbed input as
``input * (1 - mask) + baseline * mask``.  Here the input of row ``i`` holds the
number ``i`` in every column and the baseline holds ``n`` (one past the last row);
a perturbed input therefore holds, per column, either its own row's index or the
baseline's, and :meth:`ColumnSpace.decode` turns it back into a DataFrame by taking
each column's value from that row.  Categorical, text, boolean and missing values
pass through unchanged, and an attribution is always per original column, whatever
encoding the model applies inside.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["ColumnSpace", "baseline_row", "is_numeric"]

Baseline = Literal["median", "mean", "reference"]


def is_numeric(values: pd.Series) -> bool:
    """Whether a column holds numbers that can be averaged (booleans do not)."""
    return bool(pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values))


def _typical(values: pd.Series, kind: Baseline) -> tuple[Any, str]:
    """The column's typical value and how it was chosen."""
    present = values.dropna()
    if present.empty:
        return values.iloc[0] if len(values) else np.nan, "every value missing"
    if is_numeric(values):
        if kind == "mean":
            return float(present.astype(float).mean()), "mean"
        return float(present.astype(float).median()), "median"
    counts = present.astype(object).value_counts(sort=True)
    return counts.index[0], "most frequent"


def baseline_row(
    data: pd.DataFrame,
    columns: Sequence[str],
    kind: Baseline,
    reference: Mapping[str, Any] | None = None,
) -> tuple[pd.DataFrame, dict[str, str], list[str]]:
    """The reference row that explanations are relative to.

    Parameters
    ----------
    data:
        The audited rows.
    columns:
        The model's input columns.
    kind:
        ``"median"`` (numbers) / most frequent value (other columns), ``"mean"`` / most
        frequent, or ``"reference"``: the values in ``reference``.
    reference:
        Column -> value; columns it leaves out get the median or most frequent value.

    Returns
    -------
    row, described, warnings:
        A one-row frame with ``columns``, each value described (``"37 (median)"``), and
        warnings about reference values that were missing.
    """
    values: dict[str, Any] = {}
    described: dict[str, str] = {}
    warnings: list[str] = []
    given = dict(reference or {})
    missing = [c for c in columns if kind == "reference" and c not in given]
    if missing:
        warnings.append(
            "the reference row gives no value for "
            + ", ".join(missing)
            + "; their median or most frequent value is used"
        )
    unknown = sorted(set(given) - set(columns))
    if unknown:
        warnings.append(
            "the reference row names columns the model does not read: " + ", ".join(unknown)
        )
    for column in columns:
        if kind == "reference" and column in given:
            values[column], how = given[column], "reference row"
        else:
            values[column], how = _typical(data[column], "mean" if kind == "mean" else "median")
        described[column] = f"{values[column]} ({how})"
    row = pd.DataFrame({c: [values[c]] for c in columns})
    for column in columns:
        original = data[column].dtype
        if is_numeric(data[column]) and pd.api.types.is_numeric_dtype(row[column]):
            continue
        if isinstance(original, pd.CategoricalDtype):
            row[column] = row[column].astype(original)
    return row, described, warnings


@dataclass(frozen=True, eq=False)
class ColumnSpace:
    """Rows to explain and a baseline row, coded for Captum (see the module docstring).

    Attributes
    ----------
    columns:
        The model's input columns, in the order the model reads them.
    atlas:
        The explained rows followed by the baseline row, index ``0..n``.
    """

    columns: tuple[str, ...]
    atlas: pd.DataFrame

    @classmethod
    def build(cls, rows: pd.DataFrame, baseline: pd.DataFrame) -> ColumnSpace:
        """Code ``rows`` (any index) against the one-row ``baseline``."""
        columns = tuple(str(c) for c in baseline.columns)
        atlas = pd.concat(
            [rows.loc[:, list(columns)].reset_index(drop=True), baseline.loc[:, list(columns)]],
            ignore_index=True,
        )
        return cls(columns, atlas)

    @property
    def n_rows(self) -> int:
        """Rows to explain (the baseline excluded)."""
        return len(self.atlas) - 1

    def inputs(self) -> npt.NDArray[np.float64]:
        """Shape ``(n_rows, columns)``: row ``i`` holds ``i`` in every column."""
        index = np.arange(self.n_rows, dtype=np.float64)
        return np.repeat(index[:, None], len(self.columns), axis=1)

    def baseline(self) -> npt.NDArray[np.float64]:
        """Shape ``(1, columns)``: the baseline's index ``n_rows`` in every column."""
        return np.full((1, len(self.columns)), float(self.n_rows))

    def decode(self, codes: npt.ArrayLike) -> pd.DataFrame:
        """Turn coded (possibly perturbed) inputs back into rows of the user's columns."""
        index = np.rint(np.asarray(codes, dtype=np.float64)).astype(np.int64)
        if index.ndim != 2 or index.shape[1] != len(self.columns):
            raise ValueError(
                f"coded inputs of shape {index.shape}; expected (rows, {len(self.columns)})"
            )
        return pd.DataFrame(
            {
                column: self.atlas[column].iloc[index[:, j]].reset_index(drop=True)
                for j, column in enumerate(self.columns)
            }
        )
