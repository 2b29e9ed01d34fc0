"""A compact HTML summary of an audit, for notebooks (``AuditResult._repr_html_``).

The full report is a document of several pages; a notebook cell shows only the overall
verdict and one row per finding.  Rendered by Jinja2 with autoescaping, like the report.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, StrictUndefined, Template, select_autoescape

from audit.core.findings import Verdict
from audit.core.measurements import grouping_label
from audit.reporting.formats import (
    compared_threshold,
    format_measured,
    format_threshold,
)

if TYPE_CHECKING:
    from audit.core.result import AuditResult

__all__ = ["render_summary_html"]


@lru_cache(maxsize=1)
def _template() -> Template:
    env = Environment(
        loader=PackageLoader("audit.reporting", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
    )
    return env.get_template("summary.html.j2")


def render_summary_html(result: AuditResult) -> str:
    """The overall verdict and one table row per finding, as an HTML fragment."""
    rows = [
        {
            "id": f.requirement_id,
            "groups": grouping_label(f.grouping),
            "verdict": result.outcome(f),
            "severity": f.severity.value,
            "measured": format_measured(f),
            "comparison": f.comparison,
            "threshold": format_threshold(compared_threshold(f.comparison, f.threshold)),
            "worst": f.worst_group or "—",
        }
        for f in result.findings
    ]
    counts = {v.value: sum(1 for f in result.findings if f.verdict is v) for v in Verdict}
    return _template().render(
        policy=f"{result.policy.name} {result.policy.version}",
        verdict=str(result.verdict),
        counts=counts,
        rows=rows,
    )
