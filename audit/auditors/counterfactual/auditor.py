"""The counterfactual (paired) fairness auditor: the correspondence-test design of audit studies.

For each sampled base row, the model is asked once per assigned group, with only the group
cue changed (the sensitive column itself, and any cue columns such as a first name), and
the decisions are compared pair by pair.  The model may be anything an adapter serves: an
LLM whose prompt template shows the cue, or a tabular model that reads the sensitive column
(the degenerate case).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
from pydantic import BaseModel

from audit.auditors._settings import settings_as
from audit.auditors.counterfactual.config import CounterfactualConfig
from audit.auditors.counterfactual.design import (
    NAME_LISTS,
    PairedDesign,
    build_design,
    name_cues,
    resolve_groups,
)
from audit.auditors.counterfactual.evidence import (
    AUDITOR,
    METRIC_RANGES,
    METRICS,
    evidence_tables,
    metric_results,
)
from audit.auditors.counterfactual.measure import measure_counterfactuals
from audit.core.context import AuditContext, Task
from audit.core.measurements import AuditorOutput, MetricResult
from audit.core.outcomes import resolve_outcomes
from audit.core.protocols import MetricRange
from audit.errors import DataError
from audit.scoring import score_batches

__all__ = ["CounterfactualAuditor"]

METHOD = (
    "Paired (counterfactual) test, as in correspondence audit studies: {n} base rows sampled "
    "from the data (seed {seed}) were each scored once per assigned {attribute} group "
    "({groups}; the first is the reference), changing only {cues}. A decision that differs "
    "between the copies of one base row was caused by the cue. Selection rates carry Wilson "
    "intervals; the paired decisions are compared with {test}; score differences with a "
    "paired t interval. {calls}."
)
LIMITATIONS = (
    "The test shows how the model treats the same applicant with a different group cue; it "
    "does not measure disparities that come through other columns (proxies), which the "
    "fairness and explanations auditors measure.",
    "A cue stands for a group only as far as the model reads it so: first names signal race "
    "and sex imperfectly, and the names used are those of the cited study.",
    "Each base row contributes one paired observation per group; with a model that answers "
    "at random (an LLM at a temperature above 0), a flip can be noise: repeat samples per row "
    "in the model config and read the consistency it reports.",
)


class CounterfactualAuditor:
    """Paired decisions under assigned group cues: flip rate, paired tests, rates per group."""

    name: ClassVar[str] = AUDITOR
    Config: ClassVar[type[BaseModel]] = CounterfactualConfig
    population_metrics: ClassVar[frozenset[str]] = frozenset({"flip_rate", "paired_test_p_value"})
    metric_ranges: ClassVar[dict[str, MetricRange]] = METRIC_RANGES

    def metrics(self) -> dict[str, str]:
        """The metrics this auditor measures."""
        return dict(METRICS)

    def run(self, context: AuditContext, config: BaseModel) -> AuditorOutput:
        """Score every base row under every assigned group and compare the decisions."""
        settings = settings_as(config, CounterfactualConfig)
        try:
            design = self._design(context, settings)
            return self._measure(context, settings, design)
        except DataError as exc:
            sensitive = context.roles.sensitive if context.has_outcomes else ()
            return self._inconclusive(settings, sensitive, str(exc))

    def _design(self, context: AuditContext, settings: CounterfactualConfig) -> PairedDesign:
        roles = context.roles
        attribute = settings.attribute or (roles.sensitive[0] if roles.sensitive else None)
        if attribute is None:
            raise DataError(
                "no attribute to assign: name auditors.counterfactual.attribute or --sensitive"
            )
        data = context.data
        if attribute not in data.columns and settings.set_attribute:
            raise DataError(
                f"column {attribute!r} is not in the data; columns: "
                + ", ".join(map(str, data.columns[:20]))
            )
        cues = {column: dict(values) for column, values in settings.cues.items()}
        wanted = settings.groups
        if settings.name_list is not None:
            if settings.name_list not in NAME_LISTS:
                raise DataError(
                    f"unknown name_list {settings.name_list!r}; shipped: {', '.join(NAME_LISTS)}"
                )
            names = name_cues(settings.name_list)
            wanted = wanted or tuple(names)
            cues[settings.name_column] = names
        values = data[attribute] if attribute in data.columns else pd.Series(dtype=object)
        groups = resolve_groups(
            values.rename(attribute), wanted, observed_only=settings.set_attribute
        )
        if len(groups) < 2:
            raise DataError(f"fewer than two groups of {attribute!r} to assign")
        labels = [label for label, _ in groups]
        for column, per_group in cues.items():
            lacking = [g for g in labels if g not in per_group]
            if lacking:
                raise DataError(f"cues.{column} gives no value for group(s) {', '.join(lacking)}")
        if not settings.set_attribute and not cues:
            raise DataError("set_attribute is false and no cues are named: nothing would change")
        return build_design(
            data,
            attribute=attribute,
            groups=groups,
            cues=cues,
            set_attribute=settings.set_attribute,
            n_rows=settings.n_rows,
            seed=context.seed,
        )

    def _measure(
        self, context: AuditContext, settings: CounterfactualConfig, design: PairedDesign
    ) -> AuditorOutput:
        roles = context.roles
        if roles.task is Task.REGRESSION:
            raise DataError("the counterfactual auditor compares decisions; the target is numeric")
        frame = design.frame
        predictions, scoring = score_batches(
            context.model,
            frame,
            roles,
            progress=context.progress,
            cache=context.prediction_cache,
        )
        n, k = len(design.base_rows), len(design.groups)
        outcomes, _ = resolve_outcomes(
            frame[roles.target],
            predictions,
            task=roles.task,
            positive_label=roles.positive_label,
            threshold=roles.threshold,
            target_labels=context.data[roles.target].unique().tolist(),
        )
        decisions = np.asarray(outcomes.y_pred).reshape(k, n).T
        scores = None if outcomes.y_score is None else np.asarray(outcomes.y_score).reshape(k, n).T
        measured = measure_counterfactuals(
            decisions, scores, design.groups, confidence_level=settings.confidence_level
        )
        cues = ", ".join(
            [f"the {design.attribute} column"] * settings.set_attribute
            + [f"the {c} column" for c in sorted(design.cue_values)]
        )
        return AuditorOutput(
            auditor=AUDITOR,
            metrics=metric_results(measured, design),
            method=METHOD.format(
                n=n,
                seed=context.seed,
                attribute=design.attribute,
                groups=", ".join(design.groups),
                cues=cues,
                test=measured.test.name,
                calls=f"{scoring.rows:,} rows scored in {scoring.batches:,} batches",
            ),
            tables=evidence_tables(measured, design, max_examples=settings.max_examples),
            limitations=LIMITATIONS,
            config=settings.model_dump(mode="json"),
        )

    def _inconclusive(
        self, settings: CounterfactualConfig, sensitive: tuple[str, ...], reason: str
    ) -> AuditorOutput:
        """Every metric unmeasured, with the reason, under every grouping a policy may name."""
        columns = dict.fromkeys([*([settings.attribute] if settings.attribute else []), *sensitive])
        return AuditorOutput(
            auditor=AUDITOR,
            metrics=tuple(
                MetricResult(metric=m, auditor=AUDITOR, grouping=(c,), value=None, reason=reason)
                for c in columns
                for m in METRICS
            ),
            method="Paired (counterfactual) test; not run: " + reason,
            limitations=LIMITATIONS,
            config=settings.model_dump(mode="json"),
        )
