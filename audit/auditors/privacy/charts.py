"""The privacy auditor's charts: utility lost to DP per group, and utility against epsilon.

Nothing here measures; every number comes from :mod:`audit.auditors.privacy.measure`.
"""

from __future__ import annotations

from audit.auditors.privacy.config import PrivacyConfig
from audit.auditors.privacy.measure import PrivacyMeasurement
from audit.auditors.privacy.utility import lost
from audit.core.measurements import BarChart, Chart, LineChart, LineSeries

__all__ = ["utility_charts"]


def _grouping_label(columns: tuple[str, ...]) -> str:
    return " \u00d7 ".join(columns) if columns else "overall"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def utility_charts(found: PrivacyMeasurement, settings: PrivacyConfig) -> tuple[Chart, ...]:
    """Utility lost per group, and utility against epsilon per grouping (at most three)."""
    headline = found.measures[0]
    drawn: list[Chart] = []
    labels: list[str] = []
    values: list[float] = []
    for columns, before in found.reference.items():
        for ref, dpu in zip(before, found.dp[columns], strict=True):
            value = lost(headline, ref.values[headline.key], dpu.values[headline.key])
            if value is not None:
                labels.append(ref.label)
                values.append(value)
    if labels:
        verb = "added by" if found.regression else "lost to"
        drawn.append(
            BarChart(
                title=f"{_capital(headline.title)} {verb} DP per group "
                f"(\u03b5={settings.target_epsilon:g})",
                labels=tuple(labels),
                values=tuple(values),
                value_label=f"{headline.lost_title} "
                + ("(DP - non-private)" if found.regression else "(non-private - DP)"),
                caption="Longer bars: groups that pay more for the privacy guarantee (the DP "
                "model against the same model trained without DP).",
            )
        )
    positions = tuple(point.label for point in found.sweep)
    for columns in [(), *found.groupings[:3]]:
        lines: dict[str, list[float | None]] = {}
        for index, point in enumerate(found.sweep):
            for u in point.utility.get(columns, []):
                line = lines.setdefault(u.label, [None] * len(positions))
                line[index] = u.values[headline.key]
        series = tuple(
            LineSeries(name=label, values=tuple(points))
            for label, points in lines.items()
            if any(v is not None for v in points)
        )
        if series:
            drawn.append(
                LineChart(
                    title=f"{_capital(headline.title)} against epsilon "
                    f"({_grouping_label(columns)})",
                    x_labels=positions,
                    series=series,
                    x_label="privacy budget",
                    y_label=f"holdout {headline.title}",
                    caption=f"The trade-off curve: holdout {headline.title} of a DP model "
                    "trained to each epsilon, per group"
                    + (
                        "; the last point is the same model trained without privacy."
                        if settings.sweep_non_private
                        else "."
                    ),
                )
            )
    return tuple(drawn)
