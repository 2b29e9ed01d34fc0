"""How far rows of unknown sensitive value could move a compared figure.

A requirement judged with the unknown group left out (``unknown_group: exclude``) passes only
if it would pass wherever those rows belong.  For a share of the rows (a selection rate, an
accuracy) each unknown row is a hit or a miss, and the placement that hurts the figure most
is known in closed form; for any other metric it is not bounded here.
"""

from __future__ import annotations

from collections.abc import Sequence

from audit.core.measurements import GroupValue
from audit.policy.schema import Comparison, Requirement
from audit.policy.significance import least_favourable_p, selections

__all__ = ["ROW_SHARES", "least_favourable"]

ROW_SHARES = frozenset({"selection_rate", "accuracy"})
"""Metrics that are a share of the group's rows, so that the unknown rows' part is known."""


def least_favourable(
    req: Requirement, groups: Sequence[GroupValue], unknown: Sequence[GroupValue]
) -> float | None:
    """The compared figure with the unknown rows placed where they hurt it most.

    Each row of unknown group is either a hit (counted by the rate) or a miss.  Misses
    lower the rate of the group they join and hits raise it, so the lowest ratio or the
    largest difference puts every miss in one group and every hit in another (for a
    significance rule, the smallest p-value: :func:`least_favourable_p`); ``None`` where
    the metric is not a share of the rows or a group's value is missing.
    """
    if req.metric not in ROW_SHARES or any(g.value is None for g in unknown):
        return None
    hits = sum(selections(unknown))
    misses = sum(g.count for g in unknown) - hits
    if req.compare is Comparison.SIGNIFICANCE:
        return least_favourable_p(req, groups, hits, misses)
    counted = selections(groups)
    lowered = [c / (g.count + misses) for c, g in zip(counted, groups, strict=True)]
    raised = [(c + hits) / (g.count + hits) for c, g in zip(counted, groups, strict=True)]
    if req.compare is Comparison.AT_MOST:
        return max(raised)
    if req.compare is Comparison.AT_LEAST:
        return min(lowered)
    figures = []
    for low in range(len(groups)):
        for high in range(len(groups)):
            if low == high:
                continue
            rates = [g.value or 0.0 for g in groups]
            rates[low], rates[high] = lowered[low], raised[high]
            if req.compare is Comparison.RATIO_TO_MAX:  # no rate above 0: no ratio, no pass
                figures.append(min(rates) / max(rates) if max(rates) > 0 else 0.0)
            else:
                figures.append(max(rates) - min(rates))
    if not figures:
        return None
    return min(figures) if req.compare is Comparison.RATIO_TO_MAX else max(figures)
