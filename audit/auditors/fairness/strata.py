"""Each group against the reference group within strata (job, location, period).

With ``strata`` set, every group that :mod:`.measure` tested against its grouping's
reference group is tested again stratum by stratum: one 2x2 table per stratum
(selected or not, group or reference), combined by the Cochran–Mantel–Haenszel test
with the Mantel–Haenszel common odds ratio and the Breslow–Day test of homogeneity
(:func:`audit.stats.mantel_haenszel`).  It needs the rows, so the in-memory engine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from audit.auditors.fairness.measure import BinaryMeasurement
from audit.core.groups import encode_column, make_grouping
from audit.stats.multiple import holm_adjust
from audit.stats.stratified import StratifiedComparison, mantel_haenszel

__all__ = ["StratifiedMeasurement", "measure_strata"]


@dataclass(frozen=True, eq=False)
class StratifiedMeasurement:
    """The stratified tests of one grouping's groups against its reference group.

    Attributes
    ----------
    columns:
        The grouping's columns.
    strata:
        The column whose values are the strata.
    reference:
        The reference group's label.
    labels, results:
        Each tested group's label and its comparison (``None``: no stratum had both
        groups with some but not all selected).
    holm:
        The Holm-adjusted CMH p-values, NaN where no comparison was made.
    """

    columns: tuple[str, ...]
    strata: str
    reference: str
    labels: tuple[str, ...]
    results: tuple[StratifiedComparison | None, ...]
    holm: npt.NDArray[np.float64]


def measure_strata(
    data: pd.DataFrame,
    decisions: npt.NDArray[np.integer],
    m: BinaryMeasurement,
    strata: str,
    *,
    confidence_level: float,
) -> StratifiedMeasurement | None:
    """Stratified comparisons of ``m``'s tested groups; ``None`` when ``m`` has no reference."""
    if m.reference is None:
        return None
    grouping = make_grouping(data, list(m.columns))
    position = {label: g for g, label in enumerate(grouping.labels)}
    stratum, names, _ = encode_column(data[strata])
    n_strata = len(names)
    selected = np.asarray(decisions, dtype=np.int64)
    # counts[group, stratum, selected]
    combined = (grouping.codes * n_strata + stratum) * 2 + selected
    counts = np.bincount(combined, minlength=grouping.n_groups * n_strata * 2).reshape(
        grouping.n_groups, n_strata, 2
    )
    reference = counts[position[m.labels[m.reference]]]
    labels, results = [], []
    for g, versus in enumerate(m.versus):
        if versus is None:
            continue
        mine = counts[position[m.labels[g]]]
        # per stratum [[selected, not], [reference selected, reference not]]
        tables = np.stack(
            [mine[:, ::-1], reference[:, ::-1]], axis=1
        )  # (strata, 2, 2), columns (selected, not selected)
        labels.append(m.labels[g])
        results.append(mantel_haenszel(tables, confidence_level=confidence_level))
    holm = np.full(len(results), np.nan)
    made = [i for i, r in enumerate(results) if r is not None]
    if made:
        holm[made] = holm_adjust([results[i].cmh_p_value for i in made])  # type: ignore[union-attr]
    return StratifiedMeasurement(
        columns=m.columns,
        strata=strata,
        reference=m.labels[m.reference],
        labels=tuple(labels),
        results=tuple(results),
        holm=holm,
    )
