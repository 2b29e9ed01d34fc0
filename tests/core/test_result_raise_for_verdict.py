"""raise_for_verdict: quiet on PASS and ADVISORY, AuditFailed naming what did not pass."""

from __future__ import annotations

import dataclasses

import pytest

from audit.core.findings import OverallVerdict, Severity, Verdict
from audit.errors import AuditFailed, ExitCode
from tests.reporting.conftest import make_result


def test_a_failing_audit_raises_naming_the_requirements_that_did_not_pass():
    result = make_result()
    assert result.verdict is OverallVerdict.FAIL
    with pytest.raises(AuditFailed) as raised:
        result.raise_for_verdict()
    unsettled = {f.requirement_id for f in result.findings if f.verdict is not Verdict.PASS}
    assert set(raised.value.requirements) == unsettled
    assert raised.value.verdict == "FAIL" and raised.value.exit_code is ExitCode.FAILED
    assert all(rid in str(raised.value) for rid in unsettled)


def test_pass_and_advisory_return_quietly():
    base = make_result()
    passing = tuple(dataclasses.replace(f, verdict=Verdict.PASS) for f in base.findings)
    assert dataclasses.replace(base, findings=passing).raise_for_verdict() is None
    advisory = tuple(dataclasses.replace(f, severity=Severity.ADVISORY) for f in passing)
    result = dataclasses.replace(base, findings=advisory)
    assert result.verdict is OverallVerdict.ADVISORY
    assert result.raise_for_verdict() is None


def test_an_inconclusive_audit_raises_too():
    base = make_result()
    unsettled = tuple(dataclasses.replace(f, verdict=Verdict.INCONCLUSIVE) for f in base.findings)
    with pytest.raises(AuditFailed, match="INCONCLUSIVE"):
        dataclasses.replace(base, findings=unsettled).raise_for_verdict()
