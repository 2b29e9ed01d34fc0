"""Fairness and privacy gates in a model repository's own test suite.

>>> from audit.testing import assert_audit_passes  # doctest: +SKIP
>>> def test_screening_model_meets_the_four_fifths_rule():  # doctest: +SKIP
...     assert_audit_passes(model=model, data="holdout.csv", policy="four-fifths",
...                         target="hired", positive_label="yes", sensitive=["sex", "race"])

A failing gate fails the test with the findings that did not pass, one per line, so that
pytest's output says what to fix; the reports are written only when ``out`` is given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audit.core.findings import OverallVerdict, Verdict
from audit.core.result import AuditResult

__all__ = ["assert_audit_passes"]


def assert_audit_passes(
    *, out: str | Path | None = None, allow_advisory_only: bool = True, **audit: Any
) -> AuditResult:
    """Run :func:`audit.run_audit` with ``audit`` and fail unless its verdict is a pass.

    Parameters
    ----------
    out
        A folder to write ``report.html`` and ``report.json`` into, pass or fail.
    allow_advisory_only
        Accept the ADVISORY verdict (a policy with no blocking requirement, every
        requirement measured); ``False`` demands PASS.
    **audit
        The keyword arguments of :func:`audit.run_audit`.

    Returns
    -------
    AuditResult
        The result, for further checks.

    Raises
    ------
    AssertionError
        When the verdict is FAIL or INCONCLUSIVE (or ADVISORY, if not allowed), listing
        every finding that did not pass.
    """
    from audit.runner import run_audit

    result = run_audit(**audit)
    if out is not None:
        result.to_html(Path(out) / "report.html")
        result.to_json(Path(out) / "report.json")
    accepted = {OverallVerdict.PASS} | ({OverallVerdict.ADVISORY} if allow_advisory_only else set())
    if result.verdict not in accepted:
        lines = [
            f"- {f.verdict.value} {f.requirement_id} ({f.severity.value}): {f.summary}"
            for f in result.findings
            if f.verdict is not Verdict.PASS
        ]
        verdict = result.verdict
        raise AssertionError(
            "\n".join([f"audit verdict {verdict.value}: {verdict.meaning}", *lines])
        )
    return result
