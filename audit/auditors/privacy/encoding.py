"""The user's columns as a float matrix: one-hot categories and standardised numbers.

The encoding is fitted on the training split only and is plain data (categories, means,
scales), so it is saved next to the DP model as JSON and rebuilt when the model is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["TabularEncoding"]

FloatArray = npt.NDArray[np.float32]

_MAX_CATEGORIES = 200


def _is_numeric(values: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(values)) and not pd.api.types.is_bool_dtype(values)


def _text(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip().fillna("")


def _numbers(values: pd.Series) -> npt.NDArray[np.float64]:
    """``values`` as float64, NaN where missing or not a number."""
    numbers = pd.to_numeric(values, errors="coerce")
    return np.asarray(numbers.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


@dataclass(frozen=True)
class TabularEncoding:
    """A fitted encoding: a callable from rows to a ``float32`` matrix.

    Attributes
    ----------
    numeric:
        Numeric columns with their mean and scale, standardised; missing values become 0.
    categorical:
        Categorical columns with their categories, one-hot encoded; unseen values and
        categories beyond the 200 most frequent get all zeros.

    Examples
    --------
    >>> frame = pd.DataFrame({"age": [20.0, 40.0], "sex": ["F", "M"]})
    >>> encoding = TabularEncoding.fit(frame, ["age", "sex"])
    >>> encoding(frame).tolist()
    [[-1.0, 1.0, 0.0], [1.0, 0.0, 1.0]]
    >>> encoding.width
    3
    """

    numeric: tuple[tuple[str, float, float], ...]
    categorical: tuple[tuple[str, tuple[str, ...]], ...]

    @classmethod
    def fit(cls, frame: pd.DataFrame, columns: Sequence[str]) -> TabularEncoding:
        """Learn means, scales and categories of ``columns`` from ``frame``."""
        numeric: list[tuple[str, float, float]] = []
        categorical: list[tuple[str, tuple[str, ...]]] = []
        for column in columns:
            values = frame[column]
            if _is_numeric(values):
                array = values.to_numpy(dtype=np.float64, na_value=np.nan)
                finite = array[np.isfinite(array)]
                mean = float(finite.mean()) if len(finite) else 0.0
                scale = float(finite.std()) if len(finite) else 1.0
                numeric.append((str(column), mean, scale if scale > 0 else 1.0))
            else:
                counts = _text(values).value_counts()
                kept = sorted(str(v) for v in counts.index[:_MAX_CATEGORIES])
                categorical.append((str(column), tuple(kept)))
        return cls(numeric=tuple(numeric), categorical=tuple(categorical))

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns read, numbers first."""
        return tuple(c for c, _, _ in self.numeric) + tuple(c for c, _ in self.categorical)

    @property
    def width(self) -> int:
        """Number of encoded inputs."""
        return len(self.numeric) + sum(len(cats) for _, cats in self.categorical)

    def unreadable_numbers(self, rows: pd.DataFrame) -> list[str]:
        """Numeric columns with missing or non-numeric ``rows``, as ``column (N rows)``.

        :meth:`__call__` reads those cells as the mean the encoding was fitted with.

        >>> frame = pd.DataFrame({"age": [20.0, None, 40.0], "sex": ["F", "M", None]})
        >>> TabularEncoding.fit(frame, ["age", "sex"]).unreadable_numbers(frame)
        ['age (1 rows)']
        """
        found = []
        for column, _, _ in self.numeric:
            bad = int((~np.isfinite(_numbers(rows[column]))).sum())
            if bad:
                found.append(f"{column} ({bad} rows)")
        return found

    def __call__(self, rows: pd.DataFrame) -> FloatArray:
        """Encode ``rows`` (which must hold :attr:`columns`)."""
        parts: list[FloatArray] = []
        for column, mean, scale in self.numeric:
            standard = (_numbers(rows[column]) - mean) / scale
            parts.append(np.where(np.isfinite(standard), standard, 0.0)[:, None].astype(np.float32))
        for column, categories in self.categorical:
            index = {c: i for i, c in enumerate(categories)}
            codes = _text(rows[column]).map(index).to_numpy(dtype=np.float64, na_value=-1.0)
            onehot = np.zeros((len(rows), len(categories)), dtype=np.float32)
            hit = codes >= 0
            onehot[np.flatnonzero(hit), codes[hit].astype(np.int64)] = 1.0
            parts.append(onehot)
        if not parts:
            return np.zeros((len(rows), 0), dtype=np.float32)
        return np.ascontiguousarray(np.concatenate(parts, axis=1), dtype=np.float32)

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe description, read back by :meth:`from_json`."""
        return {
            "numeric": [{"column": c, "mean": m, "scale": s} for c, m, s in self.numeric],
            "categorical": [{"column": c, "categories": list(v)} for c, v in self.categorical],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TabularEncoding:
        """Rebuild an encoding from :meth:`to_json`'s output."""
        return cls(
            numeric=tuple(
                (str(e["column"]), float(e["mean"]), float(e["scale"])) for e in data["numeric"]
            ),
            categorical=tuple(
                (str(e["column"]), tuple(str(v) for v in e["categories"]))
                for e in data["categorical"]
            ),
        )
