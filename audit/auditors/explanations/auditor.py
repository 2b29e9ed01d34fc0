"""The explanations auditor: what the model relies on, overall, per group, and on what proxies.

The auditor checks its inputs, then :func:`~.measure.measure` computes the numbers,
:mod:`~.metrics` judges them and :mod:`~.evidence` presents them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pydantic import BaseModel

from audit.auditors._groupings import planned_groupings
from audit.auditors._settings import settings_as
from audit.auditors.explanations.config import ExplanationsConfig
from audit.auditors.explanations.evidence import LIMITATIONS, charts, method_text, tables
from audit.auditors.explanations.measure import measure
from audit.auditors.explanations.metrics import (
    AUDITOR,
    METRIC_RANGES,
    METRICS,
    POPULATION_METRICS,
    metric_results,
    unmeasured_results,
)
from audit.auditors.explanations.prompts import (
    PROMPT_LIMITATION,
    explained_columns,
    prompt_template,
)
from audit.core.measurements import AuditorOutput
from audit.core.protocols import MetricRange

if TYPE_CHECKING:
    from audit.core.context import AuditContext

__all__ = ["ExplanationsAuditor"]


def _list(columns: Sequence[Any], limit: int = 20) -> str:
    names = [str(c) for c in columns]
    extra = f", ... ({len(names)} in all)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + extra


def _input_problem(context: AuditContext, columns: Sequence[str]) -> str | None:
    data = context.data
    if len(data) == 0:
        return "the data has no rows"
    if len(data) < 2:
        return "the data has a single row; explanations need at least two"
    if not columns:
        return "the model reads no columns, so there is nothing to attribute"
    missing = [c for c in columns if c not in data.columns]
    if missing:
        return f"model input column(s) {_list(missing)} not in the data; its columns are: " + _list(
            list(data.columns)
        )
    absent = [c for c in context.roles.sensitive if c not in data.columns]
    if absent:
        return f"sensitive column(s) {_list(absent)} not in the data; its columns are: " + _list(
            list(data.columns)
        )
    y_pred = np.asarray(context.outcomes.y_pred)
    if y_pred.shape != (len(data),):
        return f"the model's decisions have shape {y_pred.shape} for {len(data)} rows"
    return None


class ExplanationsAuditor:
    """What a model relies on: Captum attributions over the user's columns.

    PyTorch models (:class:`~audit.adapters.torch.TorchAdapter`) are explained with
    Integrated Gradients and compared with feature ablation; every other model (HTTP
    endpoints, scikit-learn, ONNX, callables) with Captum's perturbation methods, driven
    through the adapter in batches that span rows and perturbations.  The auditor reports
    global and per-group column importance, the share of attribution on sensitive columns
    and on their proxies, the agreement of top columns across groups, and the principal
    reasons of the most adverse decisions in each group.

    Examples
    --------
    >>> auditor = ExplanationsAuditor()
    >>> auditor.name, "sensitive_attribution_share" in auditor.metrics()
    ('explanations', True)
    """

    name: ClassVar[str] = AUDITOR
    population_metrics: ClassVar[frozenset[str]] = POPULATION_METRICS
    metric_ranges: ClassVar[Mapping[str, MetricRange]] = METRIC_RANGES
    Config: ClassVar[type[BaseModel]] = ExplanationsConfig

    def metrics(self) -> Mapping[str, str]:
        """Name and one-line description of every metric this auditor measures."""
        return dict(METRICS)

    def run(self, context: AuditContext, config: BaseModel) -> AuditorOutput:
        """Explain the model on a sample of ``context``'s rows.

        Parameters
        ----------
        context:
            Data, column roles, outcomes and the model, which is called.
        config:
            An :class:`ExplanationsConfig` (or a model with the same fields).

        Returns
        -------
        AuditorOutput
            Metrics per grouping, evidence tables, charts, cost and method.  Bad data,
            a failing model or a missing Captum never raise: metrics carry the reason.
        """
        settings = settings_as(config, ExplanationsConfig)
        given = [str(c) for c in (context.model.input_columns or context.roles.features)]
        problem = _input_problem(context, given)
        columns = given if problem else explained_columns(context.model, context.data, given)
        if problem is not None:
            return self._unmeasured(context, settings, problem)
        try:
            measured = measure(context, settings, columns)
        except ImportError as exc:
            return self._unmeasured(context, settings, str(exc))
        except Exception as exc:
            detail = " ".join(str(exc).split())[:300]
            return self._unmeasured(
                context,
                settings,
                f"explaining the model failed: {type(exc).__name__}: {detail}",
            )
        return AuditorOutput(
            auditor=AUDITOR,
            metrics=tuple(metric_results(measured, min_group_rows=settings.min_group_rows)),
            method=method_text(settings, measured.explained, len(measured.plan.sample)),
            tables=tables(measured, settings, context.data),
            charts=charts(measured, min_group_rows=settings.min_group_rows),
            limitations=LIMITATIONS
            + ((PROMPT_LIMITATION,) if prompt_template(context.model) is not None else ()),
            warnings=tuple(measured.explained.warnings),
            config=settings.model_dump(mode="json"),
        )

    def _unmeasured(
        self, context: AuditContext, settings: ExplanationsConfig, problem: str
    ) -> AuditorOutput:
        """Every metric, for every planned grouping, without a value."""
        return AuditorOutput(
            auditor=AUDITOR,
            metrics=unmeasured_results(planned_groupings(context.roles.sensitive), problem),
            method=method_text(settings, None),
            limitations=LIMITATIONS,
            warnings=(f"explanations could not be measured: {problem}",),
            config=settings.model_dump(mode="json"),
        )
