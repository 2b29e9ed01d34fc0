"""What the privacy auditor's metrics mean, how it measures them, and their limits (words only)."""

from __future__ import annotations

from collections.abc import Mapping

from audit.auditors.privacy.config import PrivacyConfig
from audit.auditors.privacy.dp_training import BOOKKEEPING
from audit.core.protocols import MetricRange

__all__ = [
    "AUDITOR",
    "METRIC_RANGES",
    "ERR_AUDITED_SEEN",
    "ERR_FEW_ATTACK_ROWS",
    "ERR_MEMBERSHIP_COUNTS",
    "ERR_MEMBERSHIP_UNKNOWN",
    "ERR_NO_SCORES",
    "ERR_ONE_CLASS_TRAINING",
    "ERR_OTHER_TASK",
    "ERR_SMALL_HOLDOUT",
    "ERR_TORCH_REGRESSION",
    "ERR_UNTRAINED_REFERENCE",
    "ERR_WIDE_INTERVAL",
    "GROUPED",
    "LIMITATIONS",
    "METRICS",
    "NOTE_ALL_MEMBERS",
    "NOTE_LARGE_DELTA",
    "NOTE_MEMBERSHIP_NOT_A_FEATURE",
    "NOTE_MEMBERSHIP_UNKNOWN",
    "NOTE_MISSING_NUMBERS",
    "NOTE_SMALL_HOLDOUT",
    "NOTE_STAND_IN",
    "SCALARS",
    "clipping_text",
    "method_text",
]

AUDITOR = "privacy"

SCALARS: Mapping[str, str] = {
    "epsilon": "Epsilon spent by the DP model's training, from the Opacus accountant.",
    "delta": "Delta of the DP model's (epsilon, delta) guarantee.",
    "accuracy_drop": (
        "The cost of DP: holdout accuracy of the non-private reference (the DP model's "
        "class, split and settings, trained without DP) minus that of the DP model."
    ),
    "auc_drop": (
        "The cost of DP: holdout ROC AUC of the non-private reference minus the DP model's."
    ),
    "mae_increase": (
        "The cost of DP, regression: holdout mean absolute error of the DP model minus that "
        "of the non-private reference, in the target's units."
    ),
    "rmse_increase": (
        "The cost of DP, regression: holdout root mean squared error of the DP model minus "
        "that of the non-private reference, in the target's units."
    ),
    "retrain_accuracy_drop": (
        "Not the cost of DP: holdout accuracy of the audited model minus that of the "
        "non-private reference, the change of model class and training rows."
    ),
    "retrain_auc_drop": (
        "Not the cost of DP: holdout ROC AUC of the audited model minus the non-private "
        "reference's."
    ),
    "retrain_mae_increase": (
        "Not the cost of DP, regression: holdout MAE of the non-private reference minus the "
        "audited model's."
    ),
    "retrain_rmse_increase": (
        "Not the cost of DP, regression: holdout RMSE of the non-private reference minus the "
        "audited model's."
    ),
    "attack_auc": (
        "ROC AUC of a loss-threshold membership attack on the audited model (0.5 = chance); "
        "needs membership_column."
    ),
    "attack_advantage": (
        "TPR - FPR of a loss-threshold membership attack on the audited model, cross-fitted "
        "(each half's best threshold scored on the other half; 0 = the attacker does no "
        "better than chance); needs membership_column."
    ),
    "dp_attack_auc": "ROC AUC of the same attack on the DP model (training split vs holdout).",
    "dp_attack_advantage": (
        "Cross-fitted TPR - FPR of the same attack on the DP model (training split vs holdout)."
    ),
}
GROUPED: Mapping[str, str] = {
    "accuracy_drop_by_group": (
        "The cost of DP per group: holdout accuracy of the non-private reference minus that "
        "of the DP model; at_most judges the worst group."
    ),
    "auc_drop_by_group": (
        "The cost of DP per group: holdout ROC AUC of the non-private reference minus the DP "
        "model's."
    ),
    "mae_increase_by_group": (
        "The cost of DP per group, regression: holdout MAE of the DP model minus the "
        "non-private reference's; at_most judges the worst group."
    ),
    "rmse_increase_by_group": (
        "The cost of DP per group, regression: holdout RMSE of the DP model minus the "
        "non-private reference's."
    ),
}
METRICS: Mapping[str, str] = {**SCALARS, **GROUPED}
METRIC_RANGES: Mapping[str, MetricRange] = {
    "epsilon": (0.0, None),
    "delta": (0.0, 1.0),
    **{name: (0.0, 1.0) for name in ("attack_auc", "dp_attack_auc")},
    **{
        name: (-1.0, 1.0)  # differences of accuracies, AUCs or rates
        for name in METRICS
        if name.endswith(("_drop", "_drop_by_group", "advantage"))
    },
}
"""The values each metric can take; error increases are in the target's units."""

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
ERR_MEMBERSHIP_COUNTS = (
    "membership column {column!r} marks {members} of the sampled rows as members and "
    "{others} as non-members; the attack needs at least two of each"
)
ERR_AUDITED_SEEN = (
    "membership column {column!r} leaves fewer than two sampled rows that the audited model "
    "was not trained on, so its utility on unseen rows cannot be measured"
)
NOTE_MEMBERSHIP_UNKNOWN = (
    "membership_column is not set, so the holdout may hold rows the audited model was "
    "trained on: its holdout utility (and the retrain_* comparisons) may be optimistic. The "
    "cost of DP (accuracy_drop and the other judged drops) compares two models trained on "
    "the same split and is not affected."
)
NOTE_ALL_MEMBERS = (
    "membership column {column!r} leaves fewer than two sampled rows that the audited model "
    "was not trained on, so the holdout holds its training rows and its utility is not "
    "reported; the cost of DP is measured as usual."
)
NOTE_SMALL_HOLDOUT = (
    "membership column {column!r} leaves {rows} sampled rows that the audited model was not "
    "trained on, so the holdout is those {rows} rows instead of {planned}: the cost of DP and "
    "the attacks are measured on fewer rows than planned."
)
ERR_SMALL_HOLDOUT = (
    "the holdout has {rows} rows, fewer than min_group_size ({minimum}), too few to compare utility"
)
ERR_ONE_CLASS_TRAINING = (
    "the training split ({rows} rows) holds only class {label} of the target, so neither the "
    "DP model nor its non-private reference can learn anything and the cost of DP cannot be "
    "measured; audit more rows, or rows with both classes"
)
ERR_UNTRAINED_REFERENCE = (
    "the non-private reference's {measure} on its own training split ({value:.3f}) is no "
    "better than {floor} "
    "({baseline:.3f}) after {steps} training step(s), so it learned nothing to lose: the cost "
    "of DP in {measure} is not measured (train more epochs or audit more rows)"
)
ERR_WIDE_INTERVAL = (
    "its {level} interval [{low:.3f}, {high:.3f}] is {width:.3f} wide, wider than "
    "max_interval_width ({maximum:g}): too few rows to tell, so it may fail but never pass"
)
ERR_FEW_ATTACK_ROWS = (
    "the attack has {members} members and {others} non-members; each needs at least "
    "min_group_size ({minimum}) for its AUC and advantage to be judged"
)
NOTE_MISSING_NUMBERS = (
    "numeric column(s) with missing or non-numeric values: {columns}; the DP model and its "
    "reference read them as the training split's mean (0 once standardised), the audited "
    "model as it handles them."
)
NOTE_LARGE_DELTA = (
    "target_delta {delta:g} is not below 1 / training rows (1/{rows} = {bound:.3g}): a "
    "guarantee with such a delta allows publishing some training rows outright; keep delta "
    "well below it."
)
NOTE_MEMBERSHIP_NOT_A_FEATURE = (
    "membership column {column!r} is not a feature: the DP model and its reference do not "
    "read it, and it is not among the saved model's columns."
)
ERR_TORCH_REGRESSION = (
    "the torch adapter reads this network's output as classifier scores (output={output!r}), "
    "so the audited utility below is of those scores, not of regression values; the DP "
    "network is retrained as a regressor (declare a regressor with "
    "TorchAdapter(..., output='values'))"
)

LIMITATIONS = (
    "The DP model is retrained on a split of the audit data, not on the audited model's own "
    "training data; its cost estimates what DP training would cost on data like this.",
    "The cost of DP compares the DP model with the same model class trained on the same "
    "split without DP; the audited model's own utility is shown beside it, and differs from "
    "the reference by the change of model class and training rows, which DP does not cause.",
    "The audited model's utility is measured on rows it never saw only when membership_column "
    "marks its training rows (the holdout is then drawn from the other rows); without it, "
    "rows it was trained on may be in the holdout and its utility may be optimistic.",
    "Epsilon is an upper bound from the accountant for the stated delta; it covers the DP "
    "model's training only, not the choice of its hyperparameters or of the epsilon sweep.",
    "The noise comes from a pseudo-random generator (torch's; Opacus's secure_mode is off): "
    "fine for measuring the cost, but a model to deploy must be retrained with a "
    "cryptographically secure noise source (Opacus's secure_mode).",
    "Threat model: the (epsilon, delta) guarantee is record-level, for the DP model's training "
    "split only (not the audited model, not its training data), against an adversary who "
    "sees the trained model and knows every other training row. Opacus's accountant assumes "
    "that each batch is a Poisson sample (each row taken independently at rate q, as here) "
    "and Gaussian noise of the stated multiplier on the sum of clipped gradients.",
    "The loss-threshold attack is a weak, cheap attacker: an AUC near 0.5 or an advantage "
    "near 0 means no leakage measurable by this attack on these rows, not that there is no "
    "leakage; stronger attacks (shadow models, LiRA) can find more, and on a few hundred "
    "rows its interval is wide.",
    "Differential privacy limits what the model reveals about any one training row; it does "
    "not make the model fair, and its cost often falls unevenly on groups (the per-group "
    "drops above).",
    "Per-group drops on small groups are noisy: groups under min_group_size, and drops or "
    "attack figures whose interval is wider than max_interval_width, are reported and never "
    "passed. Accuracy drops use Newcombe's paired interval (1998, method 10); AUC drops, "
    "error increases and the attack use percentile bootstrap intervals.",
    "Outside the DP guarantee: a stand-in's encoding (means, scales and categories of the "
    "columns) and, for regression, the target's mean and scale are fitted on the training "
    "split without noise.",
)


def clipping_text(mode: str) -> str:
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


def method_text(
    settings: PrivacyConfig,
    *,
    regression: bool = False,
    stand_in: bool = True,
    mode: str | None = None,
    device: str | None = None,
) -> str:
    """The method paragraph: how the DP model was trained, compared and attacked.

    Parameters
    ----------
    settings:
        The auditor's settings.
    regression:
        Whether the task is regression.
    stand_in:
        Whether the DP model is a stand-in (``True`` too when nothing was trained).
    mode:
        The per-sample-gradient engine used (``None``: the configured one).
    device:
        Where the DP model was trained (``None``: not trained).
    """
    where = f" on {device}" if device else " (CUDA when available, else CPU)"
    model = (
        "a stand-in (a DP logistic regression, or for regression a linear regression, or an "
        "MLP, on the same columns: one-hot categories and standardised numbers fitted on the "
        "training split)"
        if stand_in
        else "the audited PyTorch network, deep-copied with its parameters reset"
    )
    clipping = clipping_text(mode if mode is not None else settings.grad_sample_mode)
    if regression:
        task = (
            "Both are trained with squared error on the target standardised by its "
            "training-split mean and scale, and predict in the target's units. On the holdout, "
            "mean absolute and root mean squared error are measured overall and per sensitive "
            "group for three models: the audited model (its recorded predictions), the "
            "non-private reference and the DP model"
        )
        judged = "mae_increase and rmse_increase (and _by_group) are the DP model's error "
        judged += "minus the reference's"
        retrain = "retrain_mae_increase and retrain_rmse_increase are the reference's error "
        retrain += "minus the audited model's"
        loss = "squared error"
    else:
        task = (
            "Labels are the audit's ground truth (the target compared with the positive "
            "label). On the holdout, accuracy and AUC are measured overall and per sensitive "
            "group for three models: the audited model (its recorded decisions and scores), "
            "the non-private reference and the DP model"
        )
        judged = "accuracy_drop and auc_drop (and _by_group) are the reference's value "
        judged += "minus the DP model's"
        retrain = "retrain_accuracy_drop and retrain_auc_drop are the audited model's value "
        retrain += "minus the reference's"
        loss = "cross-entropy"
    return (
        f"The audit rows (at most {settings.max_rows}) are split at random, seeded, into a "
        f"training split and a {settings.holdout_fraction:.0%} holdout; with membership_column "
        "the holdout is drawn only from rows the audited model was not trained on. The DP "
        f"model is {model}, trained on the training split with DP-SGD{where}: Opacus finds "
        f"the noise multiplier for the target (epsilon={settings.target_epsilon:g}, "
        f"delta={settings.target_delta:g}) over {settings.epochs} epochs, as "
        "make_private_with_epsilon does; batches are Poisson samples, each row in each "
        "batch independently (the distribution of Opacus's sampler, drawn as the geometric "
        "gaps between taken rows), at sample rate q = 1 / ceil(training rows / "
        f"{settings.batch_size}) (one over the batches per epoch of batch_size "
        f"{settings.batch_size}; the expected batch is q x training rows); each row's "
        f"gradient is clipped to L2 norm {settings.max_grad_norm:g} and Gaussian noise added "
        f"to the clipped sum ({clipping}); epsilon is read from Opacus's "
        f"{settings.accountant.upper()} accountant. The non-private reference is the same "
        "model class trained on the same split with the same settings without DP. "
        f"{task}. The cost of DP is the reference against the DP model: {judged}. The change "
        f"of model and training rows, which is not the cost of DP, is {retrain}. The sweep "
        "retrains at each epsilon. Membership inference is the loss-threshold attack "
        f"(Yeom et al., 2018) on the per-row {loss}: for the DP model the training split are "
        "members and the holdout non-members; for the audited model members are the rows "
        "marked by membership_column (when given). The attack's advantage is cross-fitted: "
        "the best threshold of one random half of the rows is scored on the other half, so "
        "that it is not biased upward. Attack intervals are percentile bootstrap intervals "
        f"({settings.bootstrap} resamples)."
    )
