"""The HTML report: one self-contained file a lawyer can read and sign off.

The document is rendered by Jinja2 with autoescaping and ``StrictUndefined`` from
``templates/report.html.j2``.  It holds its CSS inline and its charts as inline SVG,
references no URL, runs no script, and forbids network access at view time with a
Content-Security-Policy.  Everything shown comes from the :class:`AuditResult`; this
module only arranges and formats it.

The module is over 500 lines on purpose: it builds the context of one template, section
by section, and its helpers are private to that template.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from numbers import Integral, Real
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from audit.core.findings import Finding, OverallVerdict, Severity, Verdict
from audit.core.measurements import (
    AuditorOutput,
    EvidenceTable,
    GroupStatus,
    GroupValue,
    MetricResult,
    grouping_label,
)
from audit.core.secrets import redact
from audit.core.wording import humanize, outcome_label, sentence_case
from audit.reporting.charts import ReferenceLine, bar_chart, chart_svg
from audit.reporting.formats import (
    compared_threshold,
    format_count,
    format_interval,
    format_measured,
    format_number,
    format_threshold,
)
from audit.reporting.fria import fria_section
from audit.reporting.limitations import report_limitations
from audit.reporting.ll144 import ll144_summary
from audit.reporting.statements import statement_rows
from audit.reporting.write import write_atomic

if TYPE_CHECKING:
    from audit.core.result import AuditResult, Regime, RequirementSummary

__all__ = ["environment", "render_html", "write_html"]

TEMPLATE = "report.html.j2"

# How a comparison's threshold maps onto the chart of the metric it compares (see
# audit.policy.schema.Comparison): ratio_to_max scales the highest (reference) group's value,
# at_least / at_most bound each group's value; max_difference has no place on that axis.
_RATIO_COMPARISONS = frozenset({"ratio_to_max"})
_VALUE_COMPARISONS = frozenset({"at_least", "at_most"})

_VERDICT_ORDER = {Verdict.FAIL: 0, Verdict.INCONCLUSIVE: 1, Verdict.PASS: 2}
_SCORING_COUNTS = frozenset(
    f"scoring.{name}"
    for name in (
        "rows",
        "chunks",
        "batch_size",
        "batches",
        "batches_scored",
        "batches_from_cache",
        "cache.keys",
        "cache.entries_rejected",
        "cache.batches_not_stored",
    )
)
"""Counts in the model description's ``scoring`` (see :class:`audit.scoring.ScoringReport`)."""


# --- formatting filters ---------------------------------------------------------------------


def _plain(value: Any) -> str:
    """Write a setting as text: mappings as ``k: v; ...``, sequences as ``a, b``."""
    if value is None:
        return "\u2014"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(_plain(v) for v in value) or "\u2014"
    return str(value)


def _cell(value: Any) -> str:
    """Format an evidence-table cell: floats to 3 decimals, ints with separators, None as a dash."""
    if isinstance(value, bool):
        return _plain(value)
    if isinstance(value, Integral):
        return format_number(int(value))
    if isinstance(value, Real):
        return format_number(float(value))
    return _plain(value)


def _timestamp(value: str) -> str:
    """``2024-05-01T12:00:00+00:00`` -> ``1 May 2024, 12:00:00 UTC``; other text unchanged."""
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return value
    if moment.tzinfo is None:
        return f"{moment.day} {moment:%B %Y, %H:%M:%S}"
    moment = moment.astimezone(UTC)
    return f"{moment.day} {moment:%B %Y, %H:%M:%S} UTC"


def _percent(value: float | None) -> str:
    """Write a level such as 0.95 as ``95%``."""
    return "\u2014" if value is None else f"{value:.0%}"


@lru_cache(maxsize=1)
def environment() -> Environment:
    """Build (once) the reports' Jinja2 environment: autoescaping, ``StrictUndefined``, filters.

    Returns
    -------
    Environment
        Loads templates from the ``audit.reporting`` package's ``templates`` folder.
    """
    env = Environment(
        loader=PackageLoader("audit.reporting", "templates"),
        autoescape=select_autoescape(
            enabled_extensions=("html", "j2", "svg", "xml"),
            default_for_string=True,
            default=True,
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        number=format_number,
        measured=format_measured,
        count=format_count,
        threshold=format_threshold,
        limit=lambda item: format_threshold(compared_threshold(item.comparison, item.threshold)),
        interval=format_interval,
        humanize=humanize,
        sentence_case=sentence_case,
        plain=_plain,
        cell=_cell,
        timestamp=_timestamp,
        grouping=grouping_label,
        percent=_percent,
        chart_svg=lambda chart, chart_id: chart_svg(chart, chart_id=chart_id),
    )
    return env


# --- the view: the result arranged for the template -----------------------------------------


@dataclass(frozen=True)
class _Row:
    """One finding in the executive summary."""

    anchor: str
    finding: Finding
    requirement: RequirementSummary | None = None
    """The policy's requirement the finding answers (its threshold's source, its citation's
    check); ``None`` when the policy does not list it."""

    @property
    def benchmark(self) -> bool:
        """The cited text sets no threshold: the figure is read against a benchmark."""
        return self.requirement is not None and self.requirement.threshold_source == "benchmark"

    @property
    def outcome(self) -> str:
        """The verdict in words, as :func:`audit.core.wording.outcome_label` writes it.

        PASS/FAIL, where the figure lies against a benchmark, or an outcome that is no
        verdict on a level (not applicable, established).
        """
        return outcome_label(
            self.finding.verdict,
            self.finding.comparison,
            benchmark=self.benchmark,
            applies=self.finding.applies,
        )

    @property
    def labelled(self) -> bool:
        """The outcome reads other than the verdict (a benchmark, not applicable, ...)."""
        return self.outcome != self.finding.verdict.value


@dataclass(frozen=True)
class _Figure:
    """One grouped metric: its chart, its table and the findings that used it."""

    anchor: str
    metric: MetricResult
    chart: Markup
    findings: tuple[_Row, ...]


@dataclass(frozen=True)
class _Cell:
    text: str
    flag: str | None
    """The group's status when it was not compared (``small``, ``undefined``, ...)."""


@dataclass(frozen=True)
class _OtherRow:
    group: str
    count: int
    status: str | None
    """The status shared by every cell, shown once; ``None`` when compared everywhere."""
    cells: tuple[_Cell, ...]
    """Their own ``flag`` only where the statuses differ between metrics."""


@dataclass(frozen=True)
class _OtherTable:
    """The metrics of a grouping that no finding used, side by side, one row per group."""

    metrics: tuple[MetricResult, ...]
    rows: tuple[_OtherRow, ...]
    notes: tuple[tuple[str, str], ...]
    confidence_level: float | None


@dataclass(frozen=True)
class _Grouping:
    label: str
    figures: tuple[_Figure, ...]
    """Charted: the metrics the findings used (all of them when no finding used any)."""
    others: _OtherTable | None


@dataclass(frozen=True)
class _Auditor:
    anchor: str
    output: AuditorOutput
    groupings: tuple[_Grouping, ...]
    scalars: tuple[MetricResult, ...]
    settings: tuple[tuple[str, str], ...]
    tables: tuple[tuple[EvidenceTable, tuple[bool, ...]], ...]


@dataclass(frozen=True)
class _Group:
    """The findings of one law's requirements; ``regime`` is ``None`` when there is one law."""

    regime: Regime | None
    rows: tuple[_Row, ...]


@dataclass(frozen=True)
class _Summary:
    verdict: OverallVerdict
    sentences: tuple[str, ...]
    rows: tuple[_Row, ...]
    unevaluated: tuple[str, ...] = field(default=())
    groups: tuple[_Group, ...] = field(default=())
    """The rows by the pack or file that defined their requirement, in the policy's order."""


def _groups(rows: tuple[_Row, ...], result: AuditResult) -> tuple[_Group, ...]:
    """``rows`` grouped by their requirement's source (:meth:`AuditResult.findings_by_regime`)."""
    row_of = {id(row.finding): row for row in rows}
    return tuple(
        _Group(regime, tuple(row_of[id(f)] for f in findings))
        for regime, findings in result.findings_by_regime()
    )


def _requirement_verdicts(findings: Iterable[Finding], severity: Severity) -> dict[str, Verdict]:
    """Each requirement's worst verdict over its findings (one finding per grouping)."""
    verdicts: dict[str, Verdict] = {}
    for finding in findings:
        if finding.severity is not severity or not finding.applies:
            continue
        seen = verdicts.get(finding.requirement_id, Verdict.PASS)
        verdicts[finding.requirement_id] = min(
            seen, finding.verdict, key=_VERDICT_ORDER.__getitem__
        )
    return verdicts


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _sentences(result: AuditResult) -> tuple[str, ...]:
    blocking = list(_requirement_verdicts(result.findings, Severity.BLOCKING).values())
    advisory = list(_requirement_verdicts(result.findings, Severity.ADVISORY).values())
    failed, unsure = blocking.count(Verdict.FAIL), blocking.count(Verdict.INCONCLUSIVE)
    total = len(blocking)
    subject = "The data" if result.model.get("kind") == "none" else "The model"
    out: list[str] = []
    if not result.findings:
        out.append("The audit produced no findings, so no requirement could be established.")
    elif total == 0:
        out.append("The policy has no blocking requirements; its findings are advisory only.")
    elif failed:
        out.append(f"{subject} fails {failed} of {_plural(total, 'blocking requirement')}.")
    elif unsure:
        out.append(
            f"{subject} fails none of its {_plural(total, 'blocking requirement')}, but the "
            "evidence could not establish all of them; an inconclusive result is not a pass."
        )
    else:
        out.append(f"{subject} meets all {_plural(total, 'blocking requirement')}.")
    if failed and unsure:
        out.append(
            f"{_plural(unsure, 'further blocking requirement')} could not be established "
            "from the evidence."
        )
    if advisory:
        out.append(_advisory_sentence(advisory.count(Verdict.PASS), len(advisory)))
    if advisory.count(Verdict.INCONCLUSIVE):
        count = advisory.count(Verdict.INCONCLUSIVE)
        out.append(
            f"{_plural(count, 'advisory requirement')} could not be established from the "
            "evidence; an inconclusive result is not a pass."
        )
    not_applicable = list(dict.fromkeys(f.requirement_id for f in result.findings if not f.applies))
    if not_applicable:
        count = len(not_applicable)
        one = count == 1
        out.append(
            f"{_plural(count, 'requirement')} did not apply to this audit "
            f"({', '.join(not_applicable)}): {'it gates' if one else 'they gate'} nothing "
            f"and {'is' if one else 'are'} not a pass; "
            f"{'its finding says' if one else 'their findings say'} why."
        )
    return tuple(out)


def _advisory_sentence(passed: int, total: int) -> str:
    if total == 1:
        outcome = "met" if passed else "did not meet"
        return (
            f"The one advisory requirement, which does not gate the audit, {outcome} its "
            "threshold or benchmark."
        )
    return (
        f"Of {total} advisory requirements, which do not gate the audit, "
        f"{'all' if passed == total else passed or 'none'} met their threshold or benchmark."
    )


def _reference_line(
    finding: Finding, metric: MetricResult, *, benchmark: bool
) -> ReferenceLine | None:
    """Place the threshold of ``finding`` on the chart's scale, when the comparison has one.

    For a ratio to a reference group (the four-fifths rule) the line is drawn at
    ``threshold`` times that group's value, a position on the chart and not a reported
    number: the legend names the two given numbers, never their product.  A
    ``benchmark`` (the cited text sets no threshold) is labelled as one.
    """
    threshold = format_threshold(finding.threshold)
    word = "benchmark" if benchmark else "threshold"
    if finding.comparison in _VALUE_COMPARISONS:
        return ReferenceLine(finding.threshold, f"{word} {threshold}")
    if finding.comparison in _RATIO_COMPARISONS and finding.reference_group is not None:
        reference = next((g for g in metric.groups if g.group == finding.reference_group), None)
        if reference is not None and reference.value is not None:
            return ReferenceLine(
                finding.threshold * reference.value,
                f"{word}: {threshold} \u00d7 {finding.reference_group}",
            )
    return None


def _figure(anchor: str, metric: MetricResult, rows: Sequence[_Row]) -> _Figure:
    related = tuple(
        r
        for r in rows
        if (r.finding.auditor, r.finding.metric, tuple(r.finding.grouping))
        == (metric.auditor, metric.metric, tuple(metric.grouping))
    )
    first = related[0].finding if related else None
    reference = _reference_line(first, metric, benchmark=related[0].benchmark) if first else None
    chart = bar_chart(
        metric,
        chart_id=anchor,
        reference=reference,
        highlight=first.worst_group if first else None,
        reference_group=first.reference_group if first else None,
    )
    return _Figure(anchor, metric, chart, related)


def _flatten(
    mapping: Mapping[str, Any], prefix: str = "", counts: frozenset[str] = frozenset()
) -> list[tuple[str, str]]:
    """Flatten ``{"a": {"b": 1}}`` to ``[("a.b", "1")]``; keys in ``counts`` get separators."""
    items: list[tuple[str, str]] = []
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            items += _flatten(value, f"{name}.", counts)
        elif name in counts and isinstance(value, int) and not isinstance(value, bool):
            items.append((name, format_count(value)))
        else:
            items.append((name, _plain(value)))
    return items


def _numeric_columns(table: EvidenceTable) -> tuple[bool, ...]:
    """Which columns hold only numbers (or blanks), to align them right."""
    flags = []
    for index in range(len(table.columns)):
        cells = [row[index] for row in table.rows if row[index] is not None]
        flags.append(
            bool(cells) and all(isinstance(c, Real) and not isinstance(c, bool) for c in cells)
        )
    return tuple(flags)


def _status_flag(group: GroupValue) -> str | None:
    if group.value is None:
        return GroupStatus.UNDEFINED.value
    return None if group.status is GroupStatus.OK else group.status.value


def _other_table(metrics: Sequence[MetricResult]) -> _OtherTable:
    counts: dict[str, int] = {}
    notes: dict[tuple[str, str], None] = {}
    for metric in metrics:
        for group in metric.groups:
            counts.setdefault(group.group, group.count)
            if group.note:
                notes[(group.group, group.note)] = None
    rows = []
    for label, count in counts.items():
        cells = []
        for metric in metrics:
            found = next((g for g in metric.groups if g.group == label), None)
            cells.append(
                _Cell("\u2014", None)
                if found is None
                else _Cell(
                    format_interval(found.value, found.ci_low, found.ci_high), _status_flag(found)
                )
            )
        flags = {c.flag for c in cells if c.text != "\u2014" or c.flag}
        if len(flags) <= 1:
            status = flags.pop() if flags else None
            cells = [_Cell(c.text, None) for c in cells]
        else:
            status = "mixed"
        rows.append(_OtherRow(label, count, status, tuple(cells)))
    levels = {m.confidence_level for m in metrics if m.confidence_level is not None}
    level = levels.pop() if len(levels) == 1 else None
    return _OtherTable(tuple(metrics), tuple(rows), tuple(notes), level)


def _grouping_view(label: str, figures: Sequence[_Figure]) -> _Grouping:
    used = [f for f in figures if f.findings]
    if not used or len(used) == len(figures):
        return _Grouping(label, tuple(figures), None)
    others = _other_table([f.metric for f in figures if not f.findings])
    return _Grouping(label, tuple(used), others)


def _auditor(index: int, output: AuditorOutput, rows: Sequence[_Row]) -> _Auditor:
    anchor = f"auditor-{index}"
    by_grouping: dict[tuple[str, ...], list[_Figure]] = {}
    scalars = []
    for number, metric in enumerate(output.metrics, start=1):
        if not metric.groups:
            scalars.append(metric)
            continue
        figure = _figure(f"{anchor}-metric-{number}", metric, rows)
        by_grouping.setdefault(tuple(metric.grouping), []).append(figure)
    groupings = tuple(_grouping_view(grouping_label(k), v) for k, v in by_grouping.items())
    tables = tuple((t, _numeric_columns(t)) for t in output.tables)
    return _Auditor(
        anchor, output, groupings, tuple(scalars), tuple(_flatten(output.config)), tables
    )


def _summary(result: AuditResult) -> _Summary:
    requirements = {r.id: r for r in result.policy.requirements}
    rows = tuple(
        _Row(f"finding-{i}", f, requirements.get(f.requirement_id))
        for i, f in enumerate(result.findings, start=1)
    )
    found = {f.requirement_id for f in result.findings}
    unevaluated = tuple(r.id for r in result.policy.requirements if r.id not in found)
    groups = _groups(rows, result)
    return _Summary(result.verdict, _sentences(result), rows, unevaluated, groups)


def _section_numbers(*, ll144: bool, llm: bool = False, fria: bool = False) -> dict[str, int]:
    """The number of each main section, in document order."""
    names = ["summary", *(["ll144"] if ll144 else []), *(["fria"] if fria else [])]
    names += ["llm"] if llm else []
    names += ["evidence", "method"]
    names += ["limitations", "reproducibility", "signoff"]
    return {name: number for number, name in enumerate(names, start=1)}


def _context(result: AuditResult, *, for_print: bool = False) -> dict[str, Any]:
    summary = _summary(result)
    ll144 = ll144_summary(result)
    fria = fria_section(result)
    prov = result.provenance
    model = dict(result.model)
    data = dict(result.data)
    return {
        "result": result,
        "policy": result.policy,
        "provenance": prov,
        "summary": summary,
        "ll144": ll144,
        "fria": fria,
        "llm": model if model.get("kind") == "chat" else None,
        "details": result.details,
        "report_limitations": report_limitations(result),
        # the Art. 27 statements stand in their own section, with their evidence
        "statements": tuple(
            row
            for row in statement_rows(result)
            if fria is None or row.id not in {e.statement_id for e in fria.elements}
        ),
        "numbers": _section_numbers(
            ll144=ll144 is not None, llm=model.get("kind") == "chat", fria=fria is not None
        ),
        "for_print": for_print,
        "verdicts": Verdict,
        "auditors": tuple(
            _auditor(i, o, summary.rows) for i, o in enumerate(result.outputs, start=1)
        ),
        "model_kind": _plain(model.get("kind", "model")),
        "model_location": _plain(model.get("location", "")) if model.get("location") else "",
        "model_answered": _answered_by(model),
        "model_items": tuple(_flatten(model, counts=_SCORING_COUNTS)),
        "data_source": _plain(data.get("source") or prov.data_source or "not recorded"),
        "data_rows": format_count(data["rows"]) if isinstance(data.get("rows"), int) else None,
        "data_items": tuple(_flatten(data, counts=frozenset({"rows"}))),
        "command": shlex.join(prov.command) if prov.command else "",
        "hashes": (
            ("Data", prov.data_sha256),
            ("Model", prov.model_sha256),
            ("Policy", prov.policy_sha256),
        ),
    }


def _answered_by(model: Mapping[str, Any]) -> str:
    """The model names a served model's answers gave (this run's and the cached ones')."""
    usage = model.get("usage")
    names = usage.get("models") if isinstance(usage, Mapping) else None
    return _plain(names) if isinstance(names, list) and names else ""


def render_html(result: AuditResult, *, for_print: bool = False) -> str:
    """Render the self-contained HTML report of ``result``.

    Parameters
    ----------
    result : AuditResult
        The audit to report.
    for_print : bool
        Render for printing to PDF: the table of contents is printed and each main
        section starts a new page (see :mod:`audit.reporting.pdf`).

    Returns
    -------
    str
        A complete HTML document: inline CSS and SVG, no script, no external resource.
    """
    html = environment().get_template(TEMPLATE).render(_context(result, for_print=for_print))
    return redact(html)  # the last line of defence for credentials (audit.core.secrets)


def write_html(result: AuditResult, path: Path) -> Path:
    """Render the HTML report of ``result`` and write it atomically to ``path``.

    When rendering fails, nothing is written and a previous file at ``path`` is kept.

    Parameters
    ----------
    result : AuditResult
        The audit to report.
    path : Path
        Destination file; parent directories are created.

    Returns
    -------
    Path
        ``path``.
    """
    return write_atomic(Path(path), render_html(result))
