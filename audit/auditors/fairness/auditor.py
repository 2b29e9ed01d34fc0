"""The fairness auditor: per-group metrics, disparities between groups, and their uncertainty.

The class is thin: :mod:`.measure` computes the numbers, :mod:`.evidence` presents them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from pydantic import BaseModel

from audit.auditors._settings import settings_as
from audit.auditors.fairness._present import AUDITOR, Part
from audit.auditors.fairness.config import FairnessConfig, LL144Config
from audit.auditors.fairness.counts import FP, TP
from audit.auditors.fairness.describe import descriptions, metric_ranges
from audit.auditors.fairness.evidence import output, unmeasured, values_part
from audit.auditors.fairness.evidence_ll144 import ll144_part, ll144_unmeasured
from audit.auditors.fairness.evidence_tests import strata_part
from audit.auditors.fairness.inputs import input_problem
from audit.auditors.fairness.ll144 import (
    LL144Plan,
    ll144_from_counts,
    ll144_from_rows,
    ll144_groupings,
    plan_ll144,
)
from audit.auditors.fairness.measure import (
    BinaryMeasurement,
    RegressionMeasurement,
    measure_binary,
    measure_each,
    measure_regression,
)
from audit.auditors.fairness.strata import measure_strata
from audit.auditors.fairness.tally import FairnessTally, GroupedCounts, tally_outcomes
from audit.core.context import ColumnRoles, ProgressFactory, Task, no_progress
from audit.core.groups import Grouping, groupings_for
from audit.core.measurements import AuditorOutput
from audit.core.protocols import MetricRange
from audit.errors import DataError

if TYPE_CHECKING:
    from audit.core.context import AuditContext

__all__ = ["FairnessAuditor"]

ERR_STRATA_MISSING = "strata column {strata!r} is not in the data; no stratified tests"
ERR_ONE_STRATUM = (
    "strata column {strata!r} holds a single value, so a comparison within strata would be "
    "the pooled comparison; no stratified tests"
)
ERR_STRATA_REGRESSION = (
    "stratified tests (strata column {strata!r}) compare selection rates, and a regression "
    "model makes no selections; no stratified tests"
)
ERR_LL144_CHUNKS = (
    "LL144's scoring rate needs the median of every score, so it cannot be counted chunk "
    "by chunk; use the in-memory engine (--engine pandas)"
)
ERR_REGRESSION_CHUNKS = (
    "fairness of a regression model needs every row's error in memory, so it cannot be "
    "counted chunk by chunk; use the in-memory engine (--engine pandas)"
)


class FairnessAuditor:
    """Group fairness of a model's decisions, measured with Fairlearn's definitions.

    For every sensitive column, and for the intersection of all of them, the
    auditor reports per-group selection, accuracy and error rates (binary tasks)
    or mean absolute and root mean squared errors (regression), each with a
    stratified bootstrap confidence interval; and, for binary tasks, the
    demographic parity and equalized odds differences and ratios over the groups
    that may be compared.

    Examples
    --------
    >>> auditor = FairnessAuditor()
    >>> auditor.name, "demographic_parity_ratio" in auditor.metrics()
    ('fairness', True)
    """

    name: ClassVar[str] = AUDITOR
    Config: ClassVar[type[BaseModel]] = FairnessConfig
    metric_ranges: ClassVar[Mapping[str, MetricRange]] = metric_ranges()

    def metrics(self) -> Mapping[str, str]:
        """Name and one-line description of every metric this auditor measures."""
        return descriptions()

    def run(self, context: AuditContext, config: BaseModel) -> AuditorOutput:
        """Measure the fairness of ``context``'s outcomes across its sensitive groups.

        Parameters
        ----------
        context:
            Data, column roles and outcomes; the model itself is not called.
        config:
            A :class:`FairnessConfig` (or a model with the same fields).

        Returns
        -------
        AuditorOutput
            Metric results per grouping, evidence tables, method and limitations.
            Bad data never raises: unmeasurable values carry a reason.
        """
        settings = settings_as(config, FairnessConfig)
        if context.outcomes.task is Task.REGRESSION:
            problem = input_problem(context)
            if problem is not None:
                return unmeasured(context.roles, Task.REGRESSION, settings, problem, context.seed)
            return _regression_output(context, settings)
        return _finish(
            self.tally(context, settings),
            settings,
            roles=context.roles,
            seed=context.seed,
            progress=context.progress,
            context=context,
        )

    def tally(self, context: AuditContext, config: BaseModel) -> FairnessTally:
        """Count the confusion cells of each group in ``context``'s rows (binary tasks).

        Tallies of separate chunks of one table merge (:meth:`FairnessTally.merge`),
        and :meth:`finish` turns the merged tally into the same output as :meth:`run`
        on the whole table.
        """
        settings = settings_as(config, FairnessConfig)
        if context.outcomes.task is Task.REGRESSION:
            raise DataError(ERR_REGRESSION_CHUNKS)
        problem = input_problem(context)
        if problem is not None:
            return FairnessTally(groupings=[], rows=len(context.data), problem=problem)
        return tally_outcomes(
            context.data,
            context.roles.sensitive,
            context.outcomes.y_true,
            context.outcomes.y_pred,
            intersectional=settings.intersectional,
            extra=settings.groupings,
            strata=settings.strata if settings.strata in context.data.columns else None,
        )

    def chunk_columns(self, config: BaseModel) -> list[str]:
        """The columns :meth:`tally` reads beyond the sensitive ones: the strata column, if set.

        The chunked engines read these too in every chunk, where the table has them.
        """
        strata = settings_as(config, FairnessConfig).strata
        return [] if strata is None else [strata]

    def finish(
        self,
        tally: FairnessTally,
        config: BaseModel,
        *,
        roles: ColumnRoles,
        seed: int,
        progress: ProgressFactory = no_progress,
    ) -> AuditorOutput:
        """Turn a (merged) tally into per-group rates, disparities and their intervals.

        Parameters
        ----------
        tally:
            Confusion counts of every group, from :meth:`tally` over one or more chunks.
        config:
            A :class:`FairnessConfig` (or a model with the same fields).
        roles:
            The columns' roles (the sensitive columns name the groupings).
        seed:
            Seed of the bootstrap resamples.
        progress:
            Factory of progress bars.
        """
        settings = settings_as(config, FairnessConfig)
        return _finish(tally, settings, roles=roles, seed=seed, progress=progress, context=None)


def _finish(
    tally: FairnessTally,
    settings: FairnessConfig,
    *,
    roles: ColumnRoles,
    seed: int,
    progress: ProgressFactory,
    context: AuditContext | None,
) -> AuditorOutput:
    """Binary output from a tally; LL144's figures from the rows when ``context`` has them."""
    if tally.problem is not None:
        return unmeasured(roles, Task.BINARY, settings, tally.problem, seed)

    def measure(groups: GroupedCounts, rng: np.random.Generator) -> BinaryMeasurement:
        return measure_binary(groups, settings, rng)

    grouped = tally.grouped_counts()
    measured = measure_each(grouped, measure, seed=seed, progress=progress)
    extra: list[Part] = [values_part(tally.column_values())]
    if settings.strata is not None:
        extra += _strata_parts(tally, measured, settings, settings.strata)
    if settings.ll144 is not None:
        has_score = context is not None and context.outcomes.y_score is not None
        plan = plan_ll144(settings.ll144, regression=False, has_score=has_score)
        if context is not None:
            extra += _ll144_from_context(context, settings, settings.ll144, plan)
        else:
            extra += _ll144_from_tally(grouped, roles, settings, settings.ll144, plan)
    return output(measured, tally.rows, settings, Task.BINARY, seed, extra=extra)


def _strata_parts(
    tally: FairnessTally,
    measured: list[BinaryMeasurement],
    settings: FairnessConfig,
    strata: str,
) -> list[Part]:
    """Each grouping's stratified comparisons, from the tally's counts per stratum."""
    warning = Part()
    if tally.strata != strata:
        warning.warnings.append(ERR_STRATA_MISSING.format(strata=strata))
        return [warning]
    counted = tally.strata_counts()  # one per grouping, as measured
    if counted and len(counted[0].strata) < 2:
        warning.warnings.append(ERR_ONE_STRATUM.format(strata=strata))
        return [warning]
    parts = []
    for m, counts in zip(measured, counted, strict=True):
        found = measure_strata(counts, m, strata, confidence_level=settings.confidence_level)
        if found is not None and found.labels:
            parts.append(strata_part(found, settings))
    return parts


def _ll144_from_context(
    context: AuditContext, settings: FairnessConfig, config: LL144Config, plan: LL144Plan
) -> list[Part]:
    groupings = ll144_groupings(config, context.roles.sensitive)
    if plan.form is None:
        return [ll144_unmeasured(groupings, plan.reason)]
    missing = sorted({c for g in groupings for c in g if c not in context.data.columns})
    if missing:
        named = ", ".join(repr(c) for c in missing)
        return [ll144_unmeasured(groupings, f"LL144 column(s) {named} not in the data")]
    outcomes = context.outcomes
    if plan.form == "scoring":
        scores = outcomes.y_pred if outcomes.task is Task.REGRESSION else outcomes.y_score
        outcome = np.asarray(scores, dtype=np.float64)
        if outcome.shape != (len(context.data),) or not np.isfinite(outcome).all():
            return [ll144_unmeasured(groupings, "the model's scores are missing or not finite")]
    else:
        outcome = np.asarray(outcomes.y_pred)
    measured = ll144_from_rows(
        context.data, groupings, outcome, form=plan.form, config=config, settings=settings
    )
    return [ll144_part(m, plan.reason, settings) for m in measured]


def _ll144_from_tally(
    grouped: list[GroupedCounts],
    roles: ColumnRoles,
    settings: FairnessConfig,
    config: LL144Config,
    plan: LL144Plan,
) -> list[Part]:
    """LL144's selection form from chunk counts (the scoring form needs every score)."""
    groupings = ll144_groupings(config, roles.sensitive)
    if plan.form != "selection":
        reason = plan.reason if plan.form is None else ERR_LL144_CHUNKS
        return [ll144_unmeasured(groupings, reason)]
    by_columns = {tuple(sorted(g.columns)): g for g in grouped}
    parts = []
    for columns in groupings:
        counts = by_columns.get(tuple(sorted(columns)))
        if counts is None:
            reason = f"the chunked engines counted no {' × '.join(columns)} breakdown"
            parts.append(ll144_unmeasured([columns], reason))
            continue
        measured = ll144_from_counts(
            counts.columns,
            counts.labels,
            counts.unknown,
            counts.counts(),
            counts.cells[:, FP] + counts.cells[:, TP],
            form="selection",
            config=config,
            settings=settings,
        )
        parts.append(ll144_part(measured, plan.reason, settings))
    return parts


def _regression_output(context: AuditContext, settings: FairnessConfig) -> AuditorOutput:
    """Per-group errors of a regression model (rows are needed: no tally)."""
    groupings = groupings_for(
        context.data,
        context.roles.sensitive,
        intersectional=settings.intersectional,
        extra=settings.groupings,
    )
    y_true = np.asarray(context.outcomes.y_true, dtype=np.float64)
    y_pred = np.asarray(context.outcomes.y_pred, dtype=np.float64)

    def measure(grouping: Grouping, rng: np.random.Generator) -> RegressionMeasurement:
        return measure_regression(grouping, y_true, y_pred, settings, rng)

    measured = measure_each(groupings, measure, seed=context.seed, progress=context.progress)
    sensitive = context.roles.sensitive
    extra = [values_part({c: context.data[c].dropna().unique().tolist() for c in sensitive})]
    if settings.strata is not None:
        warning = Part()
        warning.warnings.append(ERR_STRATA_REGRESSION.format(strata=settings.strata))
        extra.append(warning)
    if settings.ll144 is not None:
        plan = plan_ll144(settings.ll144, regression=True, has_score=True)
        extra += _ll144_from_context(context, settings, settings.ll144, plan)
    return output(measured, len(context.data), settings, Task.REGRESSION, context.seed, extra=extra)
