"""Where :class:`~audit.core.result.AuditResult` finds the code that writes its reports.

``audit.core`` sits below ``audit.reporting`` and never imports it, not even inside a
function (``lint-imports`` checks this).  Yet a result offers ``to_html()``,
``to_json()``, ``to_pdf()`` and ``_repr_html_()``.  The two meet here: importing
:mod:`audit.reporting` registers its writers with :func:`register_renderers`, and the
result's methods call whatever is registered.  :func:`audit.run_audit` and
``from audit import AuditResult`` import :mod:`audit.reporting` first, so a result a user
holds can always render itself; a result built from ``audit.core`` alone, before
:mod:`audit.reporting` is imported, says so in one line instead of rendering.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from audit.core.result import AuditResult

__all__ = ["ERR_NO_RENDERERS", "Renderers", "register_renderers", "renderers"]

ERR_NO_RENDERERS = (
    "no report writers are registered: import audit.reporting first "
    "(`import audit` does it when you use audit.run_audit or audit.AuditResult)"
)


@dataclass(frozen=True)
class Renderers:
    """The report writers a result delegates to, each taking the result first."""

    to_dict: Callable[[AuditResult], dict[str, Any]]
    """Every finding and number as plain JSON-safe data."""
    render_html: Callable[[AuditResult], str]
    """The self-contained HTML document, as text."""
    render_summary_html: Callable[[AuditResult], str]
    """A compact HTML summary (verdict and one row per finding), for notebooks."""
    write_json: Callable[[AuditResult, Path], Path]
    """Write the JSON report atomically; returns the path."""
    write_html: Callable[[AuditResult, Path], Path]
    """Write the HTML report atomically; returns the path."""
    write_pdf: Callable[[AuditResult, Path], Path]
    """Print the report to PDF atomically; returns the path."""


_registered: list[Renderers] = []


def register_renderers(writers: Renderers) -> None:
    """Make ``writers`` the report writers of every :class:`AuditResult` (the last one wins)."""
    _registered[:] = [writers]


def renderers() -> Renderers:
    """The registered report writers.

    Raises
    ------
    RuntimeError
        When none are registered (:mod:`audit.reporting` was never imported).
    """
    if not _registered:
        raise RuntimeError(ERR_NO_RENDERERS)
    return _registered[0]
