"""The JSON report: every finding and every number of an :class:`~audit.core.result.AuditResult`.

The shape is stable and versioned (``schema`` / ``schema_version``); keys appear in a
fixed order.  Values are plain JSON: enums become their values, tuples become lists,
numpy scalars become Python numbers, and NaN or infinity become ``null``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from collections.abc import Mapping
from enum import Enum
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

import numpy as np

from audit.core.findings import Finding
from audit.core.measurements import (
    AuditorOutput,
    Chart,
    EvidenceTable,
    GroupValue,
    LineChart,
    MetricResult,
)
from audit.core.provenance import Provenance
from audit.core.result import PolicySummary, RequirementSummary
from audit.core.secrets import redact_strings
from audit.integrity import REPORT_SCHEMA, seal
from audit.reporting.formats import compared_threshold
from audit.reporting.fria import FriaSection, fria_section
from audit.reporting.ll144 import LL144Summary, ll144_summary
from audit.reporting.write import write_atomic

if TYPE_CHECKING:
    from audit.core.result import AuditResult

__all__ = ["SCHEMA", "SCHEMA_VERSION", "result_to_dict", "to_jsonable", "write_json"]

SCHEMA = REPORT_SCHEMA
SCHEMA_VERSION = 1


def to_jsonable(value: Any) -> Any:
    """Convert ``value`` to plain JSON data; non-finite floats become ``None``.

    Parameters
    ----------
    value : Any
        Scalars, enums, numpy scalars or arrays, mappings, sequences, paths,
        dates, dataclasses and pydantic models; anything else becomes its ``str``.

    Returns
    -------
    Any
        ``None``, bool, int, finite float, str, list or dict with str keys.

    Examples
    --------
    >>> to_jsonable({"a": (1, float("nan")), "b": np.float64(0.5)})
    {'a': [1, None], 'b': 0.5}
    """
    if isinstance(value, Enum):  # first: StrEnum and IntEnum members are str and int too
        return to_jsonable(value.value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, Mapping):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [to_jsonable(item) for item in items]
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump):
        return to_jsonable(model_dump(mode="json"))
    return str(value)


def _requirement(req: RequirementSummary) -> dict[str, Any]:
    return {
        "id": req.id,
        "title": req.title,
        "citation": req.citation,
        "auditor": req.auditor,
        "metric": req.metric,
        "comparison": req.comparison,
        "threshold": compared_threshold(req.comparison, req.threshold),
        "severity": req.severity,
        "group_by": req.group_by,
        "description": req.description,
        "threshold_source": req.threshold_source,
        "citation_verified": req.citation_verified,
        "citation_checked": req.citation_checked,
        "source": req.source,
    }


def _policy(policy: PolicySummary) -> dict[str, Any]:
    return {
        "name": policy.name,
        "version": policy.version,
        "description": policy.description,
        "sources": policy.sources,
        "requirements": [_requirement(r) for r in policy.requirements],
        "report_sections": policy.report_sections,
        "statements": [to_jsonable(s) for s in policy.statements],
        "regimes": [
            {
                "source": regime.source,
                "name": regime.name,
                "version": regime.version,
                "description": regime.description,
                "requirements": [r.id for r in policy.requirements if r.source == regime.source],
            }
            for regime in policy.regimes
        ],
    }


def _finding(finding: Finding, source: str) -> dict[str, Any]:
    return {
        "requirement_id": finding.requirement_id,
        "title": finding.title,
        "citation": finding.citation,
        "auditor": finding.auditor,
        "metric": finding.metric,
        "comparison": finding.comparison,
        "threshold": compared_threshold(finding.comparison, finding.threshold),
        "severity": finding.severity,
        "verdict": finding.verdict,
        "blocks": finding.blocks,
        "applies": finding.applies,
        "measured": finding.measured,
        "grouping": finding.grouping,
        "summary": finding.summary,
        "worst_group": finding.worst_group,
        "reference_group": finding.reference_group,
        "reasons": finding.reasons,
        "source": source,
    }


def _group(group: GroupValue) -> dict[str, Any]:
    return {
        "group": group.group,
        "count": group.count,
        "value": group.value,
        "ci_low": group.ci_low,
        "ci_high": group.ci_high,
        "status": group.status,
        "note": group.note,
    }


def _metric(metric: MetricResult) -> dict[str, Any]:
    return {
        "metric": metric.metric,
        "grouping": metric.grouping,
        "value": metric.value,
        "confidence_level": metric.confidence_level,
        "reason": metric.reason,
        "description": metric.description,
        "groups": [_group(g) for g in metric.groups],
    }


def _table(table: EvidenceTable) -> dict[str, Any]:
    return {
        "title": table.title,
        "caption": table.caption,
        "columns": table.columns,
        "rows": table.rows,
    }


def _chart(chart: Chart) -> dict[str, Any]:
    if isinstance(chart, LineChart):
        return {
            "kind": "line",
            "title": chart.title,
            "caption": chart.caption,
            "x_label": chart.x_label,
            "y_label": chart.y_label,
            "x_labels": chart.x_labels,
            "series": [{"name": s.name, "values": s.values} for s in chart.series],
        }
    return {
        "kind": "bar",
        "title": chart.title,
        "caption": chart.caption,
        "value_label": chart.value_label,
        "labels": chart.labels,
        "values": chart.values,
        "low": chart.low,
        "high": chart.high,
        "highlighted": chart.highlighted,
        "highlight_label": chart.highlight_label,
    }


def _auditor(output: AuditorOutput) -> dict[str, Any]:
    return {
        "auditor": output.auditor,
        "method": output.method,
        "limitations": output.limitations,
        "warnings": output.warnings,
        "failure": output.failure,
        "config": output.config,
        "metrics": [_metric(m) for m in output.metrics],
        "tables": [_table(t) for t in output.tables],
        "charts": [_chart(c) for c in output.charts],
    }


def _provenance(prov: Provenance) -> dict[str, Any]:
    return {
        "data_sha256": prov.data_sha256,
        "model_sha256": prov.model_sha256,
        "policy_sha256": prov.policy_sha256,
        "seed": prov.seed,
        "started_at": prov.started_at,
        "finished_at": prov.finished_at,
        "command": prov.command,
        "versions": prov.versions,
        "platform": prov.platform,
        "data_source": prov.data_source,
    }


def _ll144(summary: LL144Summary | None) -> dict[str, Any] | None:
    if summary is None:
        return None
    return {
        **to_jsonable(summary),
        "ready_for_publication": not summary.missing,
        "tables": [
            {**to_jsonable(table), "unknown_count": table.unknown_count} for table in summary.tables
        ],
    }


def _fria(section: FriaSection | None) -> dict[str, Any] | None:
    if section is None:
        return None
    return {
        "sensitive": section.sensitive,
        "complete": not section.todos,
        "elements": [{**to_jsonable(e), "todo": e.todo} for e in section.elements],
    }


def result_to_dict(result: AuditResult) -> dict[str, Any]:
    """Every finding and number of ``result`` as plain, JSON-safe data in a stable shape.

    Parameters
    ----------
    result : AuditResult
        The audit to report.

    Returns
    -------
    dict
        ``{"schema", "schema_version", "verdict", "passed", "policy", "findings",
        "auditors", "model", "data", "details", "sections", "provenance"}``; each auditor
        entry holds its metrics with every per-group count, value and confidence bound.
        ``sections`` holds the report sections the policy asks for, as the HTML report
        shows them: ``ll144`` (the published summary of an NYC LL144 bias audit, with
        ``missing`` and ``ready_for_publication``) and ``fria`` (the EU AI Act Art. 27
        elements, each with its evidence and ``todo``, and ``complete``); ``null`` when
        not asked for.  Each finding and
        requirement names its ``source`` (the pack or file that defined the requirement);
        ``policy.regimes`` lists those sources with their name, version, description and
        requirement ids, so that findings can be grouped by law.
    """
    sources = {r.id: r.source for r in result.policy.requirements}
    report: dict[str, Any] = to_jsonable(
        {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "verdict": result.verdict,
            "passed": result.passed,
            "policy": _policy(result.policy),
            "findings": [_finding(f, sources.get(f.requirement_id, "")) for f in result.findings],
            "auditors": [_auditor(o) for o in result.outputs],
            "model": result.model,
            "data": result.data,
            "details": result.details,
            "sections": {
                "ll144": _ll144(ll144_summary(result)),
                "fria": _fria(fria_section(result)),
            },
            "provenance": _provenance(result.provenance),
        }
    )
    return report


def render_json(result: AuditResult) -> str:
    """The sealed JSON report of ``result`` as text (UTF-8, indented, newline-terminated).

    The report is sealed: its last key, ``integrity``, holds the SHA-256 of its canonical
    content and, when ``MAAS_AUDIT_SIGNING_KEY`` is set, an HMAC-SHA256 signature (see
    :mod:`audit.integrity`; ``maas-audit verify`` checks both).
    """
    text = json.dumps(
        seal(redact_strings(result_to_dict(result))),
        indent=2,
        sort_keys=False,
        allow_nan=False,
        ensure_ascii=False,
    )
    return text + "\n"


def write_json(result: AuditResult, path: Path) -> Path:
    """Write the sealed JSON report of ``result`` (see :func:`render_json`) atomically.

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
    return write_atomic(Path(path), render_json(result))
