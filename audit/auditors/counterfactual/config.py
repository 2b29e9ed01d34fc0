"""Settings of the counterfactual auditor (a policy's ``auditors.counterfactual`` block)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["CounterfactualConfig"]


class CounterfactualConfig(BaseModel):
    """Which cue changes, to which groups, on how many base rows.

    Each base row is scored once per assigned group: the ``attribute`` column is set to
    the group (unless ``set_attribute`` is false), and every column in ``cues`` to that
    group's value.  Nothing else in the row changes, so a different decision is caused by
    the cue alone: the paired design of correspondence audit studies.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    attribute: str | None = Field(
        None,
        description=(
            "The sensitive column whose groups are assigned; default: the audit's first "
            "sensitive column."
        ),
    )
    groups: tuple[str, ...] = Field(
        (),
        description=(
            "The groups assigned to every base row, the first being the reference; default: "
            "the attribute's values in the data (at most 10), most frequent first. With "
            "set_attribute, each must be a value of the attribute in the data."
        ),
    )
    set_attribute: bool = Field(
        True,
        description=(
            "Set the attribute column itself to the assigned group (a tabular model reads it); "
            "false when only the cues carry the group (e.g. an LLM prompt shows a name)."
        ),
    )
    cues: dict[str, dict[str, tuple[str, ...]]] = Field(
        default_factory=dict,
        description=(
            "Columns set per assigned group, e.g. {first_name: {Female: [Emily, Anne], Male: "
            "[Greg, Brad]}}; base row i takes value i modulo the list's length, so paired "
            "rows take the same position of each group's list."
        ),
    )
    name_list: str | None = Field(
        None,
        description=(
            "A shipped list of first names per group (bertrand-mullainathan-2004: White and "
            "Black, 9 female then 9 male names each), written into name_column."
        ),
    )
    name_column: str = Field("first_name", description="The column name_list fills.")
    n_rows: int = Field(200, ge=2, le=100_000, description="Base rows sampled from the data.")
    max_examples: int = Field(
        10, ge=0, le=100, description="Flipped decisions shown as examples in the report."
    )
    confidence_level: float = Field(0.95, gt=0.0, lt=1.0)

    @model_validator(mode="after")
    def _check(self) -> CounterfactualConfig:
        if len(set(self.groups)) != len(self.groups):
            raise ValueError("groups must not repeat")
        if self.groups and len(self.groups) < 2:
            raise ValueError("name at least two groups to compare")
        for column, values in self.cues.items():
            for group, options in values.items():
                if not options:
                    raise ValueError(f"cues.{column}.{group} needs at least one value")
        return self
