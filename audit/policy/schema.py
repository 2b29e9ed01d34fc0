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
from audit.yaml_marks import show as _show

__all__ = [
    "REPORT_SECTIONS",
    "Comparison",
    "GroupBy",
    "Policy",
    "ReportSettings",
    "ReportStatement",
    "Requirement",
    "ThresholdSource",
    "policy_json_schema",
]

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
"""The JSON Schema dialect of :func:`policy_json_schema`."""

SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
"""Requirement ids: lowercase letters, digits, ``-`` and ``_``, starting with a letter or digit."""

GROUP_BY_KEYWORDS = ("each", "intersection", "all")

GroupBy = Literal["each", "intersection", "all"] | tuple[str, ...]
"""How a requirement groups the population; see :attr:`Requirement.group_by`."""

REPORT_SECTIONS = ("nyc-ll144-summary", "eu-fria")
"""Optional report sections a policy can ask for (see :class:`ReportSettings`)."""

ReportSection = Literal["nyc-ll144-summary", "eu-fria"]

ThresholdSource = Literal["law", "benchmark", "policy"]
"""Where a requirement's threshold comes from; see :attr:`Requirement.threshold_source`."""

SIGNIFICANCE_METRICS = ("selection_rate", "ll144_rate")
"""Metrics whose groups' values and counts give selections to test (share of the group)."""

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
    SIGNIFICANCE = "significance"
    """No compared group's selection rate may be lower than the highest group's by more than
    chance would explain: every p-value (``test``, ``adjust``) must be >= ``alpha``."""
    ESTABLISHED = "established"
    """The metric, with its confidence interval, must have been established for every
    compared group (a whole-population metric: measured at all): whether the figure
    exists, not how high it is.  Takes no threshold, and no benchmark."""


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
        description="ratio_to_max: in (0, 1]; max_difference: >= 0; at_most/at_least: any "
        "number; established: leave it out.",
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
    if_single_column: Literal["not_applicable", "inconclusive"] = Field(
        "not_applicable",
        description="With group_by: intersection and one sensitive column there are no "
        "combined groups. 'not_applicable': the requirement does not apply (an INCONCLUSIVE "
        "finding saying so, which never gates the audit), for a policy's own extension to "
        "combined groups; 'inconclusive': the cited text asks for combined groups, so the "
        "finding is INCONCLUSIVE and gates as its severity says.",
    )
    threshold_source: ThresholdSource = Field(
        "law",
        description="Where the threshold comes from: 'law': the cited text sets it; "
        "'benchmark': the cited text sets none, and the threshold is a screening benchmark "
        "(reports show 'below/meets the benchmark', not PASS/FAIL next to the citation); "
        "'policy': the policy's own choice, stricter than or beside the cited text.",
    )
    citation_verified: bool | None = Field(
        None,
        description="true: the citation was checked against the text it cites "
        "(see citation_checked); false: it could not be checked, and reports mark it "
        "unverified; left out: not stated.",
    )
    citation_checked: _OptionalText = Field(
        "",
        description="The date (YYYY-MM-DD) the citation was last checked.",
    )
    alpha: float | None = Field(
        None,
        gt=0.0,
        lt=1.0,
        description="Significance level. With 'compare: significance' it is the bound "
        "every p-value must reach (the threshold may then be left out). With "
        "'ratio_to_max' it adds the combined rule: a group fails only when its ratio is "
        "under the threshold and its difference is significant (p < alpha).",
    )
    test: Literal["fisher", "fisher-mid-p", "z"] = Field(
        "fisher",
        description="The p-value used with alpha: 'fisher' (Fisher's exact test, "
        "one-sided), 'fisher-mid-p' (its mid-p), 'z' (pooled two-proportion z test, "
        "two-sided).",
    )
    adjust: Literal["none", "holm"] = Field(
        "none",
        description="'holm': adjust the p-values for testing several groups against the "
        "same reference group (Holm's method).",
    )

    @model_validator(mode="before")
    @classmethod
    def _established_has_no_threshold(cls, data: Any) -> Any:
        # 'compare: established' asks whether a figure exists: a threshold would be read as
        # a level the figure must reach, so none is accepted; the model holds 0 in its place,
        # which reports do not show (they read "established for every group")
        if not isinstance(data, dict) or data.get("compare") != Comparison.ESTABLISHED.value:
            return data
        if "threshold" in data:
            raise PydanticCustomError(
                "threshold",
                "compare: established takes no threshold (it checks that the figure and its "
                "interval exist for every group); leave threshold out",
            )
        if data.get("threshold_source") == "benchmark":
            raise PydanticCustomError(
                "threshold_source",
                "compare: established compares with no benchmark; use 'law' or 'policy'",
            )
        return {**data, "threshold": 0.0}

    @model_validator(mode="before")
    @classmethod
    def _alpha_is_the_threshold(cls, data: Any) -> Any:
        # 'compare: significance' with only 'alpha' given: the threshold is alpha
        if (
            isinstance(data, dict)
            and data.get("compare") == Comparison.SIGNIFICANCE.value
            and "threshold" not in data
            and isinstance(data.get("alpha"), float)
        ):
            return {**data, "threshold": data["alpha"]}
        return data

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
        if "if_single_column" in self.model_fields_set and self.group_by != "intersection":
            raise PydanticCustomError(
                "if_single_column", "if_single_column applies to group_by: intersection only"
            )
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
        return self._check_significance()

    def _check_significance(self) -> Requirement:
        significance = self.compare is Comparison.SIGNIFICANCE
        if significance and not 0.0 < self.threshold < 1.0:
            raise PydanticCustomError(
                "threshold",
                "a significance threshold is the level alpha, in (0, 1), got {got}",
                {"got": _show(self.threshold)},
            )
        if significance and self.alpha is not None and self.alpha != self.threshold:
            raise PydanticCustomError(
                "alpha", "with compare: significance, give alpha or threshold, not both"
            )
        uses_alpha = significance or self.alpha is not None
        if self.alpha is not None and self.compare not in (
            Comparison.RATIO_TO_MAX,
            Comparison.SIGNIFICANCE,
        ):
            raise PydanticCustomError(
                "alpha", "alpha applies to compare: ratio_to_max or significance only"
            )
        if uses_alpha and self.metric not in SIGNIFICANCE_METRICS:
            raise PydanticCustomError(
                "metric",
                "significance tests need counts of selections: the metric must be one of "
                "{allowed}, got {got}",
                {"allowed": ", ".join(SIGNIFICANCE_METRICS), "got": _show(self.metric)},
            )
        return self


class ReportStatement(_Frozen):
    """A statement the cited text asks for that the data cannot show, asked of the filer."""

    id: Annotated[str, Field(strict=True, pattern=SLUG_PATTERN)] = Field(
        description="The statement's id: 'maas-audit run --statement ID=TEXT' gives it."
    )
    asks: _Text = Field(description="What must be stated, in words.")
    citation: _Text = Field(description="The text that asks for it, cited precisely.")
    sign_off: bool = Field(
        False,
        description="true: the auditor's sign-off (name and date) is the statement, "
        "e.g. a test report 'dated and signed by the responsible persons'.",
    )


class ReportSettings(_Frozen):
    """What the policy adds to the report beyond findings and evidence."""

    sections: tuple[ReportSection, ...] = Field(
        (),
        description="Extra report sections: 'nyc-ll144-summary' adds the summary table "
        "NYC Local Law 144 requires to be published (6 RCNY \u00a7 5-301); 'eu-fria' adds "
        "the elements of the fundamental-rights impact assessment of EU AI Act Art. 27(1). "
        "Sections of extended policies are kept.",
    )
    statements: tuple[ReportStatement, ...] = Field(
        (),
        description="Statements the cited texts ask for that the data cannot show; the "
        "report lists each one, given or missing. Statements of extended policies are kept.",
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
        ReportSettings(sections=(), statements=()),
        description="Extra report sections, e.g. 'sections: [nyc-ll144-summary]', and "
        "the statements the cited texts ask for.",
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
