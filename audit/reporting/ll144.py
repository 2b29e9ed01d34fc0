"""The summary of results NYC Local Law 144 requires to be published, arranged from an audit.

6 RCNY § 5-303 asks an employer using an automated employment decision tool to publish
a summary of the most recent bias audit: the date of the audit, the source and
explanation of the data used, the number of individuals the tool assessed that fall
within an unknown category, the number of applicants or candidates, and the selection
or scoring rates and impact ratios for all categories (6 RCNY § 5-301), with any
category under 2% of the data that was excluded from the impact ratios listed.

Every figure here is read from the audit result, never computed: counts, selection
rates and impact ratios come from the fairness auditor's evidence tables
"Selection rates by ..." (columns :data:`COLUMNS`), the number of individuals from
the audited data, the data's description and dates and the sign-off from
:class:`~audit.core.details.AuditDetails`.  The section appears when the policy asks
for it (``report: {sections: [nyc-ll144-summary]}``, as the ``nyc-ll144`` pack does).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Real
from typing import TYPE_CHECKING

from audit.core.groups import UNKNOWN_NOTE
from audit.core.measurements import EvidenceTable

if TYPE_CHECKING:
    from audit.core.details import AuditDetails
    from audit.core.result import AuditResult

__all__ = ["SECTION", "CategoryRow", "CategoryTable", "LL144Summary", "ll144_summary"]

SECTION = "nyc-ll144-summary"
"""The policy's ``report.sections`` entry that adds this summary to the report."""

AUDITOR = "fairness"
INTERSECTION = "\u00d7"
"""How an intersectional breakdown's label joins its columns, e.g. ``sex × race``."""
TABLE_PREFIX = "Selection rates by "
COLUMNS = (
    "group",
    "rows",
    "positive decisions",
    "selection rate",
    "impact ratio",
    "status",
    "note",
)
"""Columns of the fairness auditor's selection-rate tables this summary reads."""
LL144_PREFIXES = {"LL144 selection rates by ": "selection", "LL144 scoring rates by ": "scoring"}
"""Titles of the fairness auditor's LL144 tables (``auditors.fairness.ll144``), by rate form.

When they exist they are read instead of the selection-rate tables: they follow LL144's
own rule (the highest rate among the categories not excluded, small categories
included) and give the scoring rate of a tool that scores."""
LL144_COLUMNS = ("group", "rows", "impact ratio", "status", "note")

MISSING_DESCRIPTION = "the data's source was not described (maas-audit run --data-description)"
MISSING_DATES = "the dates of the data were not given (maas-audit run --data-dates)"
MISSING_SIGN_OFF = "no independent auditor signed off (maas-audit run --auditor-name ...)"
MISSING_INDEPENDENCE = (
    "the sign-off has no independence statement (maas-audit run --independence-statement)"
)
MISSING_TABLES = (
    "the fairness auditor produced no selection-rate tables, so no category figures exist"
)
MISSING_BREAKDOWNS = (
    "the summary needs selection rates and impact ratios for sex categories, for "
    "race/ethnicity categories and for their intersectional categories (6 RCNY § 5-301); "
    "this audit has: {have} (run with --sensitive naming both columns)"
)
MISSING_DISTRIBUTION_DATE = (
    "the distribution date of the tool was not given (6 RCNY § 5-303; "
    "maas-audit run --distribution-date)"
)
MISSING_DATA_KIND = (
    "whether the data is historical data of the tool's use or test data was not stated "
    "(6 RCNY § 5-302; maas-audit run --data-kind historical|test)"
)
MISSING_TEST_REASON = (
    "the audit uses test data, but does not explain why historical data was not used "
    "(6 RCNY § 5-302(b); maas-audit run --test-data-reason)"
)
MISSING_TEST_ORIGIN = (
    "the audit uses test data, but does not describe how it was generated and obtained "
    "(6 RCNY § 5-302(b); maas-audit run --test-data-origin)"
)
MISSING_ROWS_ARE = (
    "what one row of the data is was not stated, so the count cannot be called the number "
    "of applicants or candidates (6 RCNY § 5-303; maas-audit run --rows-are applicants)"
)
MISSING_JUSTIFICATION = (
    "no justification from the independent auditor for excluding {category!r} ({label}) "
    "from the impact ratios (6 RCNY § 5-301; maas-audit run --exclusion-justification "
    "'{category}' TEXT)"
)
NOT_EEO1 = (
    "the categories of {label!r} are not those of the EEO-1 Component 1 report "
    "(6 RCNY § 5-300): {labels} {verb} not EEO-1 categories"
)
NO_HISPANIC = (
    "the data has no Hispanic or Latino ethnicity category, which the EEO-1 Component 1 "
    "report requires; {label!r} cannot be read as EEO-1 race/ethnicity categories "
    "(6 RCNY § 5-300)"
)

EEO1_SEX = ("Male", "Female")
"""Sex categories of the EEO-1 Component 1 report."""
EEO1_RACE_ETHNICITY = (
    "Hispanic or Latino",
    "White",
    "Black or African American",
    "Native Hawaiian or Other Pacific Islander",
    "Asian",
    "American Indian or Alaska Native",
    "Two or More Races",
)
"""Race/ethnicity categories of the EEO-1 Component 1 report (the six races are
non-Hispanic or Latino)."""
DCWP_RACE_WORDING = {
    "Native American or Alaska Native": "American Indian or Alaska Native",
    "Native Hawaiian or Pacific Islander": "Native Hawaiian or Other Pacific Islander",
}
"""The wording of the example bias audits in 6 RCNY § 5-301, for EEO-1 categories."""
_NOT_HISPANIC = re.compile(r"[\s,]*[(\[]?\s*not hispanic or latino\s*[)\]]?$")
"""The qualifier EEO-1 and DCWP's examples write after a race: "White (Not Hispanic or
Latino)" is the EEO-1 category White."""
APPLICANT_WORDS = frozenset({"applicants", "candidates"})


@dataclass(frozen=True)
class CategoryRow:
    """One category's published figures."""

    category: str
    count: int
    selected: int | None
    selection_rate: float | None
    impact_ratio: float | None
    """``None`` when the category was not compared (excluded, unknown or too small)."""
    status: str
    note: str


@dataclass(frozen=True)
class CategoryTable:
    """The figures of one breakdown: sex, race/ethnicity, or their intersection."""

    label: str
    """The sensitive columns, e.g. ``sex`` or ``sex × race``."""
    rows: tuple[CategoryRow, ...]
    """Categories in the impact-ratio calculation, and those too small to compare."""
    excluded: tuple[CategoryRow, ...]
    """Categories under the exclusion share, listed with their counts and rates."""
    unknown: tuple[CategoryRow, ...]
    """Groups of individuals whose category is unknown."""
    rate: str = "selection"
    """``"selection"`` or ``"scoring"``: which LL144 rate the rows' rates are."""

    @property
    def unknown_count(self) -> int:
        """Individuals in an unknown category for this breakdown."""
        return sum(row.count for row in self.unknown)


@dataclass(frozen=True)
class LL144Summary:
    """The published summary of an NYC LL144 bias audit, every figure taken from the result."""

    audit_date: str
    """When the audit finished (ISO 8601, UTC)."""
    data_source: str
    """The data file or frame the audit read."""
    data_description: str
    data_dates: str
    individuals: int | None
    """Rows of the audited data: the individuals the tool assessed."""
    tables: tuple[CategoryTable, ...]
    missing: tuple[str, ...]
    """What the law asks for that this audit does not state, in words."""
    count_label: str = "Number of individuals"
    """The count's column heading: "Number of applicants" only when the rows are applicants
    (or candidates); otherwise the data's own word."""
    distribution_date: str = ""
    data_kind: str = ""
    test_data_reason: str = ""
    test_data_origin: str = ""
    justifications: Mapping[str, str] = field(default_factory=dict)
    exclusion_share: float = 0.02
    """The share under which a category was excluded (the audit's LL144 setting; the rule,
    6 RCNY § 5-301, allows up to 0.02)."""
    """The independent auditor's justification per excluded category, as given."""


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _count(value: object) -> int:
    number = _number(value)
    return 0 if number is None else round(number)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, Real):
        return None
    return float(value)


def _first(cells: Mapping[str, object], *names: str) -> object:
    return next((cells[name] for name in names if name in cells), None)


def _row(cells: Mapping[str, object]) -> CategoryRow:
    selected = _first(cells, "positive decisions", "selected", "scored above the median")
    return CategoryRow(
        category=_text(cells.get("group")),
        count=_count(cells.get("rows")),
        selected=None if selected is None else _count(selected),
        selection_rate=_number(_first(cells, "selection rate", "scoring rate")),
        impact_ratio=_number(cells.get("impact ratio")),
        status=_text(cells.get("status")),
        note=_text(cells.get("note")),
    )


def _category_table(table: EvidenceTable) -> CategoryTable:
    rows, excluded, unknown = [], [], []
    for values in table.rows:
        row = _row(dict(zip(table.columns, values, strict=True)))
        if row.note.startswith(UNKNOWN_NOTE):
            unknown.append(row)
        elif row.status == "excluded":
            excluded.append(row)
        else:
            rows.append(row)
    label = table.title.removeprefix(TABLE_PREFIX)
    rate = "selection"
    for prefix, form in LL144_PREFIXES.items():
        if table.title.startswith(prefix):
            label, rate = table.title.removeprefix(prefix), form
    return CategoryTable(label, tuple(rows), tuple(excluded), tuple(unknown), rate=rate)


def _selection_tables(tables: Sequence[EvidenceTable]) -> list[EvidenceTable]:
    ll144 = [
        t
        for t in tables
        if t.title.startswith(tuple(LL144_PREFIXES)) and all(c in t.columns for c in LL144_COLUMNS)
    ]
    if ll144:
        return ll144
    return [
        t
        for t in tables
        if t.title.startswith(TABLE_PREFIX) and all(c in t.columns for c in COLUMNS)
    ]


def ll144_summary(result: AuditResult) -> LL144Summary | None:
    """Arrange the LL144 summary of results from ``result``, if its policy asks for it.

    Parameters
    ----------
    result : AuditResult
        The audit.

    Returns
    -------
    LL144Summary or None
        ``None`` when the policy's report sections do not include :data:`SECTION`.
    """
    if SECTION not in result.policy.report_sections:
        return None
    output = result.output(AUDITOR)
    tables = tuple(_category_table(t) for t in _selection_tables(output.tables if output else ()))
    details = result.details
    missing = []
    if not tables:
        missing.append(MISSING_TABLES)
    else:
        missing += _breakdowns_missing(tables)
        missing += _eeo1_differences(tables)
    if not details.data_description:
        missing.append(MISSING_DESCRIPTION)
    if not details.data_dates:
        missing.append(MISSING_DATES)
    missing += _data_kind_missing(details)
    if not details.distribution_date:
        missing.append(MISSING_DISTRIBUTION_DATE)
    if not details.rows_are:
        missing.append(MISSING_ROWS_ARE)
    missing += [
        MISSING_JUSTIFICATION.format(category=row.category, label=table.label)
        for table in tables
        for row in table.excluded
        if row.category not in details.exclusion_justifications
    ]
    if details.sign_off is None:
        missing.append(MISSING_SIGN_OFF)
    elif not details.sign_off.independence:
        missing.append(MISSING_INDEPENDENCE)
    rows = result.data.get("rows")
    return LL144Summary(
        audit_date=result.provenance.finished_at,
        data_source=_text(result.data.get("source") or result.provenance.data_source),
        data_description=details.data_description,
        data_dates=details.data_dates,
        individuals=rows if isinstance(rows, int) and not isinstance(rows, bool) else None,
        tables=tables,
        missing=tuple(missing),
        count_label=_count_label(details.rows_are),
        distribution_date=details.distribution_date,
        data_kind=details.data_kind,
        test_data_reason=details.test_data_reason,
        test_data_origin=details.test_data_origin,
        justifications=details.exclusion_justifications,
        exclusion_share=_exclusion_share(output.config if output else {}),
    )


def _exclusion_share(config: Mapping[str, object]) -> float:
    """The exclusion share the fairness auditor applied, read from its settings."""
    ll144 = config.get("ll144")
    if isinstance(ll144, Mapping):
        share = _number(ll144.get("exclude_below_share"))
    else:
        share = _number(config.get("exclude_below_share"))
    return 0.0 if share is None else share


def _count_label(rows_are: str) -> str:
    """The count's heading: "Number of applicants" only when the rows are applicants."""
    word = rows_are.strip()
    if not word:
        return "Number of individuals"
    return f"Number of {word.lower() if word.lower() in APPLICANT_WORDS else word}"


def _data_kind_missing(details: AuditDetails) -> list[str]:
    if not details.data_kind:
        return [MISSING_DATA_KIND]
    if details.data_kind != "test":
        return []
    out = []
    if not details.test_data_reason:
        out.append(MISSING_TEST_REASON)
    if not details.test_data_origin:
        out.append(MISSING_TEST_ORIGIN)
    return out


def _breakdowns_missing(tables: Sequence[CategoryTable]) -> list[str]:
    """Sex, race/ethnicity and their intersection: three breakdowns, or what is missing."""
    single = [t for t in tables if INTERSECTION not in t.label]
    combined = [t for t in tables if INTERSECTION in t.label]
    if len(single) >= 2 and combined:
        return []
    have = ", ".join(t.label for t in tables)
    return [MISSING_BREAKDOWNS.format(have=have)]


def _normal(label: str) -> str:
    """``label`` compared as a category name: case, spacing and the race qualifier aside."""
    words = " ".join(label.replace("_", " ").replace("-", " ").split()).casefold()
    words = _NOT_HISPANIC.sub("", words)
    return _DCWP_ALIASES.get(words, words)


_DCWP_ALIASES = {
    " ".join(dcwp.split()).casefold(): eeo1.casefold() for dcwp, eeo1 in DCWP_RACE_WORDING.items()
}


def _eeo1_differences(tables: Sequence[CategoryTable]) -> list[str]:
    """Where a breakdown's categories are not the EEO-1 Component 1 categories, in words."""
    sex = {_normal(c) for c in EEO1_SEX}
    race = {_normal(c) for c in EEO1_RACE_ETHNICITY}
    out = []
    for table in tables:
        if INTERSECTION in table.label:
            continue  # its categories are those of the single breakdowns, already checked
        prefix = f"{table.label}="  # the fairness auditor labels a group "race=White"
        labels = [row.category.removeprefix(prefix) for row in (*table.rows, *table.excluded)]
        normal = {_normal(label) for label in labels}
        # A breakdown holding a sex category and no race/ethnicity one is read as sex.
        is_sex = bool(normal & sex) and not normal & race
        known = sex if is_sex else race
        other = [label for label in labels if _normal(label) not in known]
        if other:
            verb = "is" if len(other) == 1 else "are"
            out.append(NOT_EEO1.format(label=table.label, labels=", ".join(other), verb=verb))
        if not is_sex and _normal("Hispanic or Latino") not in normal:
            out.append(NO_HISPANIC.format(label=table.label))
    return out
