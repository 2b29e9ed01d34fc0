"""Re-identification risk: k-anonymity and l-diversity over the quasi-identifiers.

Rows sharing every quasi-identifier value form an *equivalence class*; k is the size of
the smallest class (missing values form their own value).  l is the smallest number of
distinct sensitive values in a class (distinct l-diversity).

>>> import pandas as pd
>>> frame = pd.DataFrame({"zip": ["941", "941", "100"], "sex": ["F", "F", "M"],
...                       "diagnosis": ["flu", "cold", "flu"]})
>>> risk = measure_risk(frame, ("zip", "sex"), "diagnosis", k_target=2, l_target=2)
>>> risk.k, risk.l, risk.rows_at_risk
(1, 1, 1)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

__all__ = ["Risk", "measure_risk"]

SIZE_BUCKETS = ((1, 1), (2, 2), (3, 4), (5, 9), (10, 99), (100, None))


@dataclass(frozen=True)
class Risk:
    """k, l, and the rows in classes below the targets.

    Attributes
    ----------
    k : int
        Size of the smallest equivalence class.
    l : int or None
        Smallest number of distinct sensitive values in a class; ``None`` without a
        sensitive attribute.
    classes : int
        Number of equivalence classes.
    classes_below_k : int
        Classes smaller than the k target.
    rows_at_risk : int
        Rows in classes smaller than the k target or less diverse than the l target.
    rows : int
        Rows measured.
    histogram : tuple of (str, int, int)
        Class-size bucket, classes in it, rows in them.
    """

    k: int
    l: int | None  # noqa: E741 - the measure's name
    classes: int
    classes_below_k: int
    rows_at_risk: int
    rows: int
    histogram: tuple[tuple[str, int, int], ...]


def measure_risk(
    frame: pd.DataFrame,
    quasi_identifiers: Sequence[str],
    sensitive: str | None,
    *,
    k_target: int,
    l_target: int,
) -> Risk:
    """Measure k-anonymity and l-diversity of ``frame`` (non-empty, columns present)."""
    keys = [frame[c].astype("string").fillna("\N{EMPTY SET}") for c in quasi_identifiers]
    codes = pd.Series(pd.MultiIndex.from_arrays(keys).factorize()[0], index=frame.index)
    sizes = codes.map(codes.value_counts())
    at_risk = sizes < k_target
    l_value: int | None = None
    if sensitive is not None:
        distinct = (
            frame[sensitive].astype("string").groupby(codes, dropna=False).nunique(dropna=False)
        )
        l_value = int(distinct.min())
        at_risk |= codes.map(distinct) < l_target
    counts = codes.value_counts()
    histogram = []
    for low, high in SIZE_BUCKETS:
        inside = counts[(counts >= low) & (counts <= (high if high is not None else counts.max()))]
        label = str(low) if low == high else f"{low}-{high}" if high else f"{low}+"
        histogram.append((label, len(inside), int(inside.sum())))
    return Risk(
        k=int(counts.min()),
        l=l_value,
        classes=len(counts),
        classes_below_k=int((counts < k_target).sum()),
        rows_at_risk=int(at_risk.sum()),
        rows=len(frame),
        histogram=tuple(histogram),
    )
