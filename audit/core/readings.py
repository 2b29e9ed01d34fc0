"""How measured values read beside the thresholds and levels they are judged by.

Rounding must never hide a verdict.  A measured value that failed its threshold never
reads as the threshold itself (an impact ratio of 0.7996 against 0.8 is not "0.800"):
:func:`decimals_apart` gives the decimals that tell them apart.  A p-value reads with
three decimals, and ``p < 0.001`` below that, unless those would put the p-value on the
other side of the significance level the sentence judges it by: a p-value of 0.0497 is
"larger than chance would explain" at the 0.05 level, and ``p = 0.050`` beside those
words would contradict them, so it reads ``p = 0.0497``.  Likewise below 0.001 when the
level is smaller still (a Bonferroni-adjusted level of 0.0005, say): ``p < 0.001`` would
not say on which side of it the p-value lies.

>>> p_value_text(0.0312), p_value_text(0.00002), p_value_text(0.0497, level=0.05)
('p = 0.031', 'p < 0.001', 'p = 0.0497')
"""

from __future__ import annotations

__all__ = ["decimals_apart", "p_value_text", "whole_numbers"]

_MOST_APART = 9
"""Most decimals :func:`decimals_apart` adds to tell a value from its threshold."""

_DECIMALS = 3
"""Decimals a p-value reads with, unless the level needs more."""
_MOST_DECIMALS = 5
"""Beyond this many decimals, p-values read in scientific notation."""
_MOST_SIGNIFICANT = 16
"""Most significant digits a p-value reads with (a double holds about 16)."""


def p_value_text(p_value: float, level: float | None = None) -> str:
    """``p = 0.031``; ``p < 0.001`` below that; more digits where they decide ``level``.

    Parameters
    ----------
    p_value:
        The p-value, in [0, 1].
    level:
        The significance level the sentence around it judges the p-value by, if any:
        the text never shows a value on the other side of it (or on it) from the
        p-value itself.

    Examples
    --------
    >>> p_value_text(0.05003, level=0.05), p_value_text(0.0004, level=0.0005)
    ('p = 0.050', 'p = 0.0004')
    """
    below = level is not None and p_value < level
    if p_value < 10**-_DECIMALS and (level is None or level > 10**-_DECIMALS):
        return f"p < {10**-_DECIMALS:.{_DECIMALS}f}"
    candidates = [f"{p_value:.{d}f}" for d in range(_DECIMALS, _MOST_DECIMALS + 1)]
    candidates += [f"{p_value:.{d}e}" for d in range(1, _MOST_SIGNIFICANT)]
    for shown in candidates:
        value = float(shown)
        if value == 0 < p_value:
            continue  # too few decimals to show it at all
        if level is None or (value < level) == below:
            return f"p = {shown}"
    return f"p = {p_value!r}"


def decimals_apart(value: float, threshold: float, decimals: int) -> int:
    """Decimals, ``decimals`` or more, at which ``value`` does not read as ``threshold``.

    For a value that failed its threshold: shown with as many decimals as the
    threshold, it may round onto it.  Values closer than ``10**-9`` read alike.

    >>> decimals_apart(0.7996, 0.8, 3), decimals_apart(0.71, 0.8, 3)
    (4, 3)
    """
    while f"{value:.{decimals}f}" == f"{threshold:.{decimals}f}" and decimals < _MOST_APART:
        decimals += 1
    return decimals


def whole_numbers(value: float, threshold: float) -> bool:
    """Whether a value and its threshold read without decimals: both whole (counts).

    >>> whole_numbers(25.0, 0.0), whole_numbers(0.25, 0.0)
    (True, False)
    """
    return float(value).is_integer() and float(threshold).is_integer()
