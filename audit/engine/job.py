"""One chunk's work: score its rows, settle their outcomes, and tally them for each auditor.

A :class:`ChunkJob` carries everything a worker needs and nothing bound to the
process that made it: the model travels as its spec (loaded once per process) or
as a picklable object, so Dask can ship the job to workers on other machines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from pydantic import BaseModel

from audit.adapters import load_model
from audit.core.context import AuditContext, ColumnRoles
from audit.core.outcomes import resolve_outcomes
from audit.core.protocols import ChunkedAuditor, ModelAdapter, Tally
from audit.scoring import score

__all__ = ["ChunkJob", "merge_tallies"]


@dataclass
class ChunkJob:
    """Score and tally one chunk of the audited table.

    Attributes
    ----------
    model:
        The model as given to :func:`audit.run_audit` (a spec string or an object).
    model_options, trust_pickle:
        How to load it (see :func:`audit.adapters.load_model`).
    roles:
        The columns' roles, settled once for the whole table.
    positive_label:
        The favourable target value, settled once for the whole table.
    target_labels:
        The target's distinct values over the whole table.
    auditors:
        Each auditor with its settings.
    seed:
        The audit's seed.
    concurrency:
        Batches of one chunk in flight at once, for a served model (``None``: its default).
    cache_dir:
        Folder of the prediction cache (each chunk's batches are keyed by their own rows),
        or ``None`` for no cache.
    """

    model: Any
    model_options: Mapping[str, Any]
    trust_pickle: bool
    roles: ColumnRoles
    positive_label: Any
    target_labels: frozenset[Any]
    auditors: tuple[tuple[ChunkedAuditor, BaseModel], ...]
    seed: int
    concurrency: int | None = None
    cache_dir: str | None = None
    _adapter: ModelAdapter | None = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if isinstance(self.model, str):  # a spec: each process loads its own adapter
            state["_adapter"] = None
        return state

    def adapter(self) -> ModelAdapter:
        """The model's adapter, loaded on first use in this process."""
        if self._adapter is None:
            self._adapter = load_model(
                self.model, trust_pickle=self.trust_pickle, **dict(self.model_options)
            )
        return self._adapter

    def columns(self) -> list[str]:
        """The columns a chunk must hold: the model's inputs, the target, the sensitive ones."""
        inputs = list(self.adapter().input_columns or self.roles.features)
        return list(dict.fromkeys([*inputs, self.roles.target, *self.roles.sensitive]))

    def tally(self, frame: pd.DataFrame) -> list[Tally]:
        """Score ``frame`` and return each auditor's tally of it, in auditor order."""
        adapter = self.adapter()
        predictions = score(
            adapter, frame, self.roles, concurrency=self.concurrency, cache=self.cache_dir
        )
        outcomes, _ = resolve_outcomes(
            frame[self.roles.target],
            predictions,
            task=self.roles.task,
            positive_label=self.positive_label,
            threshold=self.roles.threshold,
            target_labels=self.target_labels,
        )
        context = AuditContext(
            data=frame, roles=self.roles, outcomes=outcomes, model=adapter, seed=self.seed
        )
        return [auditor.tally(context, config) for auditor, config in self.auditors]

    def tally_all(self, frames: Iterable[pd.DataFrame]) -> list[Tally] | None:
        """The merged tallies of several chunks (``None`` when there are none)."""
        merged: list[Tally] | None = None
        for frame in frames:
            merged = merge_tallies(merged, self.tally(frame))
        return merged


def merge_tallies(first: list[Tally] | None, second: list[Tally] | None) -> list[Tally] | None:
    """Merge two lists of per-auditor tallies, auditor by auditor (``None`` is empty)."""
    if first is None:
        return second
    if second is None:
        return first
    return [mine.merge(theirs) for mine, theirs in zip(first, second, strict=True)]
