"""Principal reasons of each adverse decision, found as Regulation B's commentary describes.

Comment 9(b)(2)-5 of Supplement I to 12 CFR part 1002 names two methods of selecting
the reasons for an adverse action based on a credit scoring system: the factors for
which the applicant's score fell furthest below the average score for each of those
factors achieved by applicants whose total score was at or slightly above the minimum
passing score, or by all applicants.  Any method that produces substantially similar
results is also acceptable.

For a model, the score of column ``i`` is not given, so it is measured: the
*reason value* of column ``i`` for applicant ``x`` is

    d_i(x) = f(x) - mean over reference applicants b of f(x with column i set to b_i)

For a model that adds one score per column (``f = sum_i s_i(x_i)``, a points
scorecard) this is exactly ``s_i(x_i) - mean_b s_i(b_i)``: how far the applicant's
score on the column falls below the reference applicants' average score on it.  The
principal reasons are the columns of most negative reason value.  Reference
applicants are a uniform random sample of all rows (``all_applicants``), or the
approved rows of lowest score (``near_cutoff``).

Rows, columns and reference rows cost ``rows x columns x reference`` model rows,
sent in full batches.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from audit.auditors.explanations.forward import CallCount, ModelForward

__all__ = [
    "ApplicantReasons",
    "Reference",
    "applicant_reasons",
    "pseudonyms",
    "reference_rows",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Reference = Literal["all_applicants", "near_cutoff"]

_ROWS_AT_ONCE = 500_000
"""Most model rows built in memory at once (rows x reference rows x columns)."""

REASON_RTOL = 1e-5
"""A reason value counts only below ``-REASON_RTOL`` times the largest |reason value|
of the sample (numerical noise of the model's arithmetic; see ``summaries``)."""


@dataclass(frozen=True, eq=False)
class ApplicantReasons:
    """Reason values of a sample of adverse decisions, as plain numbers.

    Attributes
    ----------
    rows:
        Data row numbers of the adverse decisions given reasons.
    adverse_total:
        Adverse decisions in the data (``rows`` is all of them or a uniform sample).
    reference:
        How the reference applicants were chosen.
    reference_rows:
        Data row numbers of the reference applicants.
    scores:
        The model's attributed output for each row of ``rows``.
    reference_score:
        The mean output over the reference applicants.
    values:
        Shape ``(len(rows), columns)``: the reason value of each column (module docstring).
    cost:
        Model calls and rows the reasons cost.
    """

    rows: IntArray
    adverse_total: int
    reference: Reference
    reference_rows: IntArray
    scores: FloatArray
    reference_score: float
    values: FloatArray
    cost: CallCount

    @property
    def established(self) -> npt.NDArray[np.bool_]:
        """Per row, whether at least one column lowered the output below the average."""
        return np.asarray((self.values < -self.tolerance).any(axis=1), dtype=np.bool_)

    @property
    def tolerance(self) -> float:
        """Reason values above ``-tolerance`` are no reason (numerical noise)."""
        return REASON_RTOL * float(np.max(np.abs(self.values))) if self.values.size else 0.0

    def reasons(self, k: int) -> list[tuple[int, ...]]:
        """Per row, up to ``k`` column positions of most negative reason value, most first."""
        floor = -self.tolerance
        out = []
        for row in self.values:
            order = np.argsort(row, kind="stable")[:k]
            out.append(tuple(int(i) for i in order if row[i] < floor))
        return out


def reference_rows(
    n_data: int,
    *,
    reference: Reference,
    size: int,
    decisions: npt.ArrayLike,
    scores: npt.ArrayLike | None,
    rng: np.random.Generator,
) -> IntArray:
    """Data row numbers of the reference applicants (sorted).

    ``all_applicants``: a uniform random sample of ``size`` rows.  ``near_cutoff``: the
    ``size`` approved rows (decision 1) of lowest score; without scores, a uniform
    sample of the approved rows.  Empty when no row qualifies.
    """
    if reference == "all_applicants":
        pool = np.arange(n_data, dtype=np.int64)
        return np.sort(rng.choice(pool, size=min(size, n_data), replace=False)).astype(np.int64)
    approved = np.flatnonzero(np.asarray(decisions) == 1).astype(np.int64)
    if scores is None:
        take = rng.choice(approved, size=min(size, len(approved)), replace=False)
        return np.sort(take).astype(np.int64)
    order = np.argsort(np.asarray(scores, dtype=np.float64)[approved], kind="stable")
    return np.sort(approved[order[:size]]).astype(np.int64)


def applicant_reasons(
    forward: ModelForward,
    data: pd.DataFrame,
    columns: Sequence[str],
    *,
    adverse: IntArray,
    adverse_total: int,
    reference: Reference,
    reference_at: IntArray,
) -> ApplicantReasons:
    """Reason values of every column for each adverse decision in ``adverse``.

    Parameters
    ----------
    forward:
        Calls the model in full batches and counts the calls.
    data:
        The audited rows.
    columns:
        The model's input columns.
    adverse:
        Data row numbers of the adverse decisions to give reasons for.
    adverse_total:
        Adverse decisions in the data.
    reference, reference_at:
        How the reference applicants were chosen, and their data row numbers.
    """
    cols = list(columns)
    rows = data.iloc[adverse].loc[:, cols].reset_index(drop=True)
    ref = data.iloc[reference_at].loc[:, cols].reset_index(drop=True)
    n, b = len(rows), len(ref)
    scores = forward.predict(rows)
    reference_score = float(forward.predict(ref).mean())
    means = np.empty((n, len(cols)), dtype=np.float64)
    # Bound the rows built at once; the model still receives full batches.
    step = max(1, _ROWS_AT_ONCE // max(b * len(cols), 1))
    for start in range(0, n, step):
        stop = min(start + step, n)
        means[start:stop] = _swapped_means(forward, rows.iloc[start:stop], ref, cols)
    return ApplicantReasons(
        rows=np.asarray(adverse, dtype=np.int64),
        adverse_total=int(adverse_total),
        reference=reference,
        reference_rows=np.asarray(reference_at, dtype=np.int64),
        scores=scores,
        reference_score=reference_score,
        values=np.asarray(scores[:, None] - means, dtype=np.float64),
        cost=forward.count,
    )


def _swapped_means(
    forward: ModelForward, rows: pd.DataFrame, ref: pd.DataFrame, cols: Sequence[str]
) -> FloatArray:
    """Shape ``(rows, columns)``: the mean output with one column taken from each reference row."""
    n, b = len(rows), len(ref)
    repeated = rows.iloc[np.repeat(np.arange(n), b)].reset_index(drop=True)
    frames = []
    for column in cols:
        swapped = repeated.copy()
        swapped[column] = ref[column].iloc[np.tile(np.arange(b), n)].to_numpy()
        frames.append(swapped)
    outputs = forward.predict(pd.concat(frames, ignore_index=True))
    return np.asarray(outputs.reshape(len(cols), n, b).mean(axis=2).T, dtype=np.float64)


def pseudonyms(data: pd.DataFrame, rows: Sequence[int] | IntArray) -> list[str]:
    """A pseudonym for each data row number in ``rows``, keyed with a digest of ``data``.

    Only someone holding the same data can recompute the pseudonyms and find the row
    each one names: ``pseudonyms(data, range(len(data)))`` lists them all.

    Examples
    --------
    >>> frame = pd.DataFrame({"a": [1, 2]})
    >>> first = pseudonyms(frame, [0, 1])
    >>> first == pseudonyms(frame, [0, 1]), first[0].startswith("applicant-"), len(first[0])
    (True, True, 22)
    """
    try:
        digest = np.asarray(pd.util.hash_pandas_object(data, index=True), dtype=np.uint64)
        content = digest.tobytes()
    except TypeError:  # cells pandas cannot hash (lists, dicts): hash their text instead
        content = data.to_csv().encode()
    key = hashlib.sha256(content).digest()
    labels: list[Any] = list(data.index[np.asarray(rows, dtype=np.int64)])
    return [
        "applicant-" + hmac.new(key, str(label).encode(), hashlib.sha256).hexdigest()[:12]
        for label in labels
    ]
