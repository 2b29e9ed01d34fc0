"""The policy model: what a policy file may say, validated by pydantic.

A policy names the requirements an audit checks, each citing the legal or
standards text it implements, and the settings of the auditors that measure
them.  Every model forbids unknown fields and is frozen.  Errors raised here
carry pydantic locations; :mod:`audit.policy.loader` turns them into
``file:line: field: message`` one-liners.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from audit.core.findings import Severity

__all__ = [
    "REPORT_SECTIONS",
    "Comparison",
    "GroupBy",
    "Policy",
    "ReportSettings",
    "Requirement",
    "policy_json_schema",
]

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
"""The JSON Schema dialect of :func:`policy_json_schema`."""

SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
"""Requirement ids: lowercase letters, digits, ``-`` and ``_``, starting with a letter or digit."""

GROUP_BY_KEYWORDS = ("each", "intersection", "all")

GroupBy = Literal["each", "intersection", "all"] | tuple[str, ...]
"""How a requirement groups the population; see :attr:`Requirement.group_by`."""

REPORT_SECTIONS = ("nyc-ll144-summary",)
"""Optional report sections a policy can ask for (see :class:`ReportSettings`)."""

ReportSection = Literal["nyc-ll144-summary"]

_Text = Annotated[str, Field(strict=True, min_length=1)]
_OptionalText = Annotated[str, Field(strict=True)]


class Comparison(StrEnum):
    """How a requirement compares a metric with its threshold."""

    RATIO_TO_MAX = "ratio_to_max"
    """Each compared group's value divided by the highest group's value must be >= threshold
    (the four-fifths rule; NYC LL144's impact ratio)."""
    MAX_DIFFERENCE = "max_difference"
    """The highest minus the lowest value over the compared groups must be <= threshold."""
    AT_MOST = "at_most"
    """The value must be <= threshold; for a grouped metric, every compared group's value."""
    AT_LEAST = "at_least"
    """The value must be >= threshold; for a grouped metric, every compared group's value."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Requirement(_Frozen):
    """One checkable requirement: a metric, a comparison and a threshold, with its source."""

    id: Annotated[str, Field(strict=True, pattern=SLUG_PATTERN)] = Field(
        description="Unique id (lowercase letters, digits, '-', '_'); a child policy replaces "
        "a parent's requirement with the same id."
    )
    title: _Text = Field(description="Short title for reports.")
    citation: _Text = Field(
        description="The legal or standards text this requirement implements, cited precisely."
    )
    description: _OptionalText = Field("", description="Plain-language explanation.")
    auditor: _Text = Field(description="The auditor that measures the metric, e.g. 'fairness'.")
    metric: _Text = Field(description="The metric's name, e.g. 'selection_rate'.")
    compare: Comparison = Field(description="How the metric is compared with the threshold.")
    threshold: float = Field(
        strict=True,
        allow_inf_nan=False,
        description="ratio_to_max: in (0, 1]; max_difference: >= 0; at_most/at_least: any number.",
    )
    severity: Severity = Field(
        Severity.BLOCKING,
        description="'blocking' failures fail the audit; 'advisory' ones are only reported.",
    )
    group_by: GroupBy = Field(
        "all",
        description="'each': every sensitive column alone; 'intersection': all sensitive "
        "columns combined; 'all': both; a list: those columns combined.",
    )

    @field_validator("group_by", mode="before")
    @classmethod
    def _check_group_by(cls, value: Any) -> Any:
        if isinstance(value, str) and value in GROUP_BY_KEYWORDS:
            return value
        if isinstance(value, list | tuple):
            if not value:
                raise PydanticCustomError("group_by", "a list of columns must not be empty")
            if not all(isinstance(v, str) and v for v in value):
                raise PydanticCustomError("group_by", "a list of columns must hold column names")
            if len(set(value)) != len(value):
                raise PydanticCustomError("group_by", "a column is listed twice")
            return tuple(value)
        raise PydanticCustomError(
            "group_by",
            "expected 'each', 'intersection', 'all' or a list of column names, got {got}",
            {"got": _show(value)},
        )

    @model_validator(mode="after")
    def _check_threshold(self) -> Requirement:
        t = self.threshold
        if self.compare is Comparison.RATIO_TO_MAX and not 0.0 < t <= 1.0:
            raise PydanticCustomError(
                "threshold",
                "a ratio_to_max threshold must be in (0, 1], got {got}",
                {"got": _show(t)},
            )
        if self.compare is Comparison.MAX_DIFFERENCE and t < 0.0:
            raise PydanticCustomError(
                "threshold",
                "a max_difference threshold must be >= 0, got {got}",
                {"got": _show(t)},
            )
        return self


class ReportSettings(_Frozen):
    """What the policy adds to the report beyond findings and evidence."""

    sections: tuple[ReportSection, ...] = Field(
        (),
        description="Extra report sections: 'nyc-ll144-summary' adds the summary table "
        "NYC Local Law 144 requires to be published (6 RCNY \u00a7 5-301). Sections of "
        "extended policies are kept.",
    )


class Policy(_Frozen):
    """A named, versioned set of requirements and the auditor settings they need."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="maas-audit policy",
        json_schema_extra={
            "description": "A maas-audit policy: requirements, each citing its source, and "
            "auditor settings. See policies/README.md."
        },
    )

    name: _Text = Field(description="The policy's name, shown in reports.")
    version: _Text = Field(description='The policy\'s version, as a quoted string: "1.0".')
    description: _OptionalText = Field("", description="What the policy checks and why.")
    extends: str | tuple[str, ...] | None = Field(
        None,
        description="Pack names or relative paths of policies this one builds on, applied "
        "left to right; requirements with the same id are replaced.",
    )
    auditors: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Settings per auditor, e.g. 'fairness: {min_group_size: 30}'.",
    )
    requirements: tuple[Requirement, ...] = Field(
        (), description="The requirements; ids must be unique."
    )
    report: ReportSettings = Field(
        ReportSettings(sections=()),
        description="Extra report sections, e.g. 'sections: [nyc-ll144-summary]'.",
    )

    @field_validator("extends", mode="before")
    @classmethod
    def _check_extends(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and value):
            return value
        if (
            isinstance(value, list | tuple)
            and value
            and all(isinstance(v, str) and v for v in value)
        ):
            return tuple(value)
        raise PydanticCustomError(
            "extends",
            "expected a pack name, a relative path or a list of them, got {got}",
            {"got": _show(value)},
        )

    @field_validator("requirements")
    @classmethod
    def _unique_ids(cls, value: tuple[Requirement, ...]) -> tuple[Requirement, ...]:
        first: dict[str, int] = {}
        for i, requirement in enumerate(value):
            if requirement.id in first:
                raise PydanticCustomError(
                    "duplicate_id",
                    "duplicate requirement id '{id}' (first used at requirements[{first}])",
                    {"id": requirement.id, "first": first[requirement.id], "index": i},
                )
            first[requirement.id] = i
        return value

    @model_validator(mode="after")
    def _has_requirements(self) -> Policy:
        if not self.requirements and self.extends is None:
            raise PydanticCustomError(
                "no_requirements",
                "a policy needs at least one requirement, or 'extends:' naming one that has some",
            )
        return self


def policy_json_schema() -> dict[str, Any]:
    """Return the JSON Schema of policy files, for editors and ``maas-audit policy schema``.

    Returns
    -------
    dict
        A JSON Schema (draft 2020-12) without ``$id``; ``policies/schema.json`` holds
        exactly this, checked by a test.
    """
    schema = Policy.model_json_schema()
    return {"$schema": JSON_SCHEMA_DIALECT, **schema}


def _show(value: Any) -> str:
    """Render of a YAML value for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
