"""One scoring pass: the model's predictions for every row, batch by batch.

Concurrency
    An adapter that declares an int attribute ``concurrency`` (served models: 4)
    declares that :meth:`~audit.core.protocols.ModelAdapter.predict_batch` is safe
    to call from several threads at once; the pass then keeps up to that many
    batches in flight (or the number the caller asks for), from as many threads,
    each taking the next batch as soon as its own comes back.  A new batch is sent
    only when one comes back, so no more than that many requests are ever built or
    waiting, however large the table.  Predictions are
    put back in row order.  The first failure stops the pass: no new batch is sent,
    the batches in flight finish (each within its adapter's own time-out and
    retries), and that failure is raised.  Adapters without the attribute (models
    that run in this process, which threads would not speed up) are called one
    batch at a time.

Unanswered rows
    An adapter may mark rows it got no answer for (``Predictions.unanswered``; an
    LLM whose answer could not be read).  :func:`leave_out_unanswered` leaves them
    out of the table and the predictions when their share is within the adapter's
    ``max_unanswered`` (default 0), and raises otherwise: they are never given a class.

Garbage collection
    While batches are scored, the objects that were alive when the pass began (pandas,
    the table, every loaded module: tens of thousands) are left out of garbage
    collections (:func:`gc.freeze`), and put back when it ends.  A full collection
    visits every tracked object and stops every thread meanwhile, about 30 ms with
    pandas loaded, during which no answer in flight is read; a pass of 400 requests
    at 16 in flight met one or two of them.  A process that froze its own heap (a
    pre-fork server) is left as it is.

Cache
    With a :class:`~audit.cache.PredictionCache`, each batch is looked up before it is
    sent and stored as soon as it comes back: a rerun sends nothing, and a rerun after
    a crash sends only the batches that had not come back (see :mod:`audit.cache`).

Who answered
    An adapter may say who answered each batch: ``predict_recorded(rows)`` returns the
    predictions and an :class:`~audit.core.answers.AnswerRecord` (the model names and
    fingerprints the answers gave, their tokens, the time), which the cache keeps with
    the batch.  A batch read from the cache is handed back to such an adapter with
    ``add_cached(record)`` (``None`` when its entry kept none), so that its usage record
    names the model behind every decision, fresh or cached, and tells the two apart.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from queue import SimpleQueue
from typing import Any

import pandas as pd

from audit.cache import CachedRun, PredictionCache
from audit.core.answers import AnswerRecord
from audit.core.context import ColumnRoles, ProgressFactory, no_progress
from audit.core.protocols import ModelAdapter, Predictions
from audit.errors import AuditError, DataError, ModelError, UsageError

__all__ = ["ScoringReport", "leave_out_unanswered", "score_batches", "scoring_concurrency"]

_UNHASHABLE = "the inputs hold values that cannot be hashed"
_Scored = tuple[Predictions, AnswerRecord | None]


@dataclass(frozen=True)
class ScoringReport:
    """How a scoring pass went: batches sent, batches read from the cache, concurrency.

    The chunked and Dask engines score each chunk of the table in its own pass and
    add the passes' reports up with :meth:`combine`.

    Attributes
    ----------
    rows, batch_size, batches:
        Rows scored, rows per batch (the largest, after :meth:`combine`), and batches
        they made.
    concurrency:
        Most batches in flight at once.
    batches_scored, batches_cached:
        Batches the model was asked for, and batches read from the cache.
    cache_keys, cache_rejected, cache_not_stored:
        The keys of the cache entries used (one per pass; none without a cache),
        entries found corrupt or foreign (and rescored), and batches whose predictions
        could not be stored.
    cache_unusable:
        A cache was given but the inputs (of at least one pass) hold values that
        cannot be hashed, so none was used for them.
    chunks:
        Passes added up, one per chunk of a table scored chunk by chunk; ``None`` for
        one pass over the whole table (the in-memory engine).
    """

    rows: int
    batch_size: int
    batches: int
    concurrency: int
    batches_scored: int
    batches_cached: int = 0
    cache_keys: frozenset[str] = frozenset()
    cache_rejected: int = 0
    cache_not_stored: int = 0
    cache_unusable: bool = False
    chunks: int | None = None

    @property
    def cache_key(self) -> str | None:
        """The cache entry's key when exactly one was used, else ``None``."""
        return next(iter(self.cache_keys)) if len(self.cache_keys) == 1 else None

    def combine(self, other: ScoringReport) -> ScoringReport:
        """Both reports as chunks of one table: counts add up, sizes keep the largest.

        A report without :attr:`chunks` counts as one chunk.  Each chunk's rows are
        keyed separately in the cache, so the combined report keeps every distinct key.
        """
        return ScoringReport(
            rows=self.rows + other.rows,
            batch_size=max(self.batch_size, other.batch_size),
            batches=self.batches + other.batches,
            concurrency=max(self.concurrency, other.concurrency),
            batches_scored=self.batches_scored + other.batches_scored,
            batches_cached=self.batches_cached + other.batches_cached,
            cache_keys=self.cache_keys | other.cache_keys,
            cache_rejected=self.cache_rejected + other.cache_rejected,
            cache_not_stored=self.cache_not_stored + other.cache_not_stored,
            cache_unusable=self.cache_unusable or other.cache_unusable,
            chunks=(self.chunks or 1) + (other.chunks or 1),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for the report's model description.

        One pass names its cache entry (``cache.key``); chunks add ``chunks`` after
        ``rows`` and count their distinct cache entries instead (``cache.keys``).
        """
        chunks = {} if self.chunks is None else {"chunks": self.chunks}
        return {
            "rows": self.rows,
            **chunks,
            "batch_size": self.batch_size,
            "batches": self.batches,
            "concurrency": self.concurrency,
            "batches_scored": self.batches_scored,
            "batches_from_cache": self.batches_cached,
            "cache": self._cache_dict(),
        }

    def _cache_dict(self) -> dict[str, Any] | str:
        if not self.cache_keys:
            return f"off: {_UNHASHABLE}" if self.cache_unusable else "off"
        used = {"key": self.cache_key} if self.chunks is None else {"keys": len(self.cache_keys)}
        cache: dict[str, Any] = {
            **used,
            "entries_rejected": self.cache_rejected,
            "batches_not_stored": self.cache_not_stored,
        }
        if self.cache_unusable:  # some chunks were keyed, others could not be
            cache["not_cached"] = "chunks whose inputs hold values that cannot be hashed"
        return cache


def scoring_concurrency(adapter: ModelAdapter, requested: int | None = None) -> int:
    """Batches in flight at once for ``adapter``: 1 unless it declares ``concurrency``.

    Parameters
    ----------
    adapter:
        The model; its optional ``concurrency`` attribute is the default.
    requested:
        The caller's choice (``--concurrency``), used when the adapter declares the
        attribute; ``None`` keeps the adapter's own.

    Raises
    ------
    UsageError
        If ``requested`` is not an int >= 1.
    """
    if requested is not None and (
        isinstance(requested, bool) or not isinstance(requested, int) or requested < 1
    ):
        raise UsageError(f"concurrency must be an int >= 1; got {requested!r} instead.")
    declared = getattr(adapter, "concurrency", None)
    if isinstance(declared, bool) or not isinstance(declared, int) or declared < 1:
        return 1
    return declared if requested is None else requested


def score_batches(
    adapter: ModelAdapter,
    frame: pd.DataFrame,
    roles: ColumnRoles,
    *,
    progress: ProgressFactory = no_progress,
    concurrency: int | None = None,
    cache: PredictionCache | str | os.PathLike[str] | None = None,
) -> tuple[Predictions, ScoringReport]:
    """Predict every row of ``frame`` in batches of ``adapter.batch_size``, and say how.

    See the module docstring.

    Parameters
    ----------
    adapter, frame, roles:
        The model, the rows, and their roles: the adapter receives its own
        ``input_columns`` when it declares them, otherwise the feature columns of ``roles``.
    progress:
        Makes the progress bar of the batches.
    concurrency:
        Batches in flight at once, for adapters that declare ``concurrency``;
        ``None`` keeps the adapter's own (see :func:`scoring_concurrency`).
    cache:
        A :class:`~audit.cache.PredictionCache` or its folder; ``None``: no cache.

    Returns
    -------
    tuple
        The predictions in row order, and a :class:`ScoringReport`.

    Raises
    ------
    DataError
        When a column the adapter reads is missing.
    ModelError
        When the model raises, or returns a wrong number of predictions.
    UsageError
        When ``concurrency`` is invalid, or the cache folder cannot be written.
    """
    workers = scoring_concurrency(adapter, concurrency)
    columns = list(adapter.input_columns or roles.features)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"the model reads columns missing from the data: {', '.join(missing)}")
    inputs = frame[columns]
    size = max(int(adapter.batch_size), 1)
    spans = [(start, min(start + size, len(inputs))) for start in range(0, len(inputs), size)]
    run = _open_run(cache, adapter, inputs, size)
    parts: dict[int, Predictions] = {}
    add_cached = getattr(adapter, "add_cached", None)
    bar = progress("Scoring", len(inputs))
    try:
        todo: list[int] = []
        for index, (start, stop) in enumerate(spans):
            hit = run.load(index, start, stop) if run is not None else None
            if hit is None:
                todo.append(index)
            else:
                parts[index] = hit[0]
                if callable(add_cached):
                    add_cached(hit[1])
                bar.update(stop - start)

        def done(index: int, scored: _Scored) -> None:
            predictions, answered = scored
            parts[index] = predictions
            if run is not None:
                run.store(index, *spans[index], predictions, answered)
            bar.update(len(predictions))

        def call(index: int) -> Callable[[], _Scored]:
            start, stop = spans[index]
            batch = inputs.iloc[start:stop]  # cut under the runner's lock, one at a time
            return lambda: _predict(adapter, batch, start)

        with _heap_frozen():
            _run_batches(call, todo, workers, done)
    finally:
        bar.close()
    report = ScoringReport(
        rows=len(inputs),
        batch_size=size,
        batches=len(spans),
        concurrency=workers,
        batches_scored=len(todo),
        batches_cached=len(spans) - len(todo),
        cache_keys=frozenset() if run is None else frozenset({run.key}),
        cache_rejected=run.rejected if run is not None else 0,
        cache_not_stored=run.not_stored if run is not None else 0,
        cache_unusable=cache is not None and run is None,
    )
    return Predictions.concatenate([parts[i] for i in range(len(spans))]), report


def leave_out_unanswered(
    adapter: ModelAdapter, frame: pd.DataFrame, predictions: Predictions
) -> tuple[pd.DataFrame, Predictions, dict[str, int]]:
    """The rows the model answered, their predictions, and the rows left out by reason.

    The table is renumbered from 0; the reasons come from the adapter's optional
    ``unanswered_reasons()`` (a row the adapter gives no reason for counts as
    ``"no answer"``); they are empty when every row was answered.

    Raises
    ------
    ModelError
        If the share of unanswered rows is above the adapter's ``max_unanswered``
        (default 0), or every row is unanswered.
    """
    left_out = predictions.unanswered_count
    if not left_out:
        return frame, predictions, {}
    reasons = _reasons(adapter, left_out)
    tolerance = getattr(adapter, "max_unanswered", 0.0)
    if not isinstance(tolerance, int | float) or isinstance(tolerance, bool):
        tolerance = 0.0
    share = left_out / len(frame)
    if share > tolerance or left_out == len(frame):
        why = "; ".join(f"{n} {reason}" for reason, n in reasons.items())
        limit = "nothing left to audit with" if share == 1 else "above"
        raise ModelError(
            f"{left_out} of {len(frame)} rows ({share:.1%}) got no decision from the model "
            f"({why}), {limit} max_unanswered {float(tolerance):.1%}; an unanswered row is never "
            "given a class: fix the prompt, the decision rule or max_tokens, or raise "
            "max_unanswered in the model config"
        )
    assert predictions.unanswered is not None  # left_out > 0
    kept = frame.loc[~predictions.unanswered].reset_index(drop=True)
    return kept, predictions.answered(), reasons


def _reasons(adapter: ModelAdapter, left_out: int) -> dict[str, int]:
    method = getattr(adapter, "unanswered_reasons", None)
    given = dict(method()) if callable(method) else {}
    reasons = {str(k): int(v) for k, v in sorted(given.items()) if int(v) > 0}
    # a rerun from the cache asks nothing, so the adapter may know fewer reasons
    rest = left_out - sum(reasons.values())
    if rest > 0:
        reasons["no answer (reason not recorded: read from the cache)"] = rest
    return reasons


def _open_run(
    cache: PredictionCache | str | os.PathLike[str] | None,
    adapter: ModelAdapter,
    inputs: pd.DataFrame,
    size: int,
) -> CachedRun | None:
    if cache is None:
        return None
    folder = cache if isinstance(cache, PredictionCache) else PredictionCache(cache)
    return folder.open(adapter, inputs, size)


def _predict(adapter: ModelAdapter, batch: pd.DataFrame, start: int) -> _Scored:
    stop = start + len(batch)
    recorded = getattr(adapter, "predict_recorded", None)
    answered: AnswerRecord | None = None
    try:
        if callable(recorded):
            predictions, answered = recorded(batch)
        else:
            predictions = adapter.predict_batch(batch)
    except AuditError:
        raise
    except Exception as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ModelError(
            f"the model failed on rows {start}-{stop - 1}: {type(exc).__name__}: {detail}"
        ) from None
    if len(predictions) != len(batch):
        raise ModelError(f"the model returned {len(predictions)} predictions for {len(batch)} rows")
    return predictions, answered


@contextmanager
def _heap_frozen() -> Iterator[None]:
    """Leave the objects alive now out of garbage collections until the block ends.

    Objects made inside the block are collected as usual.  Nothing changes when the
    heap is frozen already (the process's own choice, which unfreezing would undo)
    or collection is off.
    """
    if gc.get_freeze_count() > 0 or not gc.isenabled():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _run_batches(
    call: Callable[[int], Callable[[], _Scored]],
    todo: Sequence[int],
    workers: int,
    done: Callable[[int, _Scored], None],
) -> None:
    """Predict every batch of ``todo``, at most ``workers`` at once.

    ``call(index)`` gives the call that predicts batch ``index``; both run in a worker
    thread, ``call`` under a lock (so batches are cut from the table one at a time);
    ``done`` runs in this thread.

    Each worker takes the next batch as soon as its own comes back, without waiting
    for this thread to wake up and hand it one: on a busy machine that hand-off costs
    as much as encoding the batch.  There are ``workers`` threads, each with one batch
    at a time, so at most ``workers`` batches are ever cut and not yet done: that is
    the backpressure.  After the first failure no batch is taken; those in flight
    finish, and the ones that succeed still go to ``done`` (so the cache keeps them),
    then the failure is raised.  No thread uses the adapter once this returns.
    """
    if workers <= 1 or len(todo) <= 1:
        for index in todo:
            done(index, call(index)())
        return
    queue = iter(todo)
    lock = threading.Lock()
    stop = threading.Event()
    results: SimpleQueue[tuple[int, _Scored | None, BaseException | None] | None]
    results = SimpleQueue()

    def take() -> tuple[int, Callable[[], _Scored]] | None:
        with lock:
            index = None if stop.is_set() else next(queue, None)
            return None if index is None else (index, call(index))

    def work() -> None:
        try:
            while (job := take()) is not None:
                index, predict = job
                try:
                    results.put((index, predict(), None))
                except BaseException as exc:  # handed to the caller's thread
                    stop.set()
                    results.put((index, None, exc))
        except BaseException as exc:  # cutting a batch failed
            stop.set()
            results.put((-1, None, exc))
        finally:
            results.put(None)

    threads = [
        threading.Thread(target=work, name=f"maas-audit-score-{n}", daemon=True)
        for n in range(min(workers, len(todo)))
    ]
    for thread in threads:
        thread.start()
    failure: BaseException | None = None
    running = len(threads)
    try:
        while running:
            item = results.get()
            if item is None:
                running -= 1
                continue
            index, scored, error = item
            if error is not None or scored is None:
                failure = failure or error
                continue
            try:
                done(index, scored)
            except BaseException as exc:  # raised once the workers stop
                stop.set()
                failure = failure or exc
    finally:
        stop.set()  # an interrupt here: the workers take no new batch
    for thread in threads:
        thread.join()
    if failure is not None:
        raise failure
