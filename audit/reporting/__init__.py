"""Reports of an audit: a JSON record of every number, and a self-contained HTML document.

Reporting reads an :class:`~audit.core.result.AuditResult` and computes no number of
its own; files are written atomically.
"""

from __future__ import annotations

from audit.reporting.html import render_html, write_html
from audit.reporting.json import result_to_dict, write_json
from audit.reporting.write import write_atomic

__all__ = ["render_html", "result_to_dict", "write_atomic", "write_html", "write_json"]
