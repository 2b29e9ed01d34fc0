"""Settings of the fairness auditor (a policy's ``auditors.fairness`` block)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["FairnessConfig"]


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
            "Groups holding less than this share of the rows are excluded from comparisons "
            "and listed as excluded (NYC LL144 allows 0.02)."
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
    bootstrap: int = Field(
        200, ge=0, le=10_000, description="Bootstrap resamples for confidence intervals; 0 = none."
    )
    confidence_level: float = Field(0.95, gt=0.0, lt=1.0)
