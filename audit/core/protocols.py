"""The two extension seams of maas-audit: model adapters and auditors.

A *model adapter* turns a batch of rows into predictions; an *auditor* turns an
:class:`~audit.core.context.AuditContext` into measurements.  Both are structural
protocols: implement the attributes and methods, no base class needed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self, runtime_checkable

import numpy as np
import pandas as pd
from pydantic import BaseModel

if TYPE_CHECKING:
    from audit.core.context import AuditContext, ColumnRoles, ProgressFactory
    from audit.core.measurements import AuditorOutput

__all__ = ["Auditor", "ChunkedAuditor", "MetricRange", "ModelAdapter", "Predictions", "Tally"]


@dataclass(frozen=True, eq=False)
class Predictions:
    """What a model said about a batch of rows.

    Attributes
    ----------
    labels:
        One predicted label per row (class labels, or the predicted value for a
        regression model); ``None`` when the model only returns scores.
    scores:
        One score per row: the probability of the positive class for a binary
        classifier; ``None`` when the model returns no scores.
    unanswered:
        A boolean mask of the rows the model gave no answer for (an LLM's answer
        that could not be read, say), or ``None`` when every row was answered.  Such
        rows carry no class: the engine leaves them out of the audit (within the
        adapter's ``max_unanswered`` share, see :func:`audit.scoring.leave_out_unanswered`),
        and their labels and scores should be NaN, so that a caller who ignores the
        mask meets missing predictions rather than a made-up class.
    """

    labels: np.ndarray | None
    scores: np.ndarray | None = None
    unanswered: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.labels is None and self.scores is None:
            raise ValueError("Predictions need labels, scores or both; got neither.")
        if (
            self.labels is not None
            and self.scores is not None
            and len(self.labels) != len(self.scores)
        ):
            raise ValueError(
                f"labels and scores differ in length: {len(self.labels)} != {len(self.scores)}."
            )
        if self.unanswered is not None and (
            self.unanswered.dtype != np.bool_ or len(self.unanswered) != len(self)
        ):
            raise ValueError("unanswered must be a boolean mask with one entry per row.")

    def __len__(self) -> int:
        values = self.labels if self.labels is not None else self.scores
        assert values is not None  # guaranteed by __post_init__
        return len(values)

    @staticmethod
    def concatenate(parts: Sequence[Predictions]) -> Predictions:
        """Join the predictions of consecutive batches, in order."""
        if not parts:
            raise ValueError("cannot concatenate zero batches of predictions.")
        has_labels = {p.labels is not None for p in parts}
        has_scores = {p.scores is not None for p in parts}
        if len(has_labels) > 1 or len(has_scores) > 1:
            raise ValueError("batches disagree on whether they carry labels and scores.")
        labels = np.concatenate([p.labels for p in parts]) if parts[0].labels is not None else None
        scores = np.concatenate([p.scores for p in parts]) if parts[0].scores is not None else None
        unanswered = None
        if any(p.unanswered is not None for p in parts):
            unanswered = np.concatenate(
                [
                    np.zeros(len(p), dtype=np.bool_) if p.unanswered is None else p.unanswered
                    for p in parts
                ]
            )
        return Predictions(labels=labels, scores=scores, unanswered=unanswered)

    @property
    def unanswered_count(self) -> int:
        """How many rows the model gave no answer for."""
        return 0 if self.unanswered is None else int(self.unanswered.sum())

    def answered(self) -> Predictions:
        """The predictions of the answered rows only, in order, without a mask."""
        if self.unanswered is None:
            return self
        keep = ~self.unanswered
        labels = None if self.labels is None else self.labels[keep]
        scores = None if self.scores is None else self.scores[keep]
        return Predictions(labels=labels, scores=scores)


@runtime_checkable
class ModelAdapter(Protocol):
    """A model, wherever it runs, seen as a function from rows to predictions.

    The runner cuts the data into batches of at most :attr:`batch_size` rows and
    calls :meth:`predict_batch` once per batch.  Adapters must not print, and must
    never put credentials into :meth:`describe` or into error messages.

    An adapter may set the optional int attribute ``concurrency``: it then declares
    that :meth:`predict_batch` is safe to call from several threads at once, and how
    many batches the runner keeps in flight by default (served models set 4; the
    caller may ask for another number, ``--concurrency``).  Predictions are put back
    in row order.  Adapters without it are called one batch at a time from one
    thread: models that run in this process gain nothing from threads.  See
    :mod:`audit.scoring`.

    An adapter whose predictions may mark rows unanswered (``Predictions.unanswered``)
    may set the optional float attribute ``max_unanswered``: the largest share of the
    table's rows it allows to be left out of the audit (default 0: any such row stops
    the audit), and the optional method ``unanswered_reasons()``: how many rows were
    left unanswered, by reason.

    An adapter that can say who answered (a served model's name and version, an LLM's
    ``system_fingerprint``) may offer the optional methods ``predict_recorded(rows)``,
    returning the predictions and an :class:`~audit.core.answers.AnswerRecord` that the
    prediction cache keeps, and ``add_cached(record)``, given the record of each batch
    read from the cache (``None`` when none was kept), so that its :meth:`describe`
    names the model behind cached decisions too.  See :mod:`audit.scoring`.
    """

    batch_size: int
    """Largest number of rows sent to :meth:`predict_batch` at once."""

    @property
    def input_columns(self) -> Sequence[str] | None:
        """Columns this adapter reads, or ``None`` to receive the audit's feature columns."""
        ...

    def predict_batch(self, rows: pd.DataFrame) -> Predictions:
        """Predict for every row of ``rows``, returning exactly ``len(rows)`` predictions."""
        ...

    def describe(self) -> Mapping[str, Any]:
        """A JSON-safe description for the report; no secrets.

        Always has ``kind`` (e.g. ``"http"``) and ``location`` (a URL without
        credentials, a file path, or what the in-memory object is), then settings.
        """
        ...

    def fingerprint(self) -> str:
        """SHA-256 (hex) identifying the model: of its file, object or endpoint identity."""
        ...


MetricRange = tuple[float | None, float | None]
"""The lowest and highest value a metric can take; ``None``: unbounded on that side."""


@runtime_checkable
class Auditor(Protocol):
    """An audit method that measures one aspect of a model, e.g. fairness.

    Auditors are found through the ``maas_audit.auditors`` entry-point group; the
    entry point names the auditor class, instantiated with no arguments.
    Auditors return measurements and never raise on bad data: a measurement
    that cannot be made carries a reason instead of a value.

    An auditor that reads only the data (e.g. masking) sets the optional class
    attribute ``needs_model = False``; when every auditor of a policy does, an audit
    may be run without a model (``run_audit(model=None)``, ``maas-audit run`` without
    ``--model``) and nothing is scored.  Auditors without the attribute need a model.

    The optional class attribute ``population_metrics`` (a frozenset of metric names)
    names the metrics measured once for the whole data rather than per group, so that
    ``maas-audit policy explain`` words their requirements right.

    The optional class attribute ``metric_ranges`` (metric name -> :data:`MetricRange`)
    gives the values a metric can take, so that a policy whose threshold lies outside
    them (``at_most: 1.5`` on a rate, which always passes) is refused when it is bound.
    """

    name: ClassVar[str]
    """The name policies use in ``auditor:`` and ``auditors:``."""

    Config: ClassVar[type[BaseModel]]
    """Pydantic model of this auditor's settings (the policy's ``auditors.<name>`` block)."""

    def metrics(self) -> Mapping[str, str]:
        """The metrics this auditor can measure, each with a one-line description."""
        ...

    def run(self, context: AuditContext, config: BaseModel) -> AuditorOutput:
        """Measure ``context`` with settings ``config`` (an instance of :attr:`Config`)."""
        ...


@runtime_checkable
class Tally(Protocol):
    """What an auditor counted in one chunk of rows; tallies of chunks add up."""

    def merge(self, other: Self) -> Self:
        """Add ``other`` (a tally of other rows of the same audit) to this one."""
        ...


@runtime_checkable
class ChunkedAuditor(Auditor, Protocol):
    """An auditor whose measurements are sums over rows, so tables larger than memory work.

    The chunked and Dask engines (``run_audit(engine=...)``) give each chunk of rows
    to :meth:`tally`, merge the tallies in any order, and call :meth:`finish` once;
    the result must equal :meth:`run` on the whole table.  Only policies whose
    auditors all implement this protocol run on those engines.

    A chunk holds the model's inputs, the target and the sensitive columns.  An auditor
    that reads more columns (the fairness auditor's strata column) names them with an
    optional method ``chunk_columns(config) -> list[str]``; the engines then read those
    too, where the table has them.
    """

    def tally(self, context: AuditContext, config: BaseModel) -> Tally:
        """Count what ``context``'s rows contribute (a chunk of the audited table)."""
        ...

    def finish(
        self,
        tally: Any,
        config: BaseModel,
        *,
        roles: ColumnRoles,
        seed: int,
        progress: ProgressFactory,
    ) -> AuditorOutput:
        """Measure from the merged tally of every chunk."""
        ...
