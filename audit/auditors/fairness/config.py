"""Settings of the fairness auditor (a policy's ``auditors.fairness`` block)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["FairnessConfig", "LL144Config"]


class LL144Config(BaseModel):
    """How NYC Local Law 144's category tables are formed (6 RCNY §§ 5-300, 5-301).

    These settings change only the ``ll144_rate`` metric and its tables, never the
    other fairness metrics, so another law's requirement is not affected by them.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    exclude_below_share: float = Field(
        0.02,
        ge=0.0,
        lt=1.0,
        description=(
            "Categories holding less than this share of the data are left out of the impact "
            "ratios and listed (6 RCNY § 5-301 allows 0.02)."
        ),
    )
    rate: Literal["auto", "selection", "scoring"] = Field(
        "auto",
        description=(
            "'selection': the share of each category selected; 'scoring': the share scoring "
            "above the median score of the full sample (6 RCNY § 5-300); 'auto': scoring for a "
            "model that outputs a score (regression), selection for one that decides."
        ),
    )
    sex: str | None = Field(None, description="The column holding sex categories.")
    race: str | None = Field(None, description="The column holding race/ethnicity categories.")


class FairnessConfig(BaseModel):
    """How the fairness auditor forms groups and estimates uncertainty."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_group_size: int = Field(
        30,
        ge=1,
        description="Groups with fewer rows are reported but never compared with others.",
    )
    exclude_below_share: float = Field(
        0.0,
        ge=0.0,
        lt=1.0,
        description=(
            "Groups holding less than this share of the rows are excluded from every "
            "fairness comparison and listed as excluded. NYC LL144's 2% rule belongs in "
            "'ll144' instead, where it changes no other law's requirement."
        ),
    )
    unknown_group: Literal["compare", "exclude"] = Field(
        "compare",
        description=(
            "Rows with a missing sensitive value form the group 'unknown'; 'exclude' reports "
            "its size but keeps it out of comparisons (as NYC LL144 audits do)."
        ),
    )
    intersectional: bool = Field(
        True, description="Also measure the combinations of all sensitive columns."
    )
    groupings: tuple[tuple[str, ...], ...] = Field(
        (),
        description=(
            "More combinations of sensitive columns to measure, e.g. [[sex, race]] when "
            "age is also sensitive; the policy's requirements that list columns in group_by "
            "add theirs. Combinations naming a column that is not sensitive are ignored."
        ),
    )
    rate_interval: Literal["wilson", "clopper-pearson", "bootstrap"] = Field(
        "wilson",
        description=(
            "Confidence intervals of the per-group rates (binary tasks): 'wilson' (Wilson "
            "score), 'clopper-pearson' (exact), or 'bootstrap' (percentile intervals of "
            "'bootstrap' resamples, which collapse to [0, 0] at a rate of 0)."
        ),
    )
    bootstrap: int = Field(
        200,
        ge=0,
        le=10_000,
        description=(
            "Bootstrap resamples for confidence intervals of regression errors, and of rates "
            "when rate_interval is 'bootstrap'; 0 = none."
        ),
    )
    confidence_level: float = Field(0.95, gt=0.0, lt=1.0)
    strata: str | None = Field(
        None,
        description=(
            "A column whose values are strata (job, location, period): each group is also "
            "compared with the reference group within strata (Cochran-Mantel-Haenszel test, "
            "Mantel-Haenszel common odds ratio, Breslow-Day test); in-memory engine only."
        ),
    )
    ll144: LL144Config | None = Field(
        None,
        description=(
            "NYC LL144 category tables and the 'll144_rate' metric: sex, race/ethnicity and "
            "their intersection, with LL144's own exclusion rule; left out: none."
        ),
    )
    significance_level: float = Field(
        0.05,
        gt=0.0,
        lt=1.0,
        description=(
            "Below this p-value the evidence tables read a group's lower selection rate as "
            "larger than chance would explain (Fisher's exact test, one-sided)."
        ),
    )
