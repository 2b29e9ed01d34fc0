"""What each step of an audit cost a metered model: requests and tokens, step by step.

A chat LLM is paid by request and by token, and an audit asks it in several steps: the
scoring pass, then each auditor that asks again (counterfactual pairs, attribution).  The
model's own usage counts are the run's totals; this ledger reads them between steps so
that the report can say which step spent what.  A model is *metered* when it has a
``usage()`` method returning such counts (the chat adapter); for any other model the
ledger records nothing and the report stays as it was.
"""

from __future__ import annotations

from typing import Any

__all__ = ["UsageLedger"]

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
