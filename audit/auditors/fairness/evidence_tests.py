"""The fairness auditor's statistical evidence: each group tested against the reference.

Overall and within strata; the numbers come from :mod:`.measure` and :mod:`.strata`.
"""

from __future__ import annotations

from audit.auditors.fairness._present import Cell, Part, columns_label, number
from audit.auditors.fairness.config import FairnessConfig
from audit.auditors.fairness.measure import BinaryMeasurement
from audit.auditors.fairness.strata import StratifiedMeasurement
from audit.core.measurements import EvidenceTable, GroupStatus
from audit.core.readings import p_value_text
from audit.stats.stratified import StratifiedComparison

__all__ = [
    "SIGNIFICANCE_PREFIX",
    "STRATA_PREFIX",
    "p_value_words",
    "significance_table",
    "strata_part",
    "strata_words",
]


SIGNIFICANCE_PREFIX = "Selection rates tested against the reference group, by "


def p_value_words(p_value: float, level: float) -> str:
    """A lawyer's reading of a one-sided Fisher p-value at significance level ``level``.

    >>> p_value_words(0.0031, 0.05)
    "larger than chance would explain: p = 0.003, Fisher's exact test"
    """
    shown = p_value_text(p_value, level)
    if p_value < level:
        return f"larger than chance would explain: {shown}, Fisher's exact test"
    return f"within what chance could explain: {shown}, Fisher's exact test"


def significance_table(m: BinaryMeasurement, settings: FairnessConfig) -> EvidenceTable | None:
    """Each group of ``m`` against its reference group, or ``None`` when none was tested."""
    if m.reference is None or all(v is None for v in m.versus):
        return None
    reference = m.labels[m.reference]
    rows: list[tuple[Cell, ...]] = []
    tested = sum(1 for v in m.versus if v is not None)
    for g, comparison in enumerate(m.versus):
        if comparison is None:
            continue
        status, _ = m.statuses[g]
        reading = p_value_words(comparison.fisher_p_value, settings.significance_level)
        if status is not GroupStatus.OK:
            reading += f" (group {status.value}: not compared by the requirements)"
        rows.append(
            (
                m.labels[g],
                comparison.total,
                comparison.selected,
                comparison.impact_ratio,
                comparison.ratio_low,
                comparison.ratio_high,
                comparison.shortfall,
                comparison.z,
                comparison.z_p_value,
                comparison.fisher_p_value,
                comparison.mid_p_value,
                number(m.holm[g]),
                reading,
            )
        )
    level = f"{100 * settings.confidence_level:g}%"
    return EvidenceTable(
        title=SIGNIFICANCE_PREFIX + columns_label(m.columns),
        columns=(
            "group",
            "rows",
            "positive decisions",
            "impact ratio",
            f"impact ratio {level} low",
            f"impact ratio {level} high",
            "shortfall",
            "z",
            "p (z test, two-sided)",
            "p (Fisher exact, one-sided)",
            "mid-p (Fisher, one-sided)",
            "p (Fisher, Holm-adjusted)",
            "reading",
        ),
        rows=tuple(rows),
        caption=(
            f"Reference group: {reference}, the highest selection rate among the compared "
            "groups. Shortfall: the positive decisions the group would have had at the "
            "reference group's rate, minus those it had. z: the pooled two-proportion z "
            "statistic (about -2 or lower is the 'two standard deviations' rule). Fisher's "
            "exact test asks how likely a rate this low is if decisions fell on the two groups "
            "by chance; mid-p is its less conservative variant. "
            f"{tested} group(s) were tested against the reference, so one of them can look "
            "significant by chance alone; the Holm-adjusted p-value allows for that. "
            "Impact ratio interval: Katz's log method."
        ),
    )


STRATA_PREFIX = "Selection within strata of "


def strata_words(result: StratifiedComparison, reference: str, level: float) -> str:
    """A lawyer's reading of a group's CMH test against ``reference``, with its direction.

    The CMH test is two-sided: a small p-value says the odds differ within strata, and
    the common odds ratio says which way.  The reference has the highest selection rate
    pooled over strata, yet within strata the group can be selected more often
    (Simpson's paradox), which must not read as a shortfall.

    >>> from audit.stats.stratified import mantel_haenszel
    >>> result = mantel_haenszel([[[90, 10], [800, 200]], [[200, 800], [10, 90]]])
    >>> strata_words(result, "sex=Male", 0.05).split(":")[0]
    'within strata, selected more often than sex=Male, not less'
    """
    shown = f"{p_value_text(result.cmh_p_value, level)}, Cochran-Mantel-Haenszel test"
    if not result.cmh_p_value < level:
        words = f"within strata, within what chance could explain: {shown}"
    elif result.common_odds_ratio > 1:
        words = (
            f"within strata, selected more often than {reference}, not less: {shown} (two-sided)"
        )
    else:
        words = (
            f"within strata, selected less often than {reference} by more than chance would "
            f"explain: {shown}"
        )
    if result.strata_used == 1:
        words += "; only one stratum holds both groups, so this is not a comparison within strata"
    return words


def strata_part(m: StratifiedMeasurement, settings: FairnessConfig) -> Part:
    """The stratified comparisons of one grouping, as a table."""
    part = Part()
    rows: list[tuple[Cell, ...]] = []
    level = settings.significance_level
    for label, result, holm in zip(m.labels, m.results, m.holm.tolist(), strict=True):
        if result is None:
            rows.append(
                (
                    label,
                    0,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    "no stratum holds both groups with some but not all selected",
                )
            )
            continue
        reading = strata_words(result, m.reference, level)
        if result.breslow_day_p_value < level:
            reading += (
                f"; the odds ratio differs between strata "
                f"({p_value_text(result.breslow_day_p_value, level)},"
                " Breslow-Day), so one common ratio summarises them poorly"
            )
        rows.append(
            (
                label,
                result.strata_used,
                result.strata_left_out,
                result.cmh_statistic,
                result.cmh_p_value,
                number(holm),
                result.common_odds_ratio,
                result.odds_ratio_low,
                result.odds_ratio_high,
                number(result.breslow_day_statistic),
                number(result.breslow_day_p_value),
                reading,
            )
        )
    ci = f"{100 * settings.confidence_level:g}%"
    part.tables.append(
        EvidenceTable(
            title=f"{STRATA_PREFIX}{m.strata}, by {columns_label(m.columns)}",
            columns=(
                "group",
                "strata used",
                "strata left out",
                "CMH chi-squared",
                "p (CMH)",
                "p (CMH, Holm-adjusted)",
                "common odds ratio",
                f"odds ratio {ci} low",
                f"odds ratio {ci} high",
                "Breslow-Day chi-squared",
                "p (Breslow-Day)",
                "reading",
            ),
            rows=tuple(rows),
            caption=(
                f"Each group against {m.reference} within each value of {m.strata}. "
                "Cochran-Mantel-Haenszel: are the odds of selection the same for both groups "
                "within every stratum? Common odds ratio (Mantel-Haenszel, Robins-Breslow-"
                "Greenland interval): below 1, the group is selected less often than the "
                "reference within strata. Breslow-Day: does that ratio differ between strata? "
                "Strata without both groups, or where everybody or nobody was selected, carry "
                "no information and are left out."
            ),
        )
    )
    return part
