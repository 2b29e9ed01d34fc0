"""The PDF report for filing: the HTML report printed by headless Chromium.

The report is rendered for print (:func:`audit.reporting.html.render_html` with
``for_print=True``: a printed table of contents, each main section on a new page, the
sign-off block), loaded into Chromium through Playwright with every network request
refused, and printed with a running header (the policy and verdict) and a footer with
"page N of M".  The PDF's bytes are written atomically: a failure leaves no file, or
the previous one, never half a PDF.

Chromium is found at ``$MAAS_AUDIT_CHROMIUM``, else ``chromium``, ``chromium-browser``,
``google-chrome`` or ``google-chrome-stable`` on the ``PATH``; Playwright's Python
package drives it (``pip install 'maas-audit[pdf]'``).  Without either,
:func:`write_pdf` raises :class:`~audit.errors.UsageError` (exit code 2) with one line
saying what to install.
"""

from __future__ import annotations

import html
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from audit.errors import UsageError
from audit.reporting.html import render_html
from audit.reporting.write import write_atomic

if TYPE_CHECKING:
    from audit.core.result import AuditResult

__all__ = ["CHROMIUM_ARGS", "CHROMIUM_ENV", "find_chromium", "render_pdf", "write_pdf"]

CHROMIUM_ENV = "MAAS_AUDIT_CHROMIUM"
"""Environment variable naming the Chromium executable to print with."""

_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
)
"""Headless flags: no sandbox (root in containers), no GPU, and no background network."""
_PAPER = "A4"
_MARGIN: Final = ("20mm", "14mm", "18mm", "14mm")
"""Top, right, bottom, left: room for the running header and the page-number footer."""
_TIMEOUT_MS = 60_000

ERR_NO_CHROMIUM = (
    "PDF export needs Chromium: none found at ${env} or on the PATH as {names} "
    "(install Debian's 'chromium', or set {env} to the browser's path)"
)
ERR_BAD_CHROMIUM = "{env}={path!r} is not an executable file"
ERR_NO_PLAYWRIGHT = (
    "PDF export needs the 'playwright' Python package to drive Chromium "
    "(pip install 'maas-audit[pdf]'); no browser download is needed"
)
ERR_PRINT_FAILED = "Chromium could not print the report: {reason}"

_HEADER = (
    '<div style="font-size:7.5pt;color:#555b63;width:100%;padding:0 14mm;'
    'font-family:Helvetica,Arial,sans-serif;display:flex;justify-content:space-between;">'
    "<span>{title}</span><span>{verdict}</span></div>"
)
_FOOTER = (
    '<div style="font-size:7.5pt;color:#555b63;width:100%;padding:0 14mm;'
    'font-family:Helvetica,Arial,sans-serif;display:flex;justify-content:space-between;">'
    "<span>{policy_hash}</span>"
    '<span>Page <span class="pageNumber"></span> of <span class="totalPages"></span></span>'
    "</div>"
)


def find_chromium() -> Path:
    """Return the Chromium executable to print with.

    Returns
    -------
    Path
        ``$MAAS_AUDIT_CHROMIUM`` when set, else the first of ``chromium``,
        ``chromium-browser``, ``google-chrome``, ``google-chrome-stable`` on the ``PATH``.

    Raises
    ------
    UsageError
        No Chromium is found, or ``$MAAS_AUDIT_CHROMIUM`` is not an executable file.
    """
    configured = os.environ.get(CHROMIUM_ENV, "").strip()
    if configured:
        path = Path(configured)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise UsageError(ERR_BAD_CHROMIUM.format(env=CHROMIUM_ENV, path=configured))
        return path
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise UsageError(ERR_NO_CHROMIUM.format(env=CHROMIUM_ENV, names=", ".join(_CANDIDATES)))


def _header_footer(result: AuditResult) -> tuple[str, str]:
    # States what was measured against what; "compliance" would read as a determination.
    title = html.escape(f"Audit against policy {result.policy.name} {result.policy.version}")
    verdict = html.escape(f"Overall verdict: {result.verdict.value}")
    policy_hash = html.escape(f"policy SHA-256 {result.provenance.policy_sha256[:16]}")
    return (
        _HEADER.format(title=title, verdict=verdict),
        _FOOTER.format(policy_hash=policy_hash),
    )


def render_pdf(result: AuditResult) -> bytes:
    """Print the report of ``result`` to PDF and return the PDF's bytes.

    Parameters
    ----------
    result : AuditResult
        The audit to report.

    Returns
    -------
    bytes
        An A4 PDF with a running header, "page N of M" footers, a table of contents
        and the sign-off section.

    Raises
    ------
    UsageError
        Chromium or Playwright is missing, or Chromium failed to print.
    """
    chromium = find_chromium()
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise UsageError(ERR_NO_PLAYWRIGHT) from None
    document = render_html(result, for_print=True)
    header, footer = _header_footer(result)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(chromium), args=list(CHROMIUM_ARGS)
            )
            try:
                page = browser.new_page()
                page.route("**/*", _refuse)
                page.set_content(document, wait_until="load", timeout=_TIMEOUT_MS)
                page.emulate_media(media="print")
                data: bytes = page.pdf(
                    format=_PAPER,
                    print_background=True,
                    display_header_footer=True,
                    header_template=header,
                    footer_template=footer,
                    margin={
                        "top": _MARGIN[0],
                        "right": _MARGIN[1],
                        "bottom": _MARGIN[2],
                        "left": _MARGIN[3],
                    },
                    outline=True,
                    tagged=True,
                )
            finally:
                browser.close()
    except PlaywrightError as exc:
        reason = " ".join(str(exc.message).split())[:300]
        raise UsageError(ERR_PRINT_FAILED.format(reason=reason)) from None
    return data


def _refuse(route: Any) -> None:
    """Abort every request: the report is self-contained and must load nothing."""
    route.abort()


def write_pdf(result: AuditResult, path: Path) -> Path:
    """Print the report of ``result`` to PDF and write it atomically to ``path``.

    Nothing is written unless the whole PDF was produced; a previous file at ``path``
    is then kept.

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

    Raises
    ------
    UsageError
        Chromium or Playwright is missing, or Chromium failed to print.
    """
    return write_atomic(Path(path), render_pdf(result))
