"""The privacy auditor's numbers: retrain with DP, sweep epsilon, compare utility, attack.

:func:`measure_privacy` returns a :class:`PrivacyMeasurement` of plain numbers (training
reports, utilities per group, attack results); nothing here builds a report object.
:mod:`audit.auditors.privacy.evidence` turns it into metric results, tables and charts.
It is over 500 lines because one run (split, train, sweep, attack, save) shares
its split, encodings and models; each step is one method of :class:`_Retraining`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from audit.auditors.privacy.config import PrivacyConfig
from audit.auditors.privacy.describe import (
    ERR_MEMBERSHIP_COUNTS,
    ERR_MEMBERSHIP_UNKNOWN,
    ERR_NO_SCORES,
    ERR_ONE_CLASS_TRAINING,
    ERR_TORCH_REGRESSION,
    NOTE_ALL_MEMBERS,
    NOTE_LARGE_DELTA,
    NOTE_MEMBERSHIP_NOT_A_FEATURE,
    NOTE_MEMBERSHIP_UNKNOWN,
    NOTE_MISSING_NUMBERS,
    NOTE_SMALL_HOLDOUT,
    NOTE_STAND_IN,
)
from audit.auditors.privacy.dp_training import (
    TrainedModel,
    TrainingReport,
    TrainingSettings,
    Unmeasurable,
    choose_device,
    train_module,
)
from audit.auditors.privacy.drop_intervals import Interval, bootstrap_drop_interval
from audit.auditors.privacy.membership_inference import (
    AttackResult,
    example_losses,
    loss_threshold_attack,
    squared_errors,
)
from audit.auditors.privacy.models import (
    Retrainable,
    module_outputs,
    stand_in,
    stand_in_name,
    torch_retrainable,
)
from audit.auditors.privacy.persistence import class_labels, save_dp_model
from audit.auditors.privacy.split import Split, data_sha256, holdout_size, split_rows
from audit.auditors.privacy.utility import (
    BINARY_MEASURES,
    REGRESSION_MEASURES,
    Measure,
    Utility,
    accuracy,
    auc,
    group_rows,
    regression_by_group,
    utility_by_group,
)
from audit.core.context import Task
from audit.core.groups import Grouping, groupings_for
from audit.stats.paired import paired_difference_interval

if TYPE_CHECKING:
    from audit.core.context import AuditContext

__all__ = [
    "DropIntervals",
    "PrivacyMeasurement",
    "Unmeasurable",
    "SweepPoint",
    "UtilityByGrouping",
    "audited_members",
    "measure_privacy",
    "measures_for",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

UtilityByGrouping = dict[tuple[str, ...], list[Utility]]
"""Utility per group, keyed by the grouping's columns (``()``: overall, one ``overall`` row)."""

DropIntervals = dict[tuple[str, ...], list[dict[str, Interval | None]]]
"""Per grouping, in the order of :data:`UtilityByGrouping`'s groups: each measure's interval
of the cost of DP (``None`` where it has none)."""


def measures_for(task: Task) -> tuple[Measure, ...]:
    """The utility measures of ``task``: errors for regression, else accuracy and AUC."""
    return REGRESSION_MEASURES if task is Task.REGRESSION else BINARY_MEASURES


@dataclass(frozen=True)
class SweepPoint:
    """One model of the epsilon sweep: its label, its training and its holdout utility."""

    label: str
    report: TrainingReport
    utility: UtilityByGrouping


@dataclass(frozen=True)
class PrivacyMeasurement:
    """Everything one run of the privacy auditor measured.

    Attributes
    ----------
    task:
        Binary or regression.
    measures:
        The utility measures of the task.
    report:
        How the DP model (at the target epsilon) was trained.
    stand_in:
        Whether the DP model is a stand-in for a model that is not a PyTorch network.
    architecture:
        The DP model's JSON-safe description.
    training_rows, holdout_rows:
        Sizes of the training split and of the holdout.
    majority_share:
        Binary task: the training split's share of its most common class, the accuracy a
        reference must beat on its own training rows to have learned anything.
    reference_fit:
        Binary task: the reference's accuracy and AUC on its training split; empty for
        regression.
    scaling:
        Regression: the training target's (mean, scale); ``None`` for a binary task.
    groupings:
        The sensitive groupings found in the holdout, in order.
    holdout_unseen:
        Whether the audited model never saw the holdout (see
        :attr:`~audit.auditors.privacy.split.Split.holdout_unseen`).
    audited:
        Holdout utility of the audited model per grouping; ``None`` when the holdout holds
        rows it was trained on.
    reference:
        Holdout utility of the non-private reference: the DP model's class, trained on the
        same split with the same settings, without DP.
    reference_report:
        How the reference was trained.
    dp:
        Holdout utility of the DP model, per grouping.
    drop_intervals:
        Confidence intervals of the cost of DP (reference against DP model), per grouping
        and group, at the configured level.
    sweep:
        The models of the epsilon sweep (and the non-private one), in order.
    attack:
        The membership attack on the audited model, or why it was not run.
    dp_attack:
        The membership attack on the DP model (training split against holdout).
    saved:
        The folder the DP model was saved in, or ``None``.
    warnings:
        What the reader must know, in order, without repeats.
    """

    task: Task
    measures: tuple[Measure, ...]
    report: TrainingReport
    stand_in: bool
    architecture: dict[str, Any]
    training_rows: int
    holdout_rows: int
    majority_share: float | None
    reference_fit: dict[str, float | None]
    scaling: tuple[float, float] | None
    groupings: tuple[tuple[str, ...], ...]
    holdout_unseen: bool | None
    audited: UtilityByGrouping | None
    reference: UtilityByGrouping
    reference_report: TrainingReport
    dp: UtilityByGrouping
    drop_intervals: DropIntervals
    sweep: tuple[SweepPoint, ...]
    attack: AttackResult | str
    dp_attack: AttackResult
    saved: str | None
    warnings: tuple[str, ...]

    @property
    def regression(self) -> bool:
        """Whether the task is regression."""
        return self.task is Task.REGRESSION

    @property
    def expected_batch_size(self) -> float:
        """Rows in an average Poisson batch of the DP training: sample rate x training rows."""
        return self.report.sample_rate * self.training_rows


def audited_members(context: AuditContext, column: str | None) -> BoolArray | None:
    """True on the rows ``column`` marks as training rows of the audited model.

    ``None`` without a column.  Missing values count as not members; the values are
    booleans or 0/1 (:func:`~audit.auditors.privacy.inputs.input_problem` checks them).
    """
    if column is None:
        return None
    values = context.data[column]
    return np.asarray(values.notna() & (values == 1), dtype=bool)


def _split_notes(split: Split, column: str | None, planned: int) -> list[str]:
    """What the reader must know about the holdout and the audited model's training rows.

    ``planned`` is the holdout's size without membership: with too few non-members the
    holdout is all of them, and the reader must know it shrank.
    """
    if split.holdout_unseen is None:
        return [NOTE_MEMBERSHIP_UNKNOWN]
    if split.holdout_unseen is False:
        return [NOTE_ALL_MEMBERS.format(column=column)]
    if len(split.holdout) < planned:
        return [NOTE_SMALL_HOLDOUT.format(column=column, rows=len(split.holdout), planned=planned)]
    return []


def holdout_groupings(data: Any, sensitive: tuple[str, ...], split: Split) -> list[Grouping]:
    """The sensitive groupings of the holdout, with every group of the sampled rows.

    The groups are found on the training split and the holdout together, so that a group
    with no holdout row is listed (with 0 rows, never judged) instead of silently missing.
    """
    if not sensitive:
        return []
    sampled = np.sort(np.concatenate([split.train, split.holdout]))
    position = np.searchsorted(sampled, split.holdout)
    return [
        replace(g, codes=g.codes[position])
        for g in groupings_for(data.iloc[sampled], sensitive, intersectional=True)
    ]


def measure_privacy(context: AuditContext, settings: PrivacyConfig) -> PrivacyMeasurement:
    """Split, retrain with DP, sweep, compare utility, attack and save, for ``context``.

    The context must have passed :func:`~audit.auditors.privacy.inputs.input_problem`;
    a failing training raises (the auditor turns it into a reason).
    """
    return _Retraining(context, settings).measurement()


@dataclass(frozen=True)
class _Point:
    label: str
    trained: TrainedModel
    utility: UtilityByGrouping


class _Retraining:
    """One run: split, retrain, sweep; then compare, attack and save."""

    def __init__(self, context: AuditContext, settings: PrivacyConfig) -> None:
        self.context = context
        self.settings = settings
        self.seed = abs(int(context.seed))
        self.task = context.outcomes.task
        self.regression = self.task is Task.REGRESSION
        data = context.data
        self.warnings: list[str] = []
        self.columns = self._columns()
        self.members = audited_members(context, settings.membership_column)
        self.split: Split = split_rows(
            len(data),
            holdout_fraction=settings.holdout_fraction,
            max_rows=settings.max_rows,
            seed=self.seed,
            audited_members=self.members,
        )
        planned = holdout_size(
            len(data), holdout_fraction=settings.holdout_fraction, max_rows=settings.max_rows
        )
        self.warnings.extend(_split_notes(self.split, settings.membership_column, planned))
        y_true = np.asarray(context.outcomes.y_true)
        self.y_true: FloatArray | IntArray = (
            y_true.astype(np.float64) if self.regression else y_true.astype(np.int64)
        )
        train_rows = data.iloc[self.split.train]
        self.retrainable = self._retrainable(train_rows)
        self.x_train = self.retrainable.encode(train_rows.loc[:, self.columns])
        self.x_hold = self.retrainable.encode(data.iloc[self.split.holdout].loc[:, self.columns])
        self.labels, self.scaling = self._training_labels()
        if not self.regression and len(np.unique(self.labels)) < 2:
            raise Unmeasurable(
                ERR_ONE_CLASS_TRAINING.format(
                    rows=len(self.labels), label=int(self.labels[0]) if len(self.labels) else 0
                )
            )
        self.device = choose_device(settings.device)
        sampled = data.iloc[np.sort(np.concatenate([self.split.train, self.split.holdout]))]
        encoding = self.retrainable.encoding
        missing = encoding.unreadable_numbers(sampled) if encoding is not None else []
        if missing:
            self.warnings.append(NOTE_MISSING_NUMBERS.format(columns=", ".join(missing)))
        n_train = len(self.split.train)
        if settings.target_delta >= 1 / n_train:
            self.warnings.append(
                NOTE_LARGE_DELTA.format(
                    delta=settings.target_delta, rows=n_train, bound=1 / n_train
                )
            )
        self.groupings: list[Grouping] = holdout_groupings(
            data, tuple(context.roles.sensitive), self.split
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
            self.reference = self._train(None)
            bar.update(1)
            self.sweep = self._sweep(bar)
        finally:
            bar.close()
        self.main_hold = self.predict(self.main, self.x_hold)
        self.saved = self._save()

    # ------------------------------------------------------------------ training

    def _columns(self) -> list[str]:
        """The columns the DP model reads: the model's, never the membership column."""
        model_columns = self.context.model.input_columns
        columns = [str(c) for c in (model_columns or self.context.roles.features)]
        column = self.settings.membership_column
        if column is not None and column in columns:
            columns.remove(column)
            self.warnings.append(NOTE_MEMBERSHIP_NOT_A_FEATURE.format(column=column))
        return columns

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
        out = module_outputs(trained.module, self.retrainable.head, inputs)
        if self.scaling is None:
            return out
        mean, scale = self.scaling
        return out * scale + mean

    def _sweep(self, bar: Any) -> list[_Point]:
        points: list[_Point] = []
        targets = sorted(set(self.settings.sweep_epsilons))
        for epsilon in targets:
            bar.update(1)
            try:
                trained = (
                    self.main if epsilon == self.settings.target_epsilon else self._train(epsilon)
                )
            except Unmeasurable as exc:  # a sweep point out of reach leaves the others
                self.warnings.append(f"the sweep's \u03b5={epsilon:g} was not trained: {exc}")
                continue
            points.append(_Point(f"\u03b5={epsilon:g}", trained, self._dp_utility(trained)))
        if self.settings.sweep_non_private:
            points.append(_Point("non-private", self.reference, self._dp_utility(self.reference)))
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
            "class_labels": None if self.regression else class_labels(self.context),
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

    # ------------------------------------------------------------------ utility

    def _utility(
        self, predicted: FloatArray | None, labels: FloatArray | IntArray
    ) -> UtilityByGrouping:
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

        found: UtilityByGrouping = {(): measure(None)}
        for grouping in self.groupings:
            found[grouping.columns] = measure(grouping)
        return found

    def _dp_utility(self, trained: TrainedModel) -> UtilityByGrouping:
        out = self.predict(trained, self.x_hold)
        if self.regression:
            return self._utility(None, out)
        return self._utility(out, (out >= 0.5).astype(np.int64))

    def original_utility(self) -> UtilityByGrouping | None:
        """The audited model's utility on the holdout, from the audit's outcomes.

        ``None`` when the holdout holds rows it was trained on (every audit row is one).
        """
        if self.split.holdout_unseen is False:
            return None
        outcomes = self.context.outcomes
        hold = self.split.holdout
        if self.regression:
            return self._utility(None, np.asarray(outcomes.y_pred, dtype=np.float64)[hold])
        labels = np.asarray(outcomes.y_pred).astype(np.int64)[hold]
        score = outcomes.y_score
        scores = None if score is None else np.asarray(score, dtype=np.float64)[hold]
        return self._utility(scores, labels)

    def main_utility(self) -> UtilityByGrouping:
        """The DP utility of the main model (the target epsilon's point of the sweep)."""
        for point in self.sweep:
            if point.trained is self.main:
                return point.utility
        return self._dp_utility(self.main)

    def drop_intervals(self) -> DropIntervals:
        """Intervals of the cost of DP per grouping and group: Newcombe or paired bootstrap."""
        y = self.y_true[self.split.holdout]
        reference = self.predict(self.reference, self.x_hold)
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, 11]))
        found: DropIntervals = {}
        for grouping in [None, *self.groupings]:
            key = () if grouping is None else grouping.columns
            found[key] = [
                {
                    m.key: self._drop_interval(
                        m, y[rows], reference[rows], self.main_hold[rows], rng
                    )
                    for m in measures_for(self.task)
                }
                for _, rows in group_rows(len(y), grouping)
            ]
        return found

    def _drop_interval(
        self,
        measure: Measure,
        y: FloatArray | IntArray,
        reference: FloatArray,
        dp: FloatArray,
        rng: np.random.Generator,
    ) -> Interval | None:
        level = self.settings.confidence_level
        if measure.key == "accuracy":
            return paired_difference_interval(
                (reference >= 0.5) == (y == 1), (dp >= 0.5) == (y == 1), level
            )
        return bootstrap_drop_interval(
            measure,
            y,
            reference,
            dp,
            resamples=self.settings.bootstrap,
            confidence_level=level,
            rng=rng,
        )

    def _majority_share(self) -> float | None:
        """The training split's share of its most common class (binary tasks)."""
        if self.regression:
            return None
        share = float(np.mean(self.labels))
        return max(share, 1.0 - share)

    def _reference_fit(self) -> dict[str, float | None]:
        """The reference's accuracy and AUC on its own training split (binary tasks)."""
        if self.regression:
            return {}
        scores = self.predict(self.reference, self.x_train)
        labels = self.labels.astype(np.int64)
        return {
            "accuracy": accuracy(labels, (scores >= 0.5).astype(np.int64)),
            "auc": auc(labels, scores),
        }

    # ------------------------------------------------------------------ attacks

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
        if column is None or self.members is None:
            original = ERR_MEMBERSHIP_UNKNOWN
        elif audited is None:
            original = ERR_NO_SCORES
        else:
            rows = np.sort(np.concatenate([self.split.train, self.split.holdout]))
            member = self.members[rows]
            losses = self.losses(rows, np.asarray(audited, dtype=np.float64)[rows])
            if min(int(member.sum()), int((~member).sum())) < 2:
                original = ERR_MEMBERSHIP_COUNTS.format(
                    column=column, members=int(member.sum()), others=int((~member).sum())
                )
            else:
                original = loss_threshold_attack(
                    losses[member], losses[~member], bootstrap=boot, confidence_level=level, rng=rng
                )
        return original, dp

    # ------------------------------------------------------------------ result

    def measurement(self) -> PrivacyMeasurement:
        """Everything measured, as plain numbers."""
        audited = self.original_utility()
        dp = self.main_utility()
        reference = self._dp_utility(self.reference)
        attack, dp_attack = self.attacks()
        return PrivacyMeasurement(
            task=self.task,
            measures=measures_for(self.task),
            report=self.main.report,
            stand_in=self.retrainable.stand_in,
            architecture=dict(self.retrainable.architecture),
            training_rows=len(self.split.train),
            holdout_rows=len(self.split.holdout),
            majority_share=self._majority_share(),
            reference_fit=self._reference_fit(),
            scaling=self.scaling,
            groupings=tuple(g.columns for g in self.groupings),
            holdout_unseen=self.split.holdout_unseen,
            audited=audited,
            reference=reference,
            reference_report=self.reference.report,
            dp=dp,
            drop_intervals=self.drop_intervals(),
            sweep=tuple(SweepPoint(p.label, p.trained.report, p.utility) for p in self.sweep),
            attack=attack,
            dp_attack=dp_attack,
            saved=self.saved,
            warnings=tuple(dict.fromkeys(self.warnings)),
        )
