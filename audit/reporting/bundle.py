"""The reports of one audit, written together: every file rendered before any is written."""

from __future__ import annotations

from pathlib import Path

from audit.core.result import AuditResult
from audit.reporting.html import render_html
from audit.reporting.json import render_json
from audit.reporting.write import write_atomic_together

__all__ = ["REPORT_NAMES", "write_reports"]

REPORT_NAMES = ("report.html", "report.json", "report.pdf")
"""The only file names an audit writes into its output folder."""


def write_reports(result: AuditResult, folder: Path, *, pdf: bool = False) -> dict[str, Path]:
    """Write ``report.html``, ``report.json`` (and ``report.pdf``) into ``folder``.

    Every report is rendered in memory first, so a failure while rendering (a missing
    browser for the PDF, say) writes nothing and leaves earlier reports untouched; then
    every file is written beside its old one, and only when all are on disk are the old
    ones replaced (a failure while writing leaves the previous set whole).

    Returns
    -------
    dict[str, Path]
        The path written for each file name.
    """
    html, json, pdf_name = REPORT_NAMES
    contents: dict[str, str | bytes] = {html: render_html(result), json: render_json(result)}
    if pdf:
        from audit.reporting.pdf import render_pdf

        contents[pdf_name] = render_pdf(result)
    written = write_atomic_together({Path(folder) / name: data for name, data in contents.items()})
    return dict(zip(contents, written, strict=True))
