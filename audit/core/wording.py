"""How identifiers read in reports and messages: ``dp_attack_auc`` reads ``DP attack AUC``.

>>> humanize("dp_attack_auc"), humanize("k_anonymity"), sentence_case(humanize("pii_columns"))
('DP attack AUC', 'k-anonymity', 'PII columns')
"""

from __future__ import annotations

import re

from audit.core.findings import Verdict

__all__ = [
    "ACRONYMS",
    "HIGHER_IS_WORSE",
    "LOWER_BOUNDS",
    "humanize",
    "ESTABLISHED",
    "NOT_APPLICABLE",
    "outcome_label",
    "sentence_case",
]

ACRONYMS: frozenset[str] = frozenset(
    {"auc", "dp", "fpr", "ll144", "mae", "pii", "rmse", "roc", "tpr"}
)
"""Words of metric names written in capitals."""

_HYPHENATED = re.compile(r"\b([kl]) (anonymity|diversity)\b")
"""k-anonymity and l-diversity, as the literature writes them."""


def humanize(name: str) -> str:
    """Turn an identifier into words: ``selection_rate`` -> ``selection rate``.

    Acronyms are written in capitals (``auc_drop`` -> ``AUC drop``).
    """
    words = [w.upper() if w.lower() in ACRONYMS else w for w in name.strip().split("_") if w]
    return _HYPHENATED.sub(r"\1-\2", " ".join(words))


def sentence_case(text: str) -> str:
    """``text`` with its first letter in capitals and the rest as it is.

    Unlike ``str.capitalize``, which would write ``AUC drop`` as ``Auc drop``.
    """
    return text[:1].upper() + text[1:]


LOWER_BOUNDS: frozenset[str] = frozenset({"ratio_to_max", "at_least"})
"""Comparisons whose threshold is a floor: a failing figure lies below it."""

HIGHER_IS_WORSE: frozenset[str] = frozenset(
    {"false_negative_rate", "mean_absolute_error", "root_mean_squared_error"}
)
"""Metrics whose higher value is the worse for a group: its errors, the positive decision
being the favourable one (a higher false negative rate denies more qualified people)."""


NOT_APPLICABLE = "Not applicable"
"""The outcome of a requirement that does not apply to the audit (never a PASS)."""

ESTABLISHED = "Established"
"""The outcome of ``compare: established`` when the figure exists for every group."""


def outcome_label(
    verdict: Verdict, comparison: str, *, benchmark: bool, applies: bool = True
) -> str:
    """A finding's outcome in words: its verdict, or where it lies against a benchmark.

    Where the cited text sets no threshold (``benchmark``), a figure is compared with a
    screening benchmark, and the comparison is not a verdict under that text: it reads
    "Below benchmark" or "Within benchmark", never PASS or FAIL.  INCONCLUSIVE stays.
    Two outcomes are no verdict on a level: a requirement that does not apply
    (``applies`` false) reads :data:`NOT_APPLICABLE`, not INCONCLUSIVE, which would say
    evidence is missing; a figure that ``compare: established`` found for every group
    reads :data:`ESTABLISHED`, not PASS, which would say a level was met.

    >>> outcome_label(Verdict.FAIL, "ratio_to_max", benchmark=True)
    'Below benchmark'
    >>> outcome_label(Verdict.FAIL, "ratio_to_max", benchmark=False)
    'FAIL'
    """
    if not applies:
        return NOT_APPLICABLE
    if comparison == "established" and verdict is Verdict.PASS:
        return ESTABLISHED
    if not benchmark or verdict is Verdict.INCONCLUSIVE:
        return verdict.value
    if comparison == "significance":  # a p-value under alpha: a difference beyond chance
        return "Significant difference" if verdict is Verdict.FAIL else "No significant difference"
    lower_bound = comparison in LOWER_BOUNDS
    if verdict is Verdict.FAIL:
        return "Below benchmark" if lower_bound else "Above benchmark"
    return "At or above benchmark" if lower_bound else "Within benchmark"
