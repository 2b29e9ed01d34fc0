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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Real
from typing import TYPE_CHECKING

from audit.core.measurements import EvidenceTable

if TYPE_CHECKING:
    from audit.core.result import AuditResult

__all__ = ["SECTION", "CategoryRow", "CategoryTable", "LL144Summary", "ll144_summary"]

SECTION = "nyc-ll144-summary"
"""The policy's ``report.sections`` entry that adds this summary to the report."""

AUDITOR = "fairness"
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
UNKNOWN_NOTE = "unknown category"
"""How the fairness auditor's note on a group of missing sensitive values begins."""

MISSING_DESCRIPTION = "the data's source was not described (maas-audit run --data-description)"
MISSING_DATES = "the dates of the data were not given (maas-audit run --data-dates)"
MISSING_SIGN_OFF = "no independent auditor signed off (maas-audit run --auditor-name ...)"
MISSING_INDEPENDENCE = (
    "the sign-off has no independence statement (maas-audit run --independence-statement)"
)
MISSING_TABLES = (
    "the fairness auditor produced no selection-rate tables, so no category figures exist"
)


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


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _count(value: object) -> int:
    number = _number(value)
    return 0 if number is None else round(number)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, Real):
        return None
    return float(value)


def _row(cells: Mapping[str, object]) -> CategoryRow:
    selected = cells.get("positive decisions")
    return CategoryRow(
        category=_text(cells.get("group")),
        count=_count(cells.get("rows")),
        selected=None if selected is None else _count(selected),
        selection_rate=_number(cells.get("selection rate")),
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
    return CategoryTable(label, tuple(rows), tuple(excluded), tuple(unknown))


def _selection_tables(tables: Sequence[EvidenceTable]) -> list[EvidenceTable]:
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
    if not details.data_description:
        missing.append(MISSING_DESCRIPTION)
    if not details.data_dates:
        missing.append(MISSING_DATES)
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
    )
