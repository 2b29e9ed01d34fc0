"""Local explanations in words: the columns that pushed one row's score, with their values.

For an adverse decision the principal reasons are the columns whose values lowered
the score most relative to the baseline, as an adverse-action notice lists them
(ECOA, 15 U.S.C. 1691(d); Regulation B, 12 CFR 1002.9(b)(2)).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from audit.auditors.explanations.summaries import TIE_RTOL

__all__ = ["describe_value", "principal_reasons", "top_contributions"]

FloatArray = npt.NDArray[np.float64]

_VALUE_CHARS = 40


def _tolerance(attributions: FloatArray) -> float:
    return TIE_RTOL * float(np.max(np.abs(attributions))) if len(attributions) else 0.0


def describe_value(value: Any) -> str:
    """A cell value as short text; missing values read ``missing``.

    Examples
    --------
    >>> describe_value(3.0), describe_value(float("nan")), describe_value("Self-emp")
    ('3', 'missing', 'Self-emp')
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "missing"
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, float | np.floating):
        return f"{float(value):.4g}"
    text = str(value)
    return text if len(text) <= _VALUE_CHARS else text[: _VALUE_CHARS - 1] + "\u2026"


def _phrase(column: str, value: Any, weight: float, roles: Mapping[str, str]) -> str:
    role = f" [{roles[column]}]" if column in roles else ""
    return f"{column} = {describe_value(value)} ({weight:+.3f}){role}"


def principal_reasons(
    attributions: FloatArray,
    values: Sequence[Any],
    columns: Sequence[str],
    k: int,
    roles: Mapping[str, str],
) -> list[str]:
    """Up to ``k`` columns that lowered this row's score most, most first.

    Only columns with a negative attribution beyond numerical tolerance (``TIE_RTOL``
    times the row's largest |attribution|) are reasons; each reads
    ``column = value (-0.123)``, with ``[sensitive]`` or ``[proxy of ...]`` when
    ``roles`` names the column.

    Examples
    --------
    >>> principal_reasons(np.array([-0.2, 0.1, -0.05]), [0, 5, "x"], ["a", "b", "c"], 3, {})
    ['a = 0 (-0.200)', 'c = x (-0.050)']
    >>> principal_reasons(np.array([-0.2, -1e-9]), [0, 5], ["a", "b"], 2, {})
    ['a = 0 (-0.200)']
    """
    floor = -_tolerance(attributions)
    order = np.argsort(attributions, kind="stable")
    return [
        _phrase(columns[i], values[i], float(attributions[i]), roles)
        for i in order[:k]
        if attributions[i] < floor
    ]


def top_contributions(
    attributions: FloatArray,
    values: Sequence[Any],
    columns: Sequence[str],
    k: int,
    roles: Mapping[str, str],
) -> list[str]:
    """Up to ``k`` columns of largest absolute attribution for this row, with their sign.

    Columns within numerical tolerance of 0 (see :func:`principal_reasons`) are left out.

    Examples
    --------
    >>> top_contributions(np.array([-0.2, 0.3]), [1, 2], ["a", "b"], 1, {"b": "sensitive"})
    ['b = 2 (+0.300) [sensitive]']
    >>> top_contributions(np.array([-0.2, 1e-9]), [1, 2], ["a", "b"], 2, {})
    ['a = 1 (-0.200)']
    """
    floor = _tolerance(attributions)
    order = np.argsort(-np.abs(attributions), kind="stable")
    return [
        _phrase(columns[i], values[i], float(attributions[i]), roles)
        for i in order[:k]
        if abs(attributions[i]) > floor
    ]
