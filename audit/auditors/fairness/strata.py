"""Each group against the reference group within strata (job, location, period).

With ``strata`` set, every group that :mod:`.measure` tested against its grouping's
reference group is tested again stratum by stratum: one 2x2 table per stratum
(selected or not, group or reference), combined by the Cochran–Mantel–Haenszel test
with the Mantel–Haenszel common odds ratio and the Breslow–Day test of homogeneity
(:func:`audit.stats.mantel_haenszel`).  The tables need only each group's rows per
stratum, selected or not, which the tally counts (:meth:`FairnessTally.strata_counts`) and
which add up over chunks: every engine computes the same figures from the same counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from audit.auditors.fairness.measure import BinaryMeasurement
from audit.auditors.fairness.tally import StrataCounts
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
    counts: StrataCounts,
    m: BinaryMeasurement,
    strata: str,
    *,
    confidence_level: float,
) -> StratifiedMeasurement | None:
    """Stratified comparisons of ``m``'s tested groups; ``None`` when ``m`` has no reference.

    Parameters
    ----------
    counts:
        The rows of ``m``'s grouping per group and stratum, selected or not
        (:meth:`FairnessTally.strata_counts`), whether counted over the whole table at
        once or added up over chunks.
    m:
        The grouping's measurement, whose tested groups are compared with its reference.
    strata:
        The strata column's name.
    confidence_level:
        Coverage of the common odds ratios' intervals.
    """
    if m.reference is None:
        return None
    position = {label: g for g, label in enumerate(counts.labels)}
    reference = counts.counts[position[m.labels[m.reference]]]
    labels, results = [], []
    for g, versus in enumerate(m.versus):
        if versus is None:
            continue
        mine = counts.counts[position[m.labels[g]]]
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
