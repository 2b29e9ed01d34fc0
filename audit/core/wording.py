"""How identifiers read in reports and messages: ``dp_attack_auc`` reads ``DP attack AUC``.

>>> humanize("dp_attack_auc"), humanize("k_anonymity"), sentence_case(humanize("pii_columns"))
('DP attack AUC', 'k-anonymity', 'PII columns')
"""

from __future__ import annotations

import re

__all__ = ["ACRONYMS", "humanize", "sentence_case"]

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
