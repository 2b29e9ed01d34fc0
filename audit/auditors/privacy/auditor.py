"""The privacy auditor: what a DP guarantee would cost this model, and what it leaks now."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from audit.auditors._groupings import planned_groupings
from audit.auditors._settings import settings_as
from audit.auditors.privacy.config import PrivacyConfig
from audit.auditors.privacy.dp_training import (
    BOOKKEEPING,
    TrainedModel,
    TrainingSettings,
    choose_device,
    import_opacus,
    train_module,
)
from audit.auditors.privacy.membership_inference import (
    AttackResult,
    example_losses,
    loss_threshold_attack,
    squared_errors,
)
from audit.auditors.privacy.models import (
    Retrainable,
    stand_in,
    stand_in_name,
    torch_retrainable,
)
from audit.auditors.privacy.persistence import METADATA_FILE, STATE_FILE, save_dp_model
from audit.auditors.privacy.split import Split, data_sha256, split_rows
from audit.auditors.privacy.utility import (
    BINARY_MEASURES,
    REGRESSION_MEASURES,
    Measure,
    Utility,
    lost,
    regression_by_group,
    utility_by_group,
)
from audit.core.context import Task
from audit.core.groups import Grouping, groupings_for
from audit.core.measurements import (
    AuditorOutput,
    BarChart,
    Chart,
    EvidenceTable,
    GroupStatus,
    GroupValue,
    LineChart,
    LineSeries,
    MetricResult,
)

if TYPE_CHECKING:
    from audit.core.context import AuditContext

__all__ = ["PrivacyAuditor"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Cell = str | int | float | None

AUDITOR = "privacy"

SCALARS: Mapping[str, str] = {
    "epsilon": "Epsilon spent by the DP model's training, from the Opacus accountant.",
    "delta": "Delta of the DP model's (epsilon, delta) guarantee.",
    "accuracy_drop": "Holdout accuracy of the audited model minus that of the DP model.",
    "auc_drop": "Holdout ROC AUC of the audited model minus that of the DP model.",
    "mae_increase": (
        "Regression: holdout mean absolute error of the DP model minus that of the audited "
        "model, in the target's units."
    ),
    "rmse_increase": (
        "Regression: holdout root mean squared error of the DP model minus that of the "
        "audited model, in the target's units."
    ),
    "attack_auc": (
        "ROC AUC of a loss-threshold membership attack on the audited model (0.5 = chance); "
        "needs membership_column."
    ),
    "attack_advantage": (
        "Largest TPR - FPR of a loss-threshold membership attack on the audited model "
        "(0 = no leakage); needs membership_column."
    ),
    "dp_attack_auc": "ROC AUC of the same attack on the DP model (training split vs holdout).",
    "dp_attack_advantage": "Largest TPR - FPR of the same attack on the DP model.",
}
GROUPED: Mapping[str, str] = {
    "accuracy_drop_by_group": (
        "Per group, holdout accuracy of the audited model minus that of the DP model; "
        "at_most judges the worst group."
    ),
    "auc_drop_by_group": "Per group, holdout ROC AUC of the audited model minus the DP model's.",
    "mae_increase_by_group": (
        "Regression, per group: holdout MAE of the DP model minus the audited model's; "
        "at_most judges the worst group."
    ),
    "rmse_increase_by_group": (
        "Regression, per group: holdout RMSE of the DP model minus the audited model's."
    ),
}
METRICS: Mapping[str, str] = {**SCALARS, **GROUPED}

NOTE_STAND_IN = (
    "The audited model {why}, so the DP model is a STAND-IN: a {what} "
    "trained with DP-SGD on the same columns (one-hot categories, standardised numbers, "
    "fitted on the training split). Its cost and leakage describe that stand-in, not a DP "
    "version of the audited model itself."
)
ERR_OTHER_TASK = "{metric} is measured for {wanted} tasks; this task is {task}"
ERR_MEMBERSHIP_UNKNOWN = (
    "the rows the audited model was trained on are not known (set membership_column to a "
    "column that is true on them); a random split of the audit data gives both halves the "
    "same membership, so the attack would measure nothing"
)
ERR_NO_SCORES = "the audited model gives no scores, so its per-row loss is unknown"
ERR_TORCH_REGRESSION = (
    "the torch adapter reads this network's output as classifier scores (output={output!r}), "
    "so the audited utility below is of those scores, not of regression values; the DP "
    "network is retrained as a regressor (declare a regressor with "
    "TorchAdapter(..., output='values'))"
)

LIMITATIONS = (
    "The DP model is retrained on a split of the audit data, not on the audited model's own "
    "training data; its cost estimates what DP training would cost on data like this.",
    "Epsilon is an upper bound from the accountant for the stated delta; it covers the DP "
    "model's training only, not the choice of its hyperparameters or of the epsilon sweep.",
    "The noise comes from a pseudo-random generator (torch's; Opacus's secure_mode is off): "
    "fine for measuring the cost, but a model to deploy must be retrained with a "
    "cryptographically secure noise source (Opacus's secure_mode).",
    "The loss-threshold attack is a weak, cheap attacker: an advantage near 0 does not prove "
    "the absence of leakage; stronger attacks (shadow models, LiRA) can find more.",
    "Per-group drops on small groups are noisy: groups under min_group_size are reported and "
    "never judged.",
    "Outside the DP guarantee: a stand-in's encoding (means, scales and categories of the "
    "columns) and, for regression, the target's mean and scale are fitted on the training "
    "split without noise.",
)


def _list(columns: Sequence[Any], limit: int = 20) -> str:
    names = [str(c) for c in columns]
    extra = f", ... ({len(names)} in all)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + extra


def _input_problem(context: AuditContext, settings: PrivacyConfig) -> str | None:
    data = context.data
    outcomes = context.outcomes
    if outcomes.task not in (Task.BINARY, Task.REGRESSION):
        return f"the privacy auditor measures binary and regression tasks; this is {outcomes.task}"
    if len(data) < 20:
        return f"the data has {len(data)} rows; DP retraining needs at least 20"
    columns = list(context.model.input_columns or context.roles.features)
    named = [*columns, *context.roles.sensitive]
    if settings.membership_column is not None:
        named.append(settings.membership_column)
    missing = [c for c in named if c not in data.columns]
    if missing:
        return f"column(s) {_list(missing)} not in the data; its columns are: " + _list(
            list(data.columns)
        )
    if not columns:
        return "the model reads no columns, so there is nothing to train on"
    y_true = np.asarray(outcomes.y_true)
    if y_true.shape != (len(data),):
        return f"y_true has shape {y_true.shape} for {len(data)} rows"
    if outcomes.task is Task.REGRESSION:
        return _regression_problem(y_true, np.asarray(outcomes.y_pred))
    if not np.isin(y_true, [0, 1]).all():
        return "y_true holds values other than 0 and 1"
    if len(np.unique(y_true)) < 2:
        return "the target has a single class, so there is nothing to learn"
    return None


def _regression_problem(y_true: np.ndarray, y_pred: np.ndarray) -> str | None:
    try:
        values = y_true.astype(np.float64)
        predicted = y_pred.astype(np.float64)
    except (TypeError, ValueError):
        return "the regression target or predictions are not numbers"
    if predicted.shape != values.shape:
        return f"y_pred has shape {predicted.shape} for {len(values)} rows"
    bad = int((~np.isfinite(values)).sum())
    if bad:
        return f"the regression target has {bad} missing or infinite values"
    bad = int((~np.isfinite(predicted)).sum())
    if bad:
        return f"the model's predictions have {bad} missing or infinite values"
    if np.ptp(values) == 0:
        return "the regression target is constant, so there is nothing to learn"
    return None


def _measures(task: Task) -> tuple[Measure, ...]:
    return REGRESSION_MEASURES if task is Task.REGRESSION else BINARY_MEASURES


def _other_task(task: Task) -> tuple[tuple[Measure, ...], str]:
    """The measures of the other task, and the name of the task they are for."""
    if task is Task.REGRESSION:
        return BINARY_MEASURES, "binary"
    return REGRESSION_MEASURES, "regression"


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
        problem = _input_problem(context, settings)
        if problem is not None:
            return _unmeasured(context, settings, problem)
        try:
            import_opacus()
        except ImportError as exc:
            return _unmeasured(context, settings, str(exc))
        try:
            return _Measurement(context, settings).output()
        except Exception as exc:
            detail = " ".join(str(exc).split())[:300]
            return _unmeasured(
                context, settings, f"DP retraining failed: {type(exc).__name__}: {detail}"
            )


def _unmeasured(context: AuditContext, settings: PrivacyConfig, problem: str) -> AuditorOutput:
    """Every metric, for every planned grouping, without a value."""
    metrics = [
        MetricResult(
            metric=name, auditor=AUDITOR, grouping=(), value=None, description=text, reason=problem
        )
        for name, text in SCALARS.items()
    ]
    metrics.extend(
        MetricResult(
            metric=name,
            auditor=AUDITOR,
            grouping=grouping,
            value=None,
            description=text,
            reason=problem,
        )
        for grouping in planned_groupings(context.roles.sensitive)
        for name, text in GROUPED.items()
    )
    return AuditorOutput(
        auditor=AUDITOR,
        metrics=tuple(metrics),
        method=_method_text(settings, None, None),
        limitations=LIMITATIONS,
        warnings=(f"privacy could not be measured: {problem}",),
        config=settings.model_dump(mode="json"),
    )


def _outputs(module: Any, head: str, inputs: npt.NDArray[np.float32]) -> FloatArray:
    """Positive-class probabilities of a trained classifier, or a regressor's raw values."""
    import torch

    with torch.no_grad():
        out = module(torch.from_numpy(inputs)).to(torch.float64)
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    if head == "logit":
        out = torch.sigmoid(out)
    elif head == "two_logits":
        out = torch.softmax(out, dim=1)[:, 1]
    elif head == "two_probabilities":
        out = out[:, 1]
    return np.ascontiguousarray(out.numpy(), dtype=np.float64)


def _fmt(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def _grouping_label(columns: tuple[str, ...]) -> str:
    return " \u00d7 ".join(columns) if columns else "overall"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class _SweepPoint:
    label: str
    trained: TrainedModel
    utility: dict[tuple[str, ...], list[Utility]]


class _Measurement:
    """One run: split, retrain, sweep, compare, attack, save."""

    def __init__(self, context: AuditContext, settings: PrivacyConfig) -> None:
        self.context = context
        self.settings = settings
        self.seed = abs(int(context.seed))
        self.task = context.outcomes.task
        self.regression = self.task is Task.REGRESSION
        self.measures = _measures(self.task)
        data = context.data
        self.columns = [str(c) for c in (context.model.input_columns or context.roles.features)]
        self.split: Split = split_rows(
            len(data),
            holdout_fraction=settings.holdout_fraction,
            max_rows=settings.max_rows,
            seed=self.seed,
        )
        y_true = np.asarray(context.outcomes.y_true)
        self.y_true: FloatArray | IntArray = (
            y_true.astype(np.float64) if self.regression else y_true.astype(np.int64)
        )
        train_rows = data.iloc[self.split.train]
        self.warnings: list[str] = []
        self.retrainable = self._retrainable(train_rows)
        self.x_train = self.retrainable.encode(train_rows.loc[:, self.columns])
        self.x_hold = self.retrainable.encode(data.iloc[self.split.holdout].loc[:, self.columns])
        self.labels, self.scaling = self._training_labels()
        self.device = choose_device(settings.device)
        self.groupings: list[Grouping] = (
            groupings_for(
                data.iloc[self.split.holdout], context.roles.sensitive, intersectional=True
            )
            if context.roles.sensitive
            else []
        )
        self.training = TrainingSettings(
            epochs=settings.epochs,
            batch_size=settings.batch_size,
            learning_rate=settings.learning_rate,
            max_grad_norm=settings.max_grad_norm,
            target_delta=settings.target_delta,
            accountant=settings.accountant,
            grad_sample_mode=settings.grad_sample_mode,
            device=self.device,
            seed=self.seed,
        )
        bar = context.progress("privacy: DP retraining", 1 + len(settings.sweep_epsilons) + 1)
        try:
            self.main = self._train(settings.target_epsilon)
            bar.update(1)
            self.sweep = self._sweep(bar)
        finally:
            bar.close()
        self.main_hold = self.predict(self.main, self.x_hold)
        self.saved = self._save()

    # ------------------------------------------------------------------ setup

    def _retrainable(self, train_rows: Any) -> Retrainable:
        from audit.adapters.torch import TorchAdapter

        model = self.context.model
        if isinstance(model, TorchAdapter):
            found = torch_retrainable(
                model, train_rows.loc[:, self.columns].head(8), regression=self.regression
            )
            if isinstance(found, Retrainable):
                if self.regression and model.output != "values":
                    self.warnings.append(ERR_TORCH_REGRESSION.format(output=model.output))
                return found
            self.warnings.append(f"{found}; a stand-in was trained instead")
            why = "could not be retrained privately as it is"
        else:
            why = "is not a PyTorch network"
        what = stand_in_name(self.settings.hidden_units, regression=self.regression)
        chosen = stand_in(
            train_rows, self.columns, self.settings.hidden_units, regression=self.regression
        )
        self.warnings.append(NOTE_STAND_IN.format(why=why, what=what))
        return chosen

    def _training_labels(
        self,
    ) -> tuple[npt.NDArray[np.int64] | npt.NDArray[np.float32], tuple[float, float] | None]:
        """The training split's labels; a regression target standardised, with its scaling.

        Standardising keeps the squared-error gradients on the scale that the clipping
        bound and the learning rate are set for, whatever the target's units.
        """
        train = self.y_true[self.split.train]
        if not self.regression:
            return train.astype(np.int64), None
        mean = float(np.mean(train))
        scale = float(np.std(train))
        scale = scale if scale > 0 else 1.0
        return ((train - mean) / scale).astype(np.float32), (mean, scale)

    def _train(self, epsilon: float | None) -> TrainedModel:
        trained = train_module(
            self.retrainable.build(self.seed),
            self.x_train,
            self.labels,
            head=self.retrainable.head,
            settings=self.training,
            target_epsilon=epsilon,
        )
        self.warnings.extend(f"Opacus: {w}" for w in trained.report.warnings)
        return trained

    def predict(self, trained: TrainedModel, inputs: npt.NDArray[np.float32]) -> FloatArray:
        """Positive-class scores of a classifier, predicted values of a regressor."""
        out = _outputs(trained.module, self.retrainable.head, inputs)
        if self.scaling is None:
            return out
        mean, scale = self.scaling
        return out * scale + mean

    def _utility(
        self, predicted: FloatArray | None, labels: FloatArray | IntArray
    ) -> dict[tuple[str, ...], list[Utility]]:
        """Utility on the holdout of ``labels`` (decisions or values) and scores."""
        y = self.y_true[self.split.holdout]

        def measure(grouping: Grouping | None) -> list[Utility]:
            if self.regression:
                return regression_by_group(
                    y.astype(np.float64), labels.astype(np.float64), grouping
                )
            return utility_by_group(
                y.astype(np.int64), labels.astype(np.int64), predicted, grouping
            )

        found: dict[tuple[str, ...], list[Utility]] = {(): measure(None)}
        for grouping in self.groupings:
            found[grouping.columns] = measure(grouping)
        return found

    def _dp_utility(self, trained: TrainedModel) -> dict[tuple[str, ...], list[Utility]]:
        out = self.predict(trained, self.x_hold)
        if self.regression:
            return self._utility(None, out)
        return self._utility(out, (out >= 0.5).astype(np.int64))

    def _sweep(self, bar: Any) -> list[_SweepPoint]:
        points: list[_SweepPoint] = []
        targets = sorted(set(self.settings.sweep_epsilons))
        for epsilon in targets:
            trained = self.main if epsilon == self.settings.target_epsilon else self._train(epsilon)
            points.append(_SweepPoint(f"\u03b5={epsilon:g}", trained, self._dp_utility(trained)))
            bar.update(1)
        if self.settings.sweep_non_private:
            trained = self._train(None)
            points.append(_SweepPoint("non-private", trained, self._dp_utility(trained)))
            bar.update(1)
        return points

    def _save(self) -> str | None:
        if not self.settings.save_model:
            return None
        report = self.main.report
        data = self.context.data
        used = data.iloc[self.split.train].loc[:, [*self.columns, self.context.roles.target]]
        metadata: dict[str, Any] = {
            "task": str(self.task),
            "epsilon": report.epsilon,
            "target_epsilon": report.target_epsilon,
            "delta": report.delta,
            "accountant": report.accountant,
            "noise_multiplier": report.noise_multiplier,
            "max_grad_norm": report.max_grad_norm,
            "sample_rate": report.sample_rate,
            "epochs": report.epochs,
            "steps": report.steps,
            "grad_sample_mode": report.grad_sample_mode,
            "device": report.device,
            "seed": self.seed,
            "training_rows": len(self.split.train),
            "data_sha256": data_sha256(used),
            "columns": self.columns,
            "target": self.context.roles.target,
            "positive_label": None if self.regression else str(self.context.roles.positive_label),
            "target_scaling": None
            if self.scaling is None
            else {"mean": self.scaling[0], "scale": self.scaling[1]},
            "stand_in": self.retrainable.stand_in,
            "architecture": self.retrainable.architecture,
            "encoding": (
                self.retrainable.encoding.to_json() if self.retrainable.encoding else None
            ),
        }
        try:
            return str(save_dp_model(self.settings.output_dir, self.main.module, metadata))
        except OSError as exc:
            self.warnings.append(f"the DP model could not be saved: {exc}")
            return None

    # ------------------------------------------------------------------ measurements

    def original_utility(self) -> dict[tuple[str, ...], list[Utility]]:
        """The audited model's utility on the holdout, from the audit's outcomes."""
        outcomes = self.context.outcomes
        hold = self.split.holdout
        if self.regression:
            return self._utility(None, np.asarray(outcomes.y_pred, dtype=np.float64)[hold])
        labels = np.asarray(outcomes.y_pred).astype(np.int64)[hold]
        score = outcomes.y_score
        scores = None if score is None else np.asarray(score, dtype=np.float64)[hold]
        return self._utility(scores, labels)

    def losses(self, rows: IntArray, predicted: FloatArray) -> FloatArray:
        """Per-row loss: cross-entropy of scores, or squared error of predicted values."""
        if self.regression:
            return squared_errors(self.y_true[rows].astype(np.float64), predicted)
        return example_losses(self.y_true[rows].astype(np.int64), predicted)

    def attacks(self) -> tuple[AttackResult | str, AttackResult]:
        """The membership attack on the audited model (or why not) and on the DP model."""
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, 7]))
        level = self.settings.confidence_level
        boot = self.settings.bootstrap
        dp = loss_threshold_attack(
            self.losses(self.split.train, self.predict(self.main, self.x_train)),
            self.losses(self.split.holdout, self.main_hold),
            bootstrap=boot,
            confidence_level=level,
            rng=rng,
        )
        original: AttackResult | str
        outcomes = self.context.outcomes
        audited = outcomes.y_pred if self.regression else outcomes.y_score
        column = self.settings.membership_column
        if column is None:
            original = ERR_MEMBERSHIP_UNKNOWN
        elif audited is None:
            original = ERR_NO_SCORES
        else:
            rows = np.sort(np.concatenate([self.split.train, self.split.holdout]))
            member = self.context.data[column].iloc[rows].fillna(False).astype(bool).to_numpy()
            losses = self.losses(rows, np.asarray(audited, dtype=np.float64)[rows])
            if member.all() or not member.any():
                original = (
                    f"membership column {column!r} marks {'all' if member.any() else 'no'} rows"
                )
            else:
                original = loss_threshold_attack(
                    losses[member], losses[~member], bootstrap=boot, confidence_level=level, rng=rng
                )
        return original, dp

    def output(self) -> AuditorOutput:
        """Everything measured, as the auditor's output."""
        before = self.original_utility()
        after = self.sweep_point()
        original, dp = self.attacks()
        report = self.main.report
        metrics: list[MetricResult] = [
            self._scalar("epsilon", report.epsilon),
            self._scalar("delta", report.delta),
        ]
        overall_before, overall_after = before[()][0].values, after[()][0].values
        for measure in self.measures:
            value = lost(measure, overall_before[measure.key], overall_after[measure.key])
            reason = f"{measure.title} undefined overall"
            if measure.key == "auc" and overall_before["auc"] is None:
                reason = ERR_NO_SCORES
            metrics.append(self._scalar(measure.metric, value, reason=reason))
        others, wanted = _other_task(self.task)
        metrics.extend(
            self._scalar(m.metric, None, reason=self._other_reason(m.metric, wanted))
            for m in others
        )
        if isinstance(original, str):
            metrics.append(self._scalar("attack_auc", None, reason=original))
            metrics.append(self._scalar("attack_advantage", None, reason=original))
        else:
            metrics.append(self._scalar("attack_auc", original.auc))
            metrics.append(self._scalar("attack_advantage", original.advantage))
        metrics.append(self._scalar("dp_attack_auc", dp.auc))
        metrics.append(self._scalar("dp_attack_advantage", dp.advantage))
        metrics.extend(self._grouped(before, after))
        return AuditorOutput(
            auditor=AUDITOR,
            metrics=tuple(metrics),
            method=_method_text(self.settings, self, report.device),
            tables=(
                self._training_table(),
                self._utility_table(before, after),
                self._sweep_table(),
                _attack_table(original, dp, self.settings, self.regression),
                self._saved_table(),
            ),
            charts=self._charts(before, after),
            limitations=LIMITATIONS,
            warnings=tuple(dict.fromkeys(self.warnings)),
            config=self.settings.model_dump(mode="json"),
        )

    def sweep_point(self) -> dict[tuple[str, ...], list[Utility]]:
        """The DP utility of the main model (the target epsilon's point of the sweep)."""
        for point in self.sweep:
            if point.trained is self.main:
                return point.utility
        return self._dp_utility(self.main)

    def _other_reason(self, metric: str, wanted: str) -> str:
        return ERR_OTHER_TASK.format(metric=metric, wanted=wanted, task=self.task)

    def _scalar(self, name: str, value: float | None, reason: str | None = None) -> MetricResult:
        return MetricResult(
            metric=name,
            auditor=AUDITOR,
            grouping=(),
            value=value,
            description=METRICS[name],
            reason=reason if value is None else None,
        )

    def _grouped(
        self,
        before: dict[tuple[str, ...], list[Utility]],
        after: dict[tuple[str, ...], list[Utility]],
    ) -> list[MetricResult]:
        results: list[MetricResult] = []
        others, wanted = _other_task(self.task)
        for columns in planned_groupings(self.context.roles.sensitive):
            for measure in self.measures:
                results.append(self._grouped_one(measure, columns, before, after))
            results.extend(
                MetricResult(
                    metric=m.grouped_metric,
                    auditor=AUDITOR,
                    grouping=columns,
                    value=None,
                    description=METRICS[m.grouped_metric],
                    reason=self._other_reason(m.grouped_metric, wanted),
                )
                for m in others
            )
        return results

    def _grouped_one(
        self,
        measure: Measure,
        columns: tuple[str, ...],
        before: dict[tuple[str, ...], list[Utility]],
        after: dict[tuple[str, ...], list[Utility]],
    ) -> MetricResult:
        name = measure.grouped_metric
        if columns not in before:
            return MetricResult(
                metric=name,
                auditor=AUDITOR,
                grouping=columns,
                value=None,
                description=METRICS[name],
                reason="no rows of these groups in the holdout",
            )
        groups = []
        for orig, dpu in zip(before[columns], after[columns], strict=True):
            value = lost(measure, orig.values[measure.key], dpu.values[measure.key])
            status, note = GroupStatus.OK, None
            if orig.count < self.settings.min_group_size:
                status = GroupStatus.SMALL
                note = f"fewer than {self.settings.min_group_size} holdout rows"
            elif value is None:
                status = GroupStatus.UNDEFINED
                note = f"{measure.title} undefined in this group"
            groups.append(
                GroupValue(
                    group=orig.label, count=orig.count, value=value, status=status, note=note
                )
            )
        overall = lost(measure, before[()][0].values[measure.key], after[()][0].values[measure.key])
        return MetricResult(
            metric=name,
            auditor=AUDITOR,
            grouping=columns,
            value=overall,
            groups=tuple(groups),
            description=METRICS[name],
            reason=None if overall is not None else f"{measure.title} undefined overall",
        )

    # ------------------------------------------------------------------ evidence

    def _training_table(self) -> EvidenceTable:
        r = self.main.report
        model = (
            "stand-in " + str(self.retrainable.architecture.get("model"))
            if (self.retrainable.stand_in)
            else "audited network, fresh weights ("
            + str(self.retrainable.architecture["class"])
            + ")"
        )
        rows: list[tuple[Cell, Cell]] = [
            ("task", str(self.task)),
            ("DP model", model),
            ("target epsilon", r.target_epsilon),
            ("epsilon spent", _fmt(r.epsilon)),
            ("delta", r.delta),
            ("accountant", r.accountant),
            ("noise multiplier", _fmt(r.noise_multiplier)),
            ("max grad norm (clipping)", r.max_grad_norm),
            ("sample rate (Poisson)", _fmt(r.sample_rate, 6)),
            ("expected batch size", r.batch_size),
            ("epochs", r.epochs),
            ("steps", r.steps),
            ("per-sample gradients (grad_sample_mode)", r.grad_sample_mode),
            ("device", r.device),
            (
                "training rows / holdout rows",
                f"{len(self.split.train)} / {len(self.split.holdout)}",
            ),
            ("training throughput (rows/s)", _fmt(r.samples_per_second, 1)),
        ]
        if self.scaling is not None:
            rows.append(
                (
                    "target standardised (mean, scale)",
                    f"{self.scaling[0]:.6g}, {self.scaling[1]:.6g}",
                )
            )
        return EvidenceTable(
            title="DP training",
            columns=("setting", "value"),
            rows=tuple(rows),
            caption="How the DP model was trained; epsilon spent is read from the accountant.",
        )

    def _utility_table(
        self,
        before: dict[tuple[str, ...], list[Utility]],
        after: dict[tuple[str, ...], list[Utility]],
    ) -> EvidenceTable:
        rows: list[tuple[Cell, ...]] = []
        for columns, found in before.items():
            for orig, dpu in zip(found, after[columns], strict=True):
                cells: list[Cell] = [_grouping_label(columns), orig.label, orig.count]
                for m in self.measures:
                    a, b = orig.values[m.key], dpu.values[m.key]
                    cells.extend((_fmt(a), _fmt(b), _fmt(lost(m, a, b))))
                rows.append(tuple(cells))
        headers: list[str] = ["grouping", "group", "rows"]
        for m in self.measures:
            headers.extend((f"{m.title} (audited)", f"{m.title} (DP)", m.lost_title))
        lost_word = "an increase in error" if self.regression else "a positive drop"
        return EvidenceTable(
            title="Utility on the holdout: audited vs DP model "
            f"(\u03b5={self.settings.target_epsilon:g})",
            columns=tuple(headers),
            rows=tuple(rows),
            caption=f"Utility lost to DP shows as {lost_word}; the per-group cost is the "
            "headline." + (" Errors are in the target's units." if self.regression else ""),
        )

    def _sweep_table(self) -> EvidenceTable:
        rows: list[tuple[Cell, ...]] = []
        for point in self.sweep:
            r = point.trained.report
            for columns, found in point.utility.items():
                for u in found:
                    rows.append(
                        (
                            point.label,
                            _fmt(r.epsilon),
                            _fmt(r.noise_multiplier),
                            _grouping_label(columns),
                            u.label,
                            u.count,
                            *(_fmt(u.values[m.key]) for m in self.measures),
                        )
                    )
        return EvidenceTable(
            title="Epsilon sweep: utility per group against epsilon",
            columns=(
                "target",
                "epsilon spent",
                "noise multiplier",
                "grouping",
                "group",
                "rows",
                *(m.title for m in self.measures),
            ),
            rows=tuple(rows),
            caption="The same model and data trained at each target epsilon, and without DP.",
        )

    def _saved_table(self) -> EvidenceTable:
        rows: tuple[tuple[Cell, Cell], ...] = (
            ("folder", self.saved or "not saved"),
            ("files", f"{STATE_FILE}, {METADATA_FILE}" if self.saved else None),
            (
                "load with",
                "audit.auditors.privacy.load_dp_model(folder)"
                + ("" if self.retrainable.stand_in else " with module= and encode=")
                if self.saved
                else None,
            ),
        )
        return EvidenceTable(
            title="Saved DP model",
            columns=("item", "value"),
            rows=rows,
            caption="State dict and metadata (epsilon, delta, accountant, data SHA-256, columns).",
        )

    def _charts(
        self,
        before: dict[tuple[str, ...], list[Utility]],
        after: dict[tuple[str, ...], list[Utility]],
    ) -> tuple[Chart, ...]:
        headline = self.measures[0]
        charts: list[Chart] = []
        labels: list[str] = []
        values: list[float] = []
        for columns, found in before.items():
            for orig, dpu in zip(found, after[columns], strict=True):
                value = lost(headline, orig.values[headline.key], dpu.values[headline.key])
                if value is not None:
                    labels.append(orig.label)
                    values.append(value)
        if labels:
            verb = "added by" if self.regression else "lost to"
            charts.append(
                BarChart(
                    title=f"{_capital(headline.title)} {verb} DP per group "
                    f"(\u03b5={self.settings.target_epsilon:g})",
                    labels=tuple(labels),
                    values=tuple(values),
                    value_label=f"{headline.lost_title} "
                    + ("(DP - audited)" if self.regression else "(audited - DP)"),
                    caption="Longer bars: groups that pay more for the privacy guarantee.",
                )
            )
        positions = tuple(point.label for point in self.sweep)
        for columns in [(), *(g.columns for g in self.groupings[:3])]:
            lines: dict[str, list[float | None]] = {}
            for index, point in enumerate(self.sweep):
                for u in point.utility.get(columns, []):
                    line = lines.setdefault(u.label, [None] * len(positions))
                    line[index] = u.values[headline.key]
            series = tuple(
                LineSeries(name=label, values=tuple(points))
                for label, points in lines.items()
                if any(v is not None for v in points)
            )
            if series:
                charts.append(
                    LineChart(
                        title=f"{_capital(headline.title)} against epsilon "
                        f"({_grouping_label(columns)})",
                        x_labels=positions,
                        series=series,
                        x_label="privacy budget",
                        y_label=f"holdout {headline.title}",
                        caption=f"The trade-off curve: holdout {headline.title} of a DP model "
                        "trained to each epsilon, per group; the last point is the same model "
                        "trained without privacy.",
                    )
                )
        return tuple(charts)


def _ci(bounds: tuple[float | None, float | None]) -> str | None:
    low, high = bounds
    return None if low is None or high is None else f"[{low:.3f}, {high:.3f}]"


def _attack_table(
    original: AttackResult | str, dp: AttackResult, settings: PrivacyConfig, regression: bool
) -> EvidenceTable:
    level = f"{settings.confidence_level:.0%}"
    rows: list[tuple[Cell, ...]] = []
    if isinstance(original, str):
        rows.append(("audited model", None, None, None, None, None, None, original))
    else:
        rows.append(
            (
                "audited model",
                original.members,
                original.non_members,
                _fmt(original.auc),
                _ci(original.auc_ci),
                _fmt(original.advantage),
                _ci(original.advantage_ci),
                f"members: rows where {settings.membership_column!r} is true",
            )
        )
    rows.append(
        (
            "DP model",
            dp.members,
            dp.non_members,
            _fmt(dp.auc),
            _ci(dp.auc_ci),
            _fmt(dp.advantage),
            _ci(dp.advantage_ci),
            "members: the training split; non-members: the holdout",
        )
    )
    return EvidenceTable(
        title="Membership inference (loss threshold, Yeom et al. 2018)",
        columns=(
            "model",
            "members",
            "non-members",
            "attack AUC",
            f"AUC {level} CI",
            "advantage",
            f"advantage {level} CI",
            "note",
        ),
        rows=tuple(rows),
        caption="AUC 0.5 and advantage 0 mean the attacker does no better than chance. "
        + (
            "The loss is the squared error of the predicted value."
            if regression
            else "The loss is the cross-entropy of the positive-class score."
        ),
    )


def _clipping_text(mode: str) -> str:
    """How the rows' gradients were clipped, for the method text."""
    if mode == BOOKKEEPING:
        return (
            "grad_sample_mode 'bookkeeping': each row's gradient norm is computed in closed "
            "form from its linear layers' inputs and output gradients, and the clipped sum in "
            "the same backward pass (book-keeping, Bu et al., 2023); it trains the same model "
            "as Opacus's per-sample gradients, at a fraction of the cost"
        )
    if mode == "auto":
        return "grad_sample_mode 'auto': the fastest engine the network's layers allow"
    return f"by Opacus's PrivacyEngine, grad_sample_mode {mode!r}"


def _method_text(
    settings: PrivacyConfig, measurement: _Measurement | None, device: str | None
) -> str:
    where = f" on {device}" if device else " (CUDA when available, else CPU)"
    regression = measurement is not None and measurement.regression
    model = (
        "a stand-in (a DP logistic regression, or for regression a linear regression, or an "
        "MLP, on the same columns: one-hot categories and standardised numbers fitted on the "
        "training split)"
        if measurement is None or measurement.retrainable.stand_in
        else "the audited PyTorch network, deep-copied with its parameters reset"
    )
    mode: str = settings.grad_sample_mode
    if measurement is not None and measurement.main.report.grad_sample_mode is not None:
        mode = measurement.main.report.grad_sample_mode
    if regression:
        task = (
            "It is trained with squared error on the target standardised by its training-split "
            "mean and scale, and predicts in the target's units. The holdout measures mean "
            "absolute and root mean squared error of the audited model (its recorded "
            "predictions) and of the DP model, overall and per sensitive group (utility lost: "
            "DP error minus audited error)"
        )
        loss = "squared error"
    else:
        task = (
            "Labels are the audit's ground truth (the target compared with the positive "
            "label). The holdout measures accuracy and AUC of the audited model (its recorded "
            "decisions and scores) and of the DP model, overall and per sensitive group"
        )
        loss = "cross-entropy"
    return (
        f"The audit rows (at most {settings.max_rows}) are split at random, seeded, into a "
        f"training split and a {settings.holdout_fraction:.0%} holdout. The DP model is "
        f"{model}, trained on the training split with DP-SGD{where}: Opacus finds the noise "
        f"multiplier for the target (epsilon={settings.target_epsilon:g}, "
        f"delta={settings.target_delta:g}) over {settings.epochs} epochs, as "
        f"make_private_with_epsilon does; batches are Poisson samples (expected size "
        f"{settings.batch_size}) drawn by Opacus's sampler; each row's gradient is clipped to "
        f"L2 norm {settings.max_grad_norm:g} and Gaussian noise added to the clipped sum "
        f"({_clipping_text(mode)}); epsilon is read from Opacus's "
        f"{settings.accountant.upper()} accountant. {task}; the sweep retrains at "
        "each epsilon and without DP. Membership inference is the loss-threshold attack "
        f"(Yeom et al., 2018) on the per-row {loss}: for the DP model the training split are "
        "members and the holdout non-members; for the audited model members are the rows "
        "marked by membership_column (when given). Attack intervals are percentile bootstrap "
        f"intervals ({settings.bootstrap} resamples)."
    )
