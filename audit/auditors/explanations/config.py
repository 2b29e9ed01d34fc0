"""Settings of the explanations auditor (the policy's ``auditors.explanations`` block)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["DEFAULT_SAMPLES", "ExplanationsConfig", "Method"]

Method = Literal[
    "integrated_gradients", "feature_ablation", "shapley_value_sampling", "kernel_shap"
]
"""Attribution methods: Integrated Gradients needs a PyTorch model; the others any model."""

DEFAULT_SAMPLES: dict[str, int] = {"shapley_value_sampling": 25, "kernel_shap": 200}
"""``n_samples`` when left unset: permutations (Shapley) or coalitions (Kernel SHAP)."""


class ExplanationsConfig(BaseModel):
    """How the explanations auditor attributes the model's scores to the user's columns.

    Examples
    --------
    >>> ExplanationsConfig().n_rows, ExplanationsConfig(method="kernel_shap").samples()
    (200, 200)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Literal["auto"] | Method = Field(
        "auto",
        description="'auto': Integrated Gradients for PyTorch models, Shapley value "
        "sampling for every other model.",
    )
    compare_with: Literal["auto", "none"] | Method = Field(
        "auto",
        description="A second method whose global importance is compared with the first "
        "('auto': feature ablation, gradient-free); 'none' skips it.",
    )
    n_rows: int = Field(200, ge=2, le=100_000, description="Rows sampled and explained.")
    n_samples: int | None = Field(
        None,
        ge=1,
        le=10_000,
        description="Permutations (Shapley) or coalitions (Kernel SHAP) per row; "
        "unset: 25 and 200.",
    )
    repeats: int = Field(
        2,
        ge=1,
        le=10,
        description="Runs of a sampling method with different seeds, for its stability.",
    )
    perturbations_per_eval: int | Literal["auto"] = Field(
        "auto",
        description="Perturbations per model call (Captum's knob); 'auto' fills each call "
        "up to rows_per_call rows, across rows and perturbations.",
    )
    rows_per_call: int | None = Field(
        None,
        ge=1,
        le=1_000_000,
        description="Most rows per model call; unset: the model adapter's batch size.",
    )
    baseline: Literal["median", "mean", "reference"] = Field(
        "median",
        description="The reference input of the attributions: per column the median "
        "(numbers) or most frequent value (categories) of the audited data, the mean "
        "(numbers; of the encoded inputs for PyTorch models) or most frequent value, or the "
        "row given in 'reference'.",
    )
    reference: dict[str, Any] | None = Field(
        None, description="The reference row, column -> value, when baseline is 'reference'."
    )
    baseline_values: dict[str, str | int | float | bool] | None = Field(
        None,
        description="Column -> the value that means 'absent' when the column is ablated, "
        "overriding 'baseline' for those columns. A chat model's prompt fields not named "
        "here are replaced by the neutral text 'not stated'.",
    )
    ig_steps: int = Field(50, ge=4, le=2000, description="Integrated Gradients path steps.")
    top_k: int = Field(3, ge=1, le=50, description="Columns in a top-k list and in reasons.")
    min_group_rows: int = Field(
        20, ge=1, description="Explained rows a group needs to be compared with others."
    )
    n_local: int = Field(10, ge=0, le=1000, description="Random rows shown explained.")
    adverse_per_group: int = Field(
        3, ge=0, le=100, description="Most adverse decisions explained per group."
    )
    reason_rows: int = Field(
        0,
        ge=0,
        le=100_000,
        description="Adverse decisions given their own principal reasons (a uniform random "
        "sample when the data holds more); 0: none.",
    )
    reason_reference: Literal["all_applicants", "near_cutoff"] = Field(
        "all_applicants",
        description="Whose average each applicant's reasons are measured against "
        "(Regulation B comment 9(b)(2)-5): a sample of all applicants, or the approved "
        "applicants of lowest score.",
    )
    reason_reference_rows: int = Field(
        100, ge=1, le=10_000, description="Reference applicants the average is taken over."
    )
    proxy_auc_threshold: float = Field(
        0.75,
        gt=0.5,
        le=1.0,
        description="A column whose probe AUC for a sensitive column reaches this is a proxy.",
    )
    proxy_rows: int = Field(
        20_000, ge=50, description="Most rows used to look for proxies (no model calls)."
    )

    @model_validator(mode="after")
    def _reference_given(self) -> ExplanationsConfig:
        if self.baseline == "reference" and not self.reference:
            raise ValueError("baseline 'reference' needs the reference row in 'reference'")
        if self.reference is not None and self.baseline != "reference":
            raise ValueError("'reference' is only read when baseline is 'reference'")
        if isinstance(self.perturbations_per_eval, int) and self.perturbations_per_eval < 1:
            raise ValueError("perturbations_per_eval must be 'auto' or an int >= 1")
        return self

    def samples(self, method: str | None = None) -> int:
        """``n_samples``, or the default of ``method`` (of :attr:`method` when not given)."""
        chosen = method or self.method
        return self.n_samples or DEFAULT_SAMPLES.get(chosen, DEFAULT_SAMPLES["kernel_shap"])
