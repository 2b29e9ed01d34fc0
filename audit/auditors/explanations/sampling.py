"""Which rows are explained: a random sample, small groups topped up, the most adverse decisions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from audit.core.context import Outcomes, Task
from audit.core.groups import Grouping

__all__ = ["RowPlan", "plan_rows"]

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class RowPlan:
    """Data row numbers to explain, by why they are explained.

    Attributes
    ----------
    sample:
        A uniform random sample: global importance is measured on it.
    top_up:
        Extra random rows of groups the sample holds too few of: group importance
        is measured on the sample and these.
    adverse:
        Per single-column group label, the rows of the most adverse decisions.
    """

    sample: IntArray
    top_up: IntArray
    adverse: dict[str, IntArray]

    def rows(self) -> IntArray:
        """Every row to explain, each once, in a stable order."""
        parts = [self.sample, self.top_up, *self.adverse.values()]
        joined = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        _, first = np.unique(joined, return_index=True)
        return joined[np.sort(first)].astype(np.int64)


def _adverse_order(outcomes: Outcomes, rows: IntArray) -> IntArray:
    """``rows`` with an adverse decision, most adverse first (lowest score or prediction)."""
    if outcomes.task is Task.REGRESSION:
        values = np.asarray(outcomes.y_pred, dtype=np.float64)[rows]
        return np.asarray(rows[np.argsort(values, kind="stable")], dtype=np.int64)
    decided = np.asarray(outcomes.y_pred)[rows] == 0
    negative = np.asarray(rows[decided], dtype=np.int64)
    if outcomes.y_score is None:
        return negative
    scores = np.asarray(outcomes.y_score, dtype=np.float64)[negative]
    return np.asarray(negative[np.argsort(scores, kind="stable")], dtype=np.int64)


def _members(grouping: Grouping) -> list[IntArray]:
    """Row numbers of each group of ``grouping``, ascending, in group-code order."""
    if grouping.n_groups == 0:
        return []
    order = np.argsort(grouping.codes, kind="stable").astype(np.int64)
    return np.split(order, np.cumsum(grouping.counts())[:-1])


def plan_rows(
    n_data: int,
    *,
    n_rows: int,
    groupings: Sequence[Grouping],
    min_group_rows: int,
    adverse_per_group: int,
    outcomes: Outcomes,
    rng: np.random.Generator,
) -> RowPlan:
    """Choose the rows to explain.

    Parameters
    ----------
    n_data:
        Rows in the data.
    n_rows:
        Size of the uniform sample (all rows when the data has fewer).
    groupings:
        Groupings of the whole data; a group with fewer than ``min_group_rows`` sampled
        rows gets random rows added, up to that number.
    min_group_rows:
        See above.
    adverse_per_group:
        Most adverse decisions explained per group of each single-column grouping.
    outcomes:
        The model's decisions and scores for every data row.
    rng:
        Random generator for the sample and the top-ups.
    """
    members_of = [_members(grouping) for grouping in groupings]
    sample = np.sort(rng.choice(n_data, size=min(n_rows, n_data), replace=False)).astype(np.int64)
    chosen = np.zeros(n_data, dtype=bool)
    chosen[sample] = True
    extra: list[IntArray] = []
    for members_by_code in members_of:
        for members in members_by_code:
            have = int(chosen[members].sum())
            if have >= min_group_rows:
                continue
            spare = members[~chosen[members]]
            take = rng.permutation(spare)[: min_group_rows - have]
            chosen[take] = True
            extra.append(np.asarray(take, dtype=np.int64))
    top_up = np.sort(np.concatenate(extra)) if extra else np.zeros(0, dtype=np.int64)
    adverse: dict[str, IntArray] = {}
    if adverse_per_group:
        for grouping, members_by_code in zip(groupings, members_of, strict=True):
            if len(grouping.columns) != 1:
                continue
            for label, members in zip(grouping.labels, members_by_code, strict=True):
                adverse[label] = _adverse_order(outcomes, members)[:adverse_per_group]
    return RowPlan(sample=sample, top_up=top_up.astype(np.int64), adverse=adverse)
