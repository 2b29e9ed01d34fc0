"""The overall verdict: PASS only when every blocking requirement was measured and passed."""

import pytest

from audit.core.findings import Finding, OverallVerdict, Severity, Verdict, overall_verdict
from audit.errors import ExitCode

B, A = Severity.BLOCKING, Severity.ADVISORY
P, F, U = Verdict.PASS, Verdict.FAIL, Verdict.INCONCLUSIVE  # U: unsure


def finding(severity, verdict, requirement="r"):
    return Finding(
        requirement_id=requirement,
        title="t",
        citation="c",
        auditor="fairness",
        metric="selection_rate",
        comparison="ratio_to_max",
        threshold=0.8,
        severity=severity,
        verdict=verdict,
        measured=None if verdict is U else 0.9,
        grouping=("sex",),
        summary="s",
    )


@pytest.mark.parametrize(
    ("findings", "expected"),
    [
        ([(B, P)], OverallVerdict.PASS),
        ([(B, P), (A, F)], OverallVerdict.PASS),  # advisory findings never gate
        ([(B, P), (A, U)], OverallVerdict.PASS),  # ... and are named on the verdict line
        ([(B, F), (B, U)], OverallVerdict.FAIL),
        ([(B, P), (B, U)], OverallVerdict.INCONCLUSIVE),
        ([(A, P)], OverallVerdict.ADVISORY),
        ([(A, F), (A, P)], OverallVerdict.ADVISORY),
        ([(A, P), (A, U)], OverallVerdict.INCONCLUSIVE),  # not every requirement measured
        ([(A, U)], OverallVerdict.INCONCLUSIVE),
        ([], OverallVerdict.INCONCLUSIVE),  # nothing measured is never a pass
    ],
)
def test_overall_verdict(findings, expected):
    assert overall_verdict(finding(s, v) for s, v in findings) is expected


@pytest.mark.parametrize(
    ("verdict", "code"),
    [
        (OverallVerdict.PASS, ExitCode.PASSED),
        (OverallVerdict.ADVISORY, ExitCode.PASSED),
        (OverallVerdict.FAIL, ExitCode.FAILED),
        (OverallVerdict.INCONCLUSIVE, ExitCode.FAILED),
    ],
)
def test_exit_codes(verdict, code):
    assert verdict.exit_code is code
    assert verdict.meaning
