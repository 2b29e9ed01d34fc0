"""NYC Local Law 144's rates and impact ratios per category (6 RCNY §§ 5-300, 5-301).

LL144 defines its own comparison, separate from the four-fifths rule's:

* the rate of a category is its *selection rate* for a tool that selects, or its
  *scoring rate* for a tool that scores: the share of the category scoring above the
  median score of the full sample;
* the impact ratio divides each category's rate by the highest rate among all
  categories not excluded; only a category under 2% of the data may be excluded
  (§ 5-301), and the unknown category is counted and left out;
* a category under the auditor's ``min_group_size`` is not excluded: it gets its rate,
  interval and ratio, is flagged as a small sample, and may be the denominator;
* the tables are sex, race/ethnicity and their intersection, whatever other sensitive
  columns are audited.

Everything here returns plain numbers; :mod:`.evidence` presents them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from audit.auditors.fairness.config import FairnessConfig, LL144Config
from audit.core.groups import group_statuses, make_grouping
from audit.core.measurements import GroupStatus
from audit.stats.proportions import proportion_interval
from audit.stats.two_groups import GroupComparison, compare_with_reference

__all__ = [
    "LL144Measurement",
    "LL144Plan",
    "ll144_from_counts",
    "ll144_from_rows",
    "ll144_groupings",
    "plan_ll144",
]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
Form = Literal["selection", "scoring"]


@dataclass(frozen=True)
class LL144Plan:
    """Which rate LL144's tables use and why, or why they cannot be made."""

    form: Form | None
    reason: str
    """Why this form (said in the report), or why none (then ``form`` is ``None``)."""


@dataclass(frozen=True, eq=False)
class LL144Measurement:
    """LL144's figures for one breakdown (sex, race/ethnicity, or their intersection).

    Attributes
    ----------
    columns, labels:
        The breakdown's columns and each category's label.
    form:
        ``"selection"`` or ``"scoring"``.
    sizes, positives:
        Rows per category, and those selected (or scoring above the median).
    rates, low, high:
        Each category's rate and its Wilson interval (NaN for an empty category).
    statuses:
        ``EXCLUDED`` (under the exclusion share, or unknown) or ``OK``; the note of an
        OK category under the minimum group size says it is a small sample.
    small:
        Per category, whether it is under the minimum group size.
    reference:
        Index of the highest-rate category not excluded (``None`` if none).
    versus:
        Per category, its comparison with the reference (``None`` for the reference
        and the excluded).
    median:
        The full sample's median score (scoring form), else ``None``.
    """

    columns: tuple[str, ...]
    labels: tuple[str, ...]
    form: Form
    sizes: IntArray
    positives: IntArray
    rates: FloatArray
    low: FloatArray
    high: FloatArray
    statuses: tuple[tuple[GroupStatus, str | None], ...]
    small: BoolArray
    reference: int | None
    versus: tuple[GroupComparison | None, ...]
    median: float | None

    @property
    def impact_ratios(self) -> tuple[float | None, ...]:
        """Each category's rate over the reference's; ``None`` when not compared."""
        ratios: list[float | None] = []
        defined = self.reference is not None and self.positives[self.reference] > 0
        for g, comparison in enumerate(self.versus):
            if g == self.reference and defined:
                ratios.append(1.0)
            else:
                ratios.append(None if comparison is None else comparison.impact_ratio)
        return tuple(ratios)


def plan_ll144(config: LL144Config, *, regression: bool, has_score: bool) -> LL144Plan:
    """Choose the selection or scoring form, and say why.

    >>> plan_ll144(LL144Config(), regression=True, has_score=False).form
    'scoring'
    """
    if config.rate == "selection":
        if regression:
            return LL144Plan(None, "the policy asks for selection rates, but the model scores")
        return LL144Plan("selection", "selection rates, as the policy asks")
    if config.rate == "scoring":
        if regression or has_score:
            return LL144Plan("scoring", "scoring rates, as the policy asks")
        return LL144Plan(None, "the policy asks for scoring rates, but the model gives no score")
    if regression:
        return LL144Plan(
            "scoring",
            "scoring rates: the model outputs a score (a regression), so LL144's scoring "
            "rate applies (detected from the model's output)",
        )
    return LL144Plan(
        "selection",
        "selection rates: the model outputs decisions, so LL144's selection rate applies "
        "(detected from the model's output)",
    )


def ll144_groupings(config: LL144Config, sensitive: Sequence[str]) -> list[tuple[str, ...]]:
    """The breakdowns: sex, race/ethnicity and sex x race/ethnicity when both are named.

    Without both designations, each sensitive column alone and, with two or more, all
    of them combined.

    >>> ll144_groupings(LL144Config(sex="gender", race="race"), ["age", "race", "gender"])
    [('gender',), ('race',), ('gender', 'race')]
    """
    if config.sex and config.race:
        return [(config.sex,), (config.race,), (config.sex, config.race)]
    named = [c for c in (config.sex, config.race) if c]
    columns = list(dict.fromkeys([*named, *sensitive]))
    planned: list[tuple[str, ...]] = [(column,) for column in columns]
    if len(columns) >= 2:
        planned.append(tuple(columns))
    return planned


def _statuses(
    unknown: BoolArray, sizes: IntArray, config: LL144Config, min_group_size: int
) -> tuple[tuple[tuple[GroupStatus, str | None], ...], BoolArray]:
    class _Groups:
        def __init__(self) -> None:
            self.unknown = unknown

        def counts(self) -> IntArray:
            return sizes

    raw = group_statuses(
        _Groups(),
        min_group_size=min_group_size,
        exclude_below_share=config.exclude_below_share,
        exclude_unknown=True,
    )
    statuses: list[tuple[GroupStatus, str | None]] = []
    small = np.zeros(len(sizes), dtype=bool)
    for g, (status, note) in enumerate(raw):
        if status is GroupStatus.SMALL:
            small[g] = True
            note = (
                f"small sample: {int(sizes[g])} rows, under {min_group_size}; compared, "
                "read with its interval"
            )
            status = GroupStatus.OK
        elif status is GroupStatus.EXCLUDED and note and note.startswith("under "):
            note = f"{note}: excluded by the LL144 rule (6 RCNY § 5-301)"
        statuses.append((status, note))
    return tuple(statuses), small


def ll144_from_counts(
    columns: tuple[str, ...],
    labels: tuple[str, ...],
    unknown: BoolArray,
    sizes: IntArray,
    positives: IntArray,
    *,
    form: Form,
    config: LL144Config,
    settings: FairnessConfig,
    median: float | None = None,
) -> LL144Measurement:
    """LL144's figures from each category's size and positives (selected or above median)."""
    sizes = np.asarray(sizes, dtype=np.int64)
    positives = np.asarray(positives, dtype=np.int64)
    rates = np.full(len(sizes), np.nan)
    np.divide(positives, sizes, out=rates, where=sizes > 0)
    low, high = proportion_interval(positives, sizes, confidence_level=settings.confidence_level)
    statuses, small = _statuses(unknown, sizes, config, settings.min_group_size)
    included = np.array(
        [s is GroupStatus.OK and n > 0 for (s, _), n in zip(statuses, sizes, strict=True)]
    )
    reference: int | None = None
    versus: list[GroupComparison | None] = [None] * len(sizes)
    if included.any():
        candidates = np.flatnonzero(included)
        reference = int(candidates[np.argmax(rates[candidates])])
        if positives[reference] > 0:
            for g in candidates.tolist():
                if g != reference:
                    versus[g] = compare_with_reference(
                        int(positives[g]),
                        int(sizes[g]),
                        int(positives[reference]),
                        int(sizes[reference]),
                        confidence_level=settings.confidence_level,
                    )
    return LL144Measurement(
        columns=columns,
        labels=labels,
        form=form,
        sizes=sizes,
        positives=positives,
        rates=rates,
        low=low,
        high=high,
        statuses=statuses,
        small=small,
        reference=reference,
        versus=tuple(versus),
        median=median,
    )


def ll144_from_rows(
    data: pd.DataFrame,
    groupings: Sequence[tuple[str, ...]],
    outcome: npt.NDArray[np.float64] | npt.NDArray[np.integer],
    *,
    form: Form,
    config: LL144Config,
    settings: FairnessConfig,
) -> list[LL144Measurement]:
    """LL144's figures per breakdown from the rows: decisions, or scores and their median.

    In the scoring form a row counts when its score is strictly above the median of all
    rows' scores ("scoring above the median score for the full sample").
    """
    values = np.asarray(outcome, dtype=np.float64)
    median = float(np.median(values)) if form == "scoring" else None
    positive = values > median if median is not None else values == 1
    measured = []
    for columns in groupings:
        grouping = make_grouping(data, list(columns))
        sizes = grouping.counts()
        positives = np.bincount(
            grouping.codes, weights=positive.astype(np.float64), minlength=grouping.n_groups
        ).astype(np.int64)
        measured.append(
            ll144_from_counts(
                grouping.columns,
                grouping.labels,
                grouping.unknown,
                sizes,
                positives,
                form=form,
                config=config,
                settings=settings,
                median=median,
            )
        )
    return measured
