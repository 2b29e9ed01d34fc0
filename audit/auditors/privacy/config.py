"""Settings of the privacy auditor (the policy's ``auditors.privacy`` block)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["DEFAULT_SWEEP", "GradSampleMode", "PrivacyConfig"]

DEFAULT_SWEEP: tuple[float, ...] = (0.5, 1.0, 3.0, 8.0)
"""Target epsilons of the utility sweep when left unset."""

GradSampleMode = Literal["bookkeeping", "hooks", "ghost", "ew", "functorch"]
"""How each row's gradient is clipped: ``bookkeeping`` (linear layers and elementwise
activations: row norms in closed form and the clipped sum in one backward pass; see
:mod:`audit.auditors.privacy.bookkeeping`), or one of Opacus's engines: layer hooks, ghost
clipping (row norms without the row gradients, two backward passes), expanded weights,
functorch."""


class PrivacyConfig(BaseModel):
    """How the privacy auditor retrains with DP-SGD, measures utility and attacks the models.

    Examples
    --------
    >>> PrivacyConfig().target_epsilon, PrivacyConfig().accountant
    (3.0, 'rdp')
    >>> PrivacyConfig(sweep_epsilons=[1, 8]).sweep_epsilons
    (1.0, 8.0)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    target_epsilon: float = Field(
        3.0, gt=0.0, le=100.0, description="Privacy budget epsilon the DP model is trained to."
    )
    target_delta: float = Field(
        1e-5,
        gt=0.0,
        lt=1.0,
        description="Privacy budget delta; keep it well below 1 / (training rows).",
    )
    accountant: Literal["rdp", "prv"] = Field(
        "rdp", description="Opacus privacy accountant: Renyi DP ('rdp') or PRV ('prv')."
    )
    max_grad_norm: float = Field(
        1.0, gt=0.0, description="Per-sample gradient clipping bound (L2 norm)."
    )
    epochs: int = Field(5, ge=1, le=1000, description="Passes over the training split.")
    batch_size: int = Field(
        256,
        ge=1,
        description="Batch size of the loader Opacus's DPDataLoader samples from: the Poisson "
        "sample rate is q = 1 / ceil(training rows / batch_size), one over the batches per "
        "epoch, and the expected batch is q x training rows (250, not 256, for 3,500 rows).",
    )
    learning_rate: float = Field(0.05, gt=0.0, le=10.0, description="Adam learning rate.")
    hidden_units: int = Field(
        0,
        ge=0,
        le=4096,
        description="Stand-in model for non-PyTorch models: 0 = logistic regression (linear "
        "regression for a regression task), otherwise a one-hidden-layer MLP of this width.",
    )
    holdout_fraction: float = Field(
        0.3,
        gt=0.0,
        lt=1.0,
        description="Share of the audit rows held out (utility, and non-members of the attack); "
        "with membership_column, drawn from the audited model's non-members only (all of "
        "them when they are fewer).",
    )
    max_rows: int = Field(
        50_000, ge=20, description="Most audit rows used (a seeded sample beyond this)."
    )
    sweep_epsilons: tuple[float, ...] = Field(
        DEFAULT_SWEEP, description="Target epsilons of the utility sweep; empty: no sweep."
    )
    sweep_non_private: bool = Field(
        True,
        description="Show the non-private reference (the same model trained without DP, "
        "always trained: the cost of DP is measured against it) as the sweep's last point.",
    )
    membership_column: str | None = Field(
        None,
        description="Data column that is true on the rows the audited model was trained on. "
        "The holdout is then drawn from the other rows (utility on rows the audited model "
        "never saw), the column is never a feature of the DP model, and the audited model's "
        "membership attack has known members; without it that attack is not run.",
    )
    grad_sample_mode: Literal["auto"] | GradSampleMode = Field(
        "auto",
        description="Per-sample-gradient mode; 'auto': 'bookkeeping' for linear layers with "
        "elementwise activations (one backward pass), else Opacus's ghost clipping for "
        "networks of several Linear/Embedding layers, else Opacus's 'hooks'.",
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="Where to train; 'auto': CUDA when available, else CPU."
    )
    min_group_size: int = Field(
        30,
        ge=1,
        description="Holdout rows a group needs for its drop to be compared; the whole "
        "holdout needs as many for the overall drops, and each side of a membership attack "
        "for its AUC and advantage to be judged.",
    )
    bootstrap: int = Field(
        200, ge=0, le=10_000, description="Bootstrap resamples of the attack; 0 = none."
    )
    confidence_level: float = Field(0.95, gt=0.0, lt=1.0)
    max_interval_width: float | None = Field(
        0.1,
        gt=0.0,
        description="Widest confidence interval (upper minus lower bound) of an accuracy or AUC "
        "drop, or of an attack's AUC or advantage, that may pass: a group whose drop's interval "
        "is wider is reported and not compared, a whole-holdout drop or an attack figure with a "
        "wider interval may fail but never pass (too few rows to tell). Error increases "
        "(regression, in the target's units) are not held to it. None: no such rule.",
    )
    output_dir: str = Field(
        "reports/privacy-model",
        min_length=1,
        description="Folder the DP model (state dict and metadata) is saved in.",
    )
    save_model: bool = Field(True, description="Save the DP model to output_dir.")

    @model_validator(mode="after")
    def _sweep_positive(self) -> PrivacyConfig:
        if any(not 0.0 < e <= 100.0 for e in self.sweep_epsilons):
            raise ValueError("every sweep epsilon must be in (0, 100]")
        return self
