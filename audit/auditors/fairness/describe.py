"""What the fairness auditor's metrics mean, how it measures them, and their limits (words only)."""

from __future__ import annotations

from collections.abc import Mapping

from audit.auditors.fairness.config import FairnessConfig
from audit.auditors.fairness.counts import RATES
from audit.core.context import Task
from audit.core.protocols import MetricRange
from audit.stats.bootstrap import MAX_UNDEFINED_SHARE
from audit.stats.proportions import INTERVAL_METHODS

__all__ = [
    "DISPARITIES",
    "LIMITATIONS",
    "REGRESSION_METRICS",
    "descriptions",
    "method_text",
    "metric_ranges",
]

DISPARITIES: Mapping[str, str] = {
    "demographic_parity_difference": (
        "Largest minus smallest selection rate among the comparable groups "
        "(fairlearn's demographic_parity_difference)."
    ),
    "demographic_parity_ratio": (
        "Smallest over largest selection rate among the comparable groups "
        "(fairlearn's demographic_parity_ratio; the four-fifths rule's impact ratio)."
    ),
    "equalized_odds_difference": (
        "The larger of the true positive rate and false positive rate differences between "
        "comparable groups (fairlearn's equalized_odds_difference)."
    ),
    "equalized_odds_ratio": (
        "The smaller of the true positive rate and false positive rate min/max ratios between "
        "comparable groups (fairlearn's equalized_odds_ratio)."
    ),
}
"""Scalar metrics comparing the groups of one grouping (binary tasks)."""

REGRESSION_METRICS: Mapping[str, str] = {
    "mean_absolute_error": (
        "Mean absolute difference between prediction and ground truth, in the target's units."
    ),
    "root_mean_squared_error": (
        "Square root of the mean squared prediction error, in the target's units."
    ),
}
"""Per-group metrics of regression tasks."""

LIMITATIONS = (
    "Group metrics are observational: they show how decisions differ between groups in "
    "this data, not why, and say nothing about causes or intent.",
    "Estimates for small groups are uncertain; read them with their confidence intervals. "
    "Groups under the minimum size are reported but never compared.",
    "Intersectional groups multiply: with several sensitive columns many combinations are "
    "small, and combinations absent from the data are not reported at all.",
    "Fairness criteria conflict: when base rates differ between groups, equal selection "
    "rates (demographic parity), equal error rates (equalized odds) and calibration cannot "
    "all hold at once; which one matters is a policy decision.",
    "The metrics describe the model's decisions on this data only; another population, "
    "threshold or time period can give different results.",
    "Confidence intervals and p-values cover sampling variation of the rows in hand, not "
    "errors in the ground truth or in the recorded sensitive attributes; a p-value says how "
    "surprising a difference would be by chance, not how large or important it is.",
)


LL144_METRICS: Mapping[str, str] = {
    "ll144_rate": (
        "NYC LL144's rate of each category (6 RCNY § 5-300): its selection rate, or for a "
        "tool that scores its scoring rate (the share scoring above the full sample's "
        "median); categories under the LL144 exclusion share and the unknown category are "
        "left out of comparisons, small categories are compared and flagged. Measured when "
        "the policy sets auditors.fairness.ll144."
    ),
}
"""Metrics of NYC Local Law 144's own comparison."""


def descriptions() -> dict[str, str]:
    """Name and one-line description of every metric the fairness auditor measures."""
    return {
        **{rate.name: rate.description for rate in RATES},
        **DISPARITIES,
        **REGRESSION_METRICS,
        **LL144_METRICS,
    }


def metric_ranges() -> dict[str, MetricRange]:
    """The values each metric can take: shares, their differences and ratios lie in [0, 1]."""
    ranges: dict[str, MetricRange] = {name: (0.0, 1.0) for name in descriptions()}
    ranges.update({name: (0.0, None) for name in REGRESSION_METRICS})  # the target's units
    return ranges


def method_text(settings: FairnessConfig, task: Task, seed: int) -> str:
    """The report's account of how the fairness auditor measured, for these settings."""
    if task is Task.REGRESSION:
        metrics = "mean absolute error and root mean squared error"
        resampling = "rows are drawn with replacement within each group"
    else:
        metrics = (
            "selection rate, accuracy, true and false positive rates, false negative rate "
            "and precision, computed from each group's confusion counts (one vectorised pass "
            "over all rows)"
        )
        resampling = (
            "each group's confusion counts are redrawn from a multinomial distribution over "
            "its own cell proportions, which is the same as redrawing the group's rows with "
            "replacement"
        )
    parts = [
        "Groups are the values of each sensitive column, and "
        + (
            "the combinations of all sensitive columns (intersectional groups)"
            if settings.intersectional
            else "not their combinations"
        )
        + "; a missing value (empty, NaN or None) forms the group 'unknown'"
        + (", which is reported but not compared." if settings.unknown_group == "exclude" else ".")
        + f" Groups with fewer than {settings.min_group_size} rows are reported as small and "
        "never compared"
        + (
            f"; groups holding under {100 * settings.exclude_below_share:g}% of the rows are "
            "excluded from comparisons."
            if settings.exclude_below_share > 0
            else "."
        ),
        f"Per group the auditor measures {metrics}. The whole-population value is the same "
        "metric over all rows.",
    ]
    if task is Task.BINARY:
        parts.append(
            "Disparities follow Fairlearn's definitions over the comparable groups only: "
            "demographic parity difference and ratio are the largest minus the smallest, and "
            "the smallest over the largest, selection rate; equalized odds difference is the "
            "larger of the true and false positive rate differences, and its ratio the smaller "
            "of their min/max ratios. A rate whose denominator is 0 in a group is undefined "
            "there and that group is left out of its comparison. The test suite checks these "
            "numbers against fairlearn's MetricFrame and disparity functions."
        )
    else:
        parts.append(
            "The per-group errors equal those of fairlearn's MetricFrame with scikit-learn's "
            "error functions, which the test suite checks."
        )
    if task is Task.BINARY:
        parts.append(
            "Each group's selections are tested against the reference group (the highest "
            "selection rate among the compared groups), each statistic computed as scipy "
            "and statsmodels compute it (the test suite holds them to those libraries): "
            "the pooled two-proportion z test, two-sided; Fisher's exact test, "
            "one-sided (the group is selected less often), with Lancaster's mid-p; the "
            "shortfall (the selections the group would have had at the reference rate, minus "
            "those it had); and a confidence interval of the impact ratio by Katz's log "
            "method (0.5 added to each cell for the upper end when the group has no "
            "selections). Testing several groups against one reference makes several "
            "comparisons; Holm's adjustment of the Fisher p-values keeps the chance of any "
            f"false alarm at most the stated level (p < {settings.significance_level:g} reads "
            "as larger than chance would explain)."
        )
    if task is Task.BINARY and settings.rate_interval != "bootstrap":
        method = INTERVAL_METHODS[settings.rate_interval]
        parts.append(
            f"Confidence intervals of the rates are {100 * settings.confidence_level:g}% "
            f"{method}s (statsmodels' proportion_confint) of each rate's numerator over its "
            "denominator; unlike bootstrap percentile intervals they do not collapse to a "
            "point at a rate of 0 or 1."
        )
    elif settings.bootstrap:
        parts.append(
            f"Confidence intervals are {100 * settings.confidence_level:g}% percentile intervals "
            f"from {settings.bootstrap} stratified bootstrap resamples (seed {seed}): "
            f"{resampling}. Resamples in which a metric is undefined are dropped; when more "
            f"than {MAX_UNDEFINED_SHARE:.0%} are, no interval is given."
        )
    else:
        parts.append("No confidence intervals were computed (bootstrap = 0).")
    return " ".join(parts)
