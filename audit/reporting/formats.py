"""The number formats the reports share (registered as Jinja filters by :mod:`.html`).

Measured values, counts, thresholds, intervals and p-values read the same in the HTML
report, its charts and the LLM section.
"""

from __future__ import annotations

import math

from audit.core.findings import Finding, Verdict
from audit.core.readings import decimals_apart, p_value_text, whole_numbers

__all__ = [
    "EM_DASH",
    "EN_DASH",
    "compared_threshold",
    "format_count",
    "format_interval",
    "format_measured",
    "format_number",
    "format_p_value",
    "format_threshold",
]

EM_DASH = "\u2014"
EN_DASH = "\u2013"


def compared_threshold(comparison: str, threshold: float) -> float | None:
    """The threshold a comparison used; ``None`` for ``established``, which uses none."""
    return None if comparison == "established" else threshold


def format_p_value(value: float | None, level: float | None = None) -> str:
    """A p-value as a lawyer reads it: ``p < 0.001`` below that, else three decimals.

    With the significance ``level`` it is judged by, more digits where three decimals
    would show it on the other side of the level (see :mod:`audit.core.readings`).

    >>> format_p_value(9e-184), format_p_value(0.0312), format_p_value(None)
    ('p < 0.001', 'p = 0.031', '—')
    >>> format_p_value(0.0497, 0.05)
    'p = 0.0497'
    """
    if value is None or not math.isfinite(value):
        return EM_DASH
    return p_value_text(value, level)


def format_number(value: float | int | None, digits: int = 3) -> str:
    """Format a measured value: floats to ``digits`` decimals, ints with thousands separators.

    A non-zero value too small for ``digits`` decimals (a DP delta of 1e-5, a p-value) is
    shown to ``digits`` significant digits instead of as zero.

    Examples
    --------
    >>> format_number(0.31234), format_number(12345), format_number(None)
    ('0.312', '12,345', '—')
    >>> format_number(1e-5), format_number(-0.00012345)
    ('1e-05', '-0.000123')
    """
    if value is None or isinstance(value, bool):
        return EM_DASH if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    number = float(value)
    if not math.isfinite(number):
        return EM_DASH
    text = f"{number:,.{digits}f}"
    if text.strip("-0.,"):
        return text
    return f"{number:.{digits}g}" if number != 0 else text.lstrip("-")


def format_measured(finding: Finding) -> str:
    """A finding's measured value as the tables beside its threshold show it.

    A p-value (a significance requirement) as :func:`format_p_value` reads it at the
    requirement's level; a whole value against a whole threshold (a count) without
    decimals; any other value as :func:`format_number` does, except that a value that
    failed never reads as its threshold (0.7996 against 0.8 is not ``0.800``; see
    :func:`audit.core.readings.decimals_apart`).
    """
    value, threshold = finding.measured, finding.threshold
    if finding.comparison == "established" and value is not None:
        if not finding.grouping:  # the whole population's figure
            return "1 figure"
        return f"{value:,.0f} group{'' if value == 1 else 's'}"
    if finding.comparison == "significance":
        return format_p_value(value, threshold)
    if value is None or not math.isfinite(value):
        return format_number(value)
    if whole_numbers(value, threshold):
        return f"{value:,.0f}"
    if finding.verdict is not Verdict.FAIL:
        return format_number(value)
    return format_number(value, decimals_apart(value, threshold, 3))


def format_count(value: int | None) -> str:
    """Format a count with thousands separators (``12,345``); ``—`` when missing."""
    return EM_DASH if value is None else f"{int(value):,}"


def format_threshold(value: float | None) -> str:
    """Format a threshold as a policy writes it: ``0.8`` stays ``0.8``; at most 3 decimals.

    A non-zero threshold too small for 3 decimals (a delta of ``1e-5``) keeps its own digits.
    """
    if value is None or not math.isfinite(float(value)):
        return EM_DASH
    text = f"{float(value):,.3f}".rstrip("0").rstrip(".")
    if text in {"", "0", "-0"}:
        return f"{float(value):g}" if float(value) != 0 else "0"
    return text


def format_interval(value: float | None, low: float | None, high: float | None) -> str:
    """Format a value with its interval, ``0.312 (0.300–0.325)``; alone if a bound is missing."""
    shown = format_number(value)
    if value is None or low is None or high is None:
        return shown
    return f"{shown} ({format_number(low)}{EN_DASH}{format_number(high)})"
