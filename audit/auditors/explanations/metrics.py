"""The explanations auditor's metric results, judged from a :class:`~.measure.Measurement`.

A group is compared only when it has enough explained rows; a value that cannot be
defined (no attribution, no rows) carries its reason instead of a number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from audit.auditors.explanations.measure import GroupingNumbers, GroupNumbers, Measurement
from audit.core.measurements import GroupStatus, GroupValue, MetricResult
from audit.core.protocols import MetricRange

__all__ = [
    "AUDITOR",
    "METRICS",
    "METRIC_RANGES",
    "NO_ATTRIBUTION",
    "POPULATION_METRICS",
    "metric_results",
    "unmeasured_results",
]

AUDITOR = "explanations"

METRICS: Mapping[str, str] = {
    "sensitive_attribution_share": (
        "Share of the total mean |attribution| that falls on the grouping's sensitive columns "
        "(0 when the model does not read them); per group, within the group's rows."
    ),
    "proxy_attribution_share": (
        "Share of the total mean |attribution| that falls on proxies of the grouping's "
        "sensitive columns (columns whose probe AUC reaches the proxy threshold)."
    ),
    "top_k_agreement_across_groups": (
        "Per group, the share of the whole population's top-k columns that are also the "
        "group's top-k; the whole-population value is the lowest group's."
    ),
    "attribution_stability": (
        "Lowest Spearman rank correlation of global column importance between the primary "
        "run and every other run (other seeds, the comparison method)."
    ),
    "share_of_adverse_decisions_with_reasons": (
        "Share of the adverse decisions given their own reasons for which at least one "
        "column lowered the applicant's output below the average of the reference "
        "applicants (Regulation B comment 9(b)(2)-5)."
    ),
}

POPULATION_METRICS = frozenset({"attribution_stability", "share_of_adverse_decisions_with_reasons"})
METRIC_RANGES: Mapping[str, MetricRange] = {
    **{name: (0.0, 1.0) for name in METRICS},
    "attribution_stability": (-1.0, 1.0),  # a rank correlation
}
"""The values each metric can take (shares, and a Spearman correlation)."""
_POPULATION = "attribution_stability"

NO_ATTRIBUTION = (
    "no attribution at all: the model's output did not change with any column on the explained rows"
)


def _status(rows: int, min_rows: int) -> tuple[GroupStatus, str | None]:
    if rows < min_rows:
        return GroupStatus.SMALL, f"{rows} explained rows, under the minimum of {min_rows}"
    return GroupStatus.OK, None


def _share_metric(
    metric: str,
    grouping: GroupingNumbers,
    overall: float | None,
    own: Sequence[float | None],
    note: str | None,
    min_rows: int,
) -> MetricResult:
    groups = []
    for group, value in zip(grouping.groups, own, strict=True):
        status, why = _status(group.rows, min_rows)
        if value is None and status is GroupStatus.OK:
            status, why = GroupStatus.UNDEFINED, "no attribution at all in this group"
        groups.append(GroupValue(group.label, group.rows, value, status=status, note=why))
    return MetricResult(
        metric=metric,
        auditor=AUDITOR,
        grouping=grouping.columns,
        value=overall,
        groups=tuple(groups),
        description=METRICS[metric] + (f" {note}" if note else ""),
        reason=None if overall is not None else NO_ATTRIBUTION,
    )


def _agreement_metric(
    grouping: GroupingNumbers, overall_top: Sequence[str], k: int, min_rows: int
) -> MetricResult:
    groups = []
    for group in grouping.groups:
        status, why = _status(group.rows, min_rows)
        if group.rows == 0:
            status, why = GroupStatus.UNDEFINED, "no explained rows in this group"
        elif not group.top:
            status, why = GroupStatus.UNDEFINED, "no attribution at all in this group"
        elif group.overlap is None:
            status, why = GroupStatus.UNDEFINED, "the population has no attribution at all"
        groups.append(GroupValue(group.label, group.rows, group.overlap, status=status, note=why))
    compared = [g.value for g in groups if g.status is GroupStatus.OK and g.value is not None]
    return MetricResult(
        metric="top_k_agreement_across_groups",
        auditor=AUDITOR,
        grouping=grouping.columns,
        value=min(compared) if compared else None,
        groups=tuple(groups),
        description=METRICS["top_k_agreement_across_groups"]
        + f" k = {k}; overall top-k: {', '.join(overall_top)}.",
        reason=None if compared else _no_agreement(overall_top),
    )


def _no_agreement(overall_top: Sequence[str]) -> str:
    if not overall_top:
        return NO_ATTRIBUTION + ", so there are no leading columns to compare"
    return "no group has enough explained rows to compare"


def _stability_metric(measured: Measurement) -> MetricResult:
    reason = None
    if len(measured.runs) < 2:
        reason = "a single run: set repeats of 2 or more, or a comparison method"
    elif not measured.overall_top:
        reason = NO_ATTRIBUTION
    elif measured.stability is None:
        reason = "the importance of every column is equal, so ranks cannot be compared"
    return MetricResult(
        metric=_POPULATION,
        auditor=AUDITOR,
        grouping=(),
        value=measured.stability,
        description=METRICS[_POPULATION],
        reason=reason,
    )


def _reasons_metric(measured: Measurement) -> MetricResult:
    name = "share_of_adverse_decisions_with_reasons"
    found = measured.applicants
    if found is None:
        return MetricResult(
            metric=name,
            auditor=AUDITOR,
            grouping=(),
            value=None,
            description=METRICS[name],
            reason=measured.applicants_problem,
        )
    sampled = len(found.rows) < found.adverse_total
    scope = (
        f" Over a uniform random sample of {len(found.rows)} of the {found.adverse_total} "
        "adverse decisions."
        if sampled
        else f" Over all {found.adverse_total} adverse decisions."
    )
    return MetricResult(
        metric=name,
        auditor=AUDITOR,
        grouping=(),
        value=float(found.established.mean()),
        description=METRICS[name] + scope,
    )


def _shares(groups: Sequence[GroupNumbers], proxy: bool) -> list[float | None]:
    return [g.proxy_share if proxy else g.sensitive_share for g in groups]


def metric_results(measured: Measurement, *, min_group_rows: int) -> list[MetricResult]:
    """Every metric, per grouping, then the stability of the whole population."""
    out: list[MetricResult] = []
    for grouping in measured.groupings:
        if grouping.problem is not None:
            out.extend(_unmeasured_grouping(grouping.columns, grouping.problem))
            continue
        note = None if grouping.inputs else "The model does not read these sensitive columns."
        out.append(
            _share_metric(
                "sensitive_attribution_share",
                grouping,
                grouping.sensitive_share,
                _shares(grouping.groups, proxy=False),
                note,
                min_group_rows,
            )
        )
        found = (
            f"Proxies: {', '.join(sorted(grouping.proxies))}."
            if grouping.proxies
            else "No proxy was found."
        )
        out.append(
            _share_metric(
                "proxy_attribution_share",
                grouping,
                grouping.proxy_share,
                _shares(grouping.groups, proxy=True),
                found,
                min_group_rows,
            )
        )
        out.append(
            _agreement_metric(grouping, measured.overall_top, measured.top_k, min_group_rows)
        )
    out.append(_stability_metric(measured))
    out.append(_reasons_metric(measured))
    return out


def _unmeasured_grouping(grouping: tuple[str, ...], problem: str) -> list[MetricResult]:
    """Every per-grouping metric of ``grouping``, without a value and with ``problem``."""
    return [
        MetricResult(
            metric=name,
            auditor=AUDITOR,
            grouping=grouping,
            value=None,
            description=METRICS[name],
            reason=problem,
        )
        for name in METRICS
        if name not in POPULATION_METRICS
    ]


def unmeasured_results(
    planned: Sequence[tuple[str, ...]], problem: str
) -> tuple[MetricResult, ...]:
    """Every metric, for every planned grouping, without a value and with ``problem``."""
    metrics = [m for grouping in planned for m in _unmeasured_grouping(grouping, problem)]
    metrics.extend(
        MetricResult(
            metric=name,
            auditor=AUDITOR,
            grouping=(),
            value=None,
            description=METRICS[name],
            reason=problem,
        )
        for name in METRICS
        if name in POPULATION_METRICS
    )
    return tuple(metrics)
