"""One chunk's work: score its rows, settle their outcomes, and tally them for each auditor.

A :class:`ChunkJob` carries everything a worker needs and nothing bound to the
process that made it: the model travels as its spec (loaded once per process) or
as a picklable object, so Dask can ship the job to workers on other machines.
What it returns, :class:`ChunkTallies`, is as picklable and adds up chunk by chunk:
the auditors' tallies and the report of how the rows were scored.
"""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from pydantic import BaseModel

from audit.adapters import load_model
from audit.adapters.column import MissingDecisions
from audit.core.context import AuditContext, ColumnRoles
from audit.core.outcomes import fractional_scores, resolve_outcomes
from audit.core.protocols import Auditor, ChunkedAuditor, ModelAdapter, Predictions, Tally
from audit.engine.usage import add_usage
from audit.errors import ModelError
from audit.scoring import ScoringReport, score_batches

__all__ = [
    "ChunkJob",
    "ChunkTallies",
    "auditor_columns",
    "labels_as_scores",
    "merge_tallies",
    "read_columns",
]

_COPY_LOCK = threading.Lock()
"""Guards the adapter loads and usage reads of this process's copies of a job: the
threads of one Dask worker share a copy (see :meth:`ChunkJob.tally`)."""


@dataclass(frozen=True)
class ChunkTallies:
    """What one or more chunks gave: each auditor's tally, and how their rows were scored.

    Attributes
    ----------
    tallies:
        Each auditor's tally, in auditor order.
    scoring:
        The chunks' scoring reports added up (see :meth:`ScoringReport.combine`).
    labels_as_scores:
        Whether the model's labels were read as scores under a threshold, and some of
        them were fractions: ``True``; only 0s and 1s were: ``False`` (the whole table
        then has no scores, and the audit is refused); ``None`` when no labels were
        read as scores (see :func:`labels_as_scores`).
    missing_decisions:
        Rows without a decision in the decision log's column, by column (see
        :class:`~audit.adapters.column.MissingDecisions`): counted in every chunk so
        that the table is refused with its total.  Chunks that have some keep no tally.
    usage:
        On a Dask cluster, the usage record (``describe()["usage"]``) of each worker's
        copy of the adapter, as read after its latest chunk, keyed by copy, with the
        read's number: a copy's later read counts all that its earlier ones did.
        Empty where the process that runs the audit scored the chunks (see
        :meth:`usage_total`).
    """

    tallies: list[Tally]
    scoring: ScoringReport
    labels_as_scores: bool | None = None
    missing_decisions: Mapping[str, int] = field(default_factory=dict)
    usage: Mapping[str, tuple[int, Mapping[str, Any]]] = field(default_factory=dict)

    def usage_total(self) -> dict[str, Any] | None:
        """The workers' adapters' usage added up (:func:`add_usage`), or ``None`` if none."""
        total: dict[str, Any] | None = None
        for _, record in self.usage.values():
            total = dict(record) if total is None else add_usage(total, record)
        return total

    def merge(self, other: ChunkTallies) -> ChunkTallies:
        """Add ``other`` (other chunks of the same audit): auditor by auditor, and scoring."""
        missing = dict(self.missing_decisions)
        for column, count in other.missing_decisions.items():
            missing[column] = missing.get(column, 0) + count
        tallies = (
            []  # the table is refused: its tallies are not needed
            if missing
            else [
                mine.merge(theirs) for mine, theirs in zip(self.tallies, other.tallies, strict=True)
            ]
        )
        read = (self.labels_as_scores, other.labels_as_scores)
        as_scores = None if read == (None, None) else True in read
        usage = dict(self.usage)
        for copy, (number, record) in other.usage.items():
            if number > usage.get(copy, (0, {}))[0]:
                usage[copy] = (number, record)
        scoring = self.scoring.combine(other.scoring)
        return ChunkTallies(tallies, scoring, as_scores, missing, usage)


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
    data_columns:
        A data-only audit (``model`` is ``None``): the columns its auditors read (all of
        them); nothing is scored.
    auditor_columns:
        More columns the auditors read, where the table has them (see
        :func:`auditor_columns`), e.g. the fairness auditor's strata column.
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
    data_columns: tuple[str, ...] = ()
    auditor_columns: tuple[str, ...] = ()
    _adapter: ModelAdapter | None = field(default=None, repr=False, compare=False)
    _copy: str | None = field(default=None, repr=False, compare=False)
    _usage_reads: int = field(default=0, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if isinstance(self.model, str):  # a spec: each process loads its own adapter
            state["_adapter"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        # a copy on a Dask worker: what its adapter sends is counted there, not where
        # the audit runs, so each chunk carries the copy's usage back (see tally)
        self.__dict__.update(state, _copy=uuid.uuid4().hex, _usage_reads=0)

    def adapter(self) -> ModelAdapter:
        """The model's adapter, loaded on first use in this process (once: a lock)."""
        with _COPY_LOCK:
            if self._adapter is None:
                self._adapter = load_model(
                    self.model, trust_pickle=self.trust_pickle, **dict(self.model_options)
                )
            return self._adapter

    def columns(self) -> list[str]:
        """The columns a chunk must hold: the model's inputs, the target, the sensitive ones.

        And those the auditors read besides (:attr:`auditor_columns`).
        """
        if self.model is None:
            return list(self.data_columns)
        inputs = self.adapter().input_columns or self.roles.features
        return read_columns(inputs, self.roles.target, self.roles.sensitive, self.auditor_columns)

    def tally(self, frame: pd.DataFrame) -> ChunkTallies:
        """Score ``frame``: each auditor's tally of it, and how it was scored (as one chunk).

        ``frame`` is indexed by its rows' positions in the table; a data-only audit's
        auditors read them (first rows in evidence), and nothing is scored.
        """
        if self.model is None:
            context = AuditContext(data=frame, seed=self.seed)
            tallies = [auditor.tally(context, config) for auditor, config in self.auditors]
            return ChunkTallies(tallies, ScoringReport(len(frame), 0, 0, 0, 0, chunks=1))
        frame = frame.reset_index(drop=True)
        adapter = self.adapter()
        try:
            predictions, scoring = score_batches(
                adapter, frame, self.roles, concurrency=self.concurrency, cache=self.cache_dir
            )
        except MissingDecisions as gaps:  # counted in every chunk, refused with the total
            missing = {gaps.column: int(frame[gaps.column].isna().sum())}
            unscored = ScoringReport(len(frame), 0, 0, 0, 0, chunks=1)
            return ChunkTallies([], unscored, missing_decisions=missing)
        if predictions.unanswered_count:  # the share allowed is of the whole table
            raise ModelError(
                f"{predictions.unanswered_count} rows of a chunk got no decision from the "
                "model; rows without one are left out (max_unanswered) only by the "
                "in-memory engine: run with --engine pandas"
            )
        predictions, as_scores = labels_as_scores(predictions, self.roles.threshold)
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
        tallies = [auditor.tally(context, config) for auditor, config in self.auditors]
        scoring = dataclasses.replace(scoring, chunks=1)
        return ChunkTallies(tallies, scoring, as_scores, usage=self._copy_usage(adapter))

    def _copy_usage(self, adapter: ModelAdapter) -> dict[str, tuple[int, Mapping[str, Any]]]:
        """A worker's copy's adapter's usage so far, with the read's number; else nothing.

        Read and numbered under one lock, so that a later number never counts less: the
        copy's latest read, taken after its last chunk, counts all it sent.
        """
        if self._copy is None:
            return {}
        with _COPY_LOCK:
            record = adapter.describe().get("usage")
            if not isinstance(record, Mapping):
                return {}
            self._usage_reads += 1
            return {self._copy: (self._usage_reads, dict(record))}

    def tally_all(self, frames: Iterable[pd.DataFrame]) -> ChunkTallies | None:
        """The merged tallies of several chunks (``None`` when there are none)."""
        merged: ChunkTallies | None = None
        for frame in frames:
            merged = merge_tallies(merged, self.tally(frame))
        return merged


def read_columns(
    inputs: Iterable[str], target: str, sensitive: Iterable[str], extra: Iterable[str] = ()
) -> list[str]:
    """The columns a model audit reads, each once.

    The model's inputs, the target, the sensitive columns and those the auditors read
    besides (:func:`auditor_columns`).
    """
    return list(dict.fromkeys([*inputs, target, *sensitive, *extra]))


def auditor_columns(
    auditors: Iterable[tuple[Auditor, BaseModel]], table: Iterable[Any]
) -> tuple[str, ...]:
    """The columns of ``table`` that the auditors read beyond the columns' roles.

    An auditor names them with the optional method ``chunk_columns(config)`` (the
    fairness auditor: its strata column); a column the table lacks is not read, and the
    auditor says so from its tallies as it does in memory.  Every engine requires each
    file of a Parquet folder to store those the table has (``require``).
    """
    present = set(table)
    named = [
        column
        for auditor, config in auditors
        for column in getattr(auditor, "chunk_columns", lambda _: ())(config)
    ]
    return tuple(c for c in dict.fromkeys(named) if c in present)


def labels_as_scores(
    predictions: Predictions, threshold: float | None
) -> tuple[Predictions, bool | None]:
    """One chunk's labels read as scores under ``threshold``, and whether some were fractions.

    The in-memory engine reads labels as scores when a threshold is given and they are
    numbers in [0, 1], some strictly between (:func:`audit.core.outcomes.fractional_scores`),
    over the whole table.  A chunk of only 0s and 1s cannot tell: its labels are read as
    scores too (``False``), and :attr:`ChunkTallies.labels_as_scores` of the whole table
    decides.  Labels that are no scores at all are left as they are (``None``), for
    :func:`~audit.core.outcomes.resolve_outcomes` to refuse as it does in memory.
    """
    labels = predictions.labels
    if threshold is None or predictions.scores is not None or labels is None:
        return predictions, None
    fractions = fractional_scores(labels)
    if fractions is not None:
        return dataclasses.replace(predictions, labels=None, scores=fractions), True
    values = pd.to_numeric(pd.Series(labels), errors="coerce")
    if len(values) and bool(values.isin([0, 1]).all()):
        scores = values.to_numpy(dtype=float)
        return dataclasses.replace(predictions, labels=None, scores=scores), False
    return predictions, None


def merge_tallies(first: ChunkTallies | None, second: ChunkTallies | None) -> ChunkTallies | None:
    """Merge the tallies of two sets of chunks (``None`` is no chunk)."""
    if first is None:
        return second
    if second is None:
        return first
    return first.merge(second)
