"""What each step of an audit cost a metered model: requests and tokens, step by step.

A chat LLM is paid by request and by token, and an audit asks it in several steps: the
scoring pass, then each auditor that asks again (counterfactual pairs, attribution).  The
model's own usage counts are the run's totals; this ledger reads them between steps so
that the report can say which step spent what.  A model is *metered* when it has a
``usage()`` method returning such counts (the chat adapter); for any other model the
ledger records nothing and the report stays as it was.

On a Dask cluster each worker scores with its own adapter: :func:`add_usage` adds
their usage records up for the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["UsageLedger", "add_usage"]

_COUNTED = ("requests", "prompt_tokens", "completion_tokens")


class UsageLedger:
    """Requests and tokens a metered model spent in each step since the ledger was opened.

    Parameters
    ----------
    model:
        The model adapter; metered when it has a callable ``usage()``.
    """

    def __init__(self, model: object) -> None:
        usage = getattr(model, "usage", None)
        self._read = usage if callable(usage) else None
        self._last = self._counts()
        self.steps: list[dict[str, Any]] = []
        """One entry per recorded step: its name and what it spent of each count."""

    def _counts(self) -> dict[str, int] | None:
        if self._read is None:
            return None
        counts = self._read()
        return {name: int(counts.get(name) or 0) for name in _COUNTED}

    def record(self, step: str) -> None:
        """Close ``step``: what the model spent since the previous step (or the opening)."""
        now = self._counts()
        if now is None or self._last is None:
            return
        spent = {name: now[name] - self._last[name] for name in _COUNTED}
        self.steps.append({"step": step, **spent})
        self._last = now

    def describe(self) -> dict[str, Any]:
        """``{"usage_by_step": [...]}`` for a metered model's description, else nothing."""
        return {"usage_by_step": list(self.steps)} if self._read is not None else {}


def add_usage(first: Mapping[str, Any], second: Mapping[str, Any]) -> dict[str, Any]:
    """Two adapters' usage records (``describe()["usage"]``) as one, for one table's audit.

    The Dask engine's workers each load their own adapter; the report's usage is theirs
    added up.  Counts (ints) add up, lists of names are united and sorted, nested records
    are added key by key, a missing or ``None`` value is nothing, ``earliest`` and ``latest``
    times keep the earlier and the later, and a chat model's ``consistency`` (a share of its
    ``rows_answered``) is weighted by each one's rows.  Other values are kept when equal and
    are ``None`` (not known) when they differ.
    """
    added: dict[str, Any] = {}
    for key in dict.fromkeys([*first, *second]):
        mine, theirs = first.get(key), second.get(key)
        if mine is None or theirs is None:
            added[key] = theirs if mine is None else mine
        elif key == "consistency":
            added[key] = _weighted(
                mine, theirs, first.get("rows_answered"), second.get("rows_answered")
            )
        elif key in ("earliest", "latest"):
            added[key] = min(mine, theirs) if key == "earliest" else max(mine, theirs)
        elif _count(mine) and _count(theirs):
            added[key] = mine + theirs
        elif isinstance(mine, Mapping) and isinstance(theirs, Mapping):
            added[key] = add_usage(mine, theirs)
        elif isinstance(mine, list) and isinstance(theirs, list):
            added[key] = sorted({*mine, *theirs})
        else:
            added[key] = mine if mine == theirs else None
    return added


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _weighted(mine: float, theirs: float, rows: object, other_rows: object) -> float | None:
    """Two shares of rows as one share of both, or ``None`` when a row count is missing."""
    if isinstance(rows, int) and isinstance(other_rows, int) and rows + other_rows > 0:
        return (mine * rows + theirs * other_rows) / (rows + other_rows)
    return None
