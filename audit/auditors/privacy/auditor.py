"""The privacy auditor: what a DP guarantee would cost this model, and what it leaks now.

The work is split by job: :mod:`~audit.auditors.privacy.inputs` checks the input,
:mod:`~audit.auditors.privacy.measure` retrains and measures (plain numbers),
:mod:`~audit.auditors.privacy.evidence` turns the numbers into metrics, tables and charts,
and :mod:`~audit.auditors.privacy.describe` holds the words.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel

from audit.auditors._settings import settings_as
from audit.auditors.privacy.config import PrivacyConfig
from audit.auditors.privacy.describe import AUDITOR, METRIC_RANGES, METRICS, SCALARS
from audit.auditors.privacy.dp_training import import_opacus
from audit.auditors.privacy.evidence import measured_output, unmeasured_output
from audit.auditors.privacy.inputs import input_problem
from audit.auditors.privacy.measure import Unmeasurable, measure_privacy
from audit.core.measurements import AuditorOutput
from audit.core.protocols import MetricRange

if TYPE_CHECKING:
    from audit.core.context import AuditContext

__all__ = ["PrivacyAuditor"]


class PrivacyAuditor:
    """Differential privacy's cost for this model, and its membership leakage.

    The auditor retrains the model with DP-SGD (Opacus) to the configured (epsilon, delta)
    on a seeded training split of the audit data: a PyTorch network
    (:class:`~audit.adapters.torch.TorchAdapter`) in its own architecture from fresh
    weights, any other model as a stated stand-in (a DP logistic regression or MLP on the
    same columns).  On the holdout it compares accuracy and AUC (regression: MAE and RMSE)
    of the audited and the DP model overall and per sensitive group, sweeps epsilon, runs a
    loss-threshold membership attack on both models, and saves the DP model.

    Examples
    --------
    >>> auditor = PrivacyAuditor()
    >>> auditor.name, "accuracy_drop_by_group" in auditor.metrics()
    ('privacy', True)
    """

    name: ClassVar[str] = AUDITOR
    population_metrics: ClassVar[frozenset[str]] = frozenset(SCALARS)
    metric_ranges: ClassVar[Mapping[str, MetricRange]] = METRIC_RANGES
    Config: ClassVar[type[BaseModel]] = PrivacyConfig

    def metrics(self) -> Mapping[str, str]:
        """Name and one-line description of every metric this auditor measures."""
        return dict(METRICS)

    def run(self, context: AuditContext, config: BaseModel) -> AuditorOutput:
        """Retrain ``context``'s model with DP, and measure its cost and the leakage.

        Parameters
        ----------
        context:
            Data, column roles, outcomes and the model.
        config:
            A :class:`PrivacyConfig` (or a model with the same fields).

        Returns
        -------
        AuditorOutput
            Metrics, tables, charts, method and limitations.  Bad data, a missing Opacus
            or a failing training never raise: metrics carry the reason.
        """
        settings = settings_as(config, PrivacyConfig)
        sensitive = context.roles.sensitive
        problem = input_problem(context, settings)
        if problem is not None:
            return unmeasured_output(settings, sensitive, problem)
        try:
            import_opacus()
        except ImportError as exc:
            return unmeasured_output(settings, sensitive, str(exc))
        try:
            found = measure_privacy(context, settings)
        except Unmeasurable as exc:
            return unmeasured_output(settings, sensitive, str(exc))
        except Exception as exc:
            detail = " ".join(str(exc).split())[:300]
            return unmeasured_output(
                settings, sensitive, f"DP retraining failed: {type(exc).__name__}: {detail}"
            )
        return measured_output(found, settings, sensitive)
