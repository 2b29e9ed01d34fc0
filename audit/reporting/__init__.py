"""Reports of an audit: a JSON record of every number, and a self-contained HTML document.

Reporting reads an :class:`~audit.core.result.AuditResult` and computes no number of
its own; files are written atomically.  Importing this package registers its writers
with :mod:`audit.core.renderers`, which is how ``AuditResult.to_html()`` and its siblings
reach them without ``audit.core`` importing ``audit.reporting``.
"""

from __future__ import annotations

from audit.core.renderers import Renderers, register_renderers
from audit.reporting.html import render_html, write_html
from audit.reporting.json import result_to_dict, write_json
from audit.reporting.pdf import write_pdf
from audit.reporting.summary import render_summary_html
from audit.reporting.write import write_atomic

__all__ = ["render_html", "result_to_dict", "write_atomic", "write_html", "write_json"]

register_renderers(
    Renderers(
        to_dict=result_to_dict,
        render_html=render_html,
        render_summary_html=render_summary_html,
        write_json=write_json,
        write_html=write_html,
        write_pdf=write_pdf,
    )
)
