import subprocess
import sys

import audit

EXPECTED = {
    "AuditDetails",
    "AuditError",
    "AuditResult",
    "Auditor",
    "ExitCode",
    "Finding",
    "LoadedPolicy",
    "ModelAdapter",
    "OverallVerdict",
    "Policy",
    "Predictions",
    "Severity",
    "SignOff",
    "Verdict",
    "__version__",
    "load_policy",
    "run_audit",
}


def test_all_is_exactly_the_public_names():
    assert set(audit.__all__) == EXPECTED


def test_every_public_name_resolves():
    for name in audit.__all__:
        assert getattr(audit, name) is not None


def test_exit_codes_are_a_public_contract():
    assert [int(code) for code in audit.ExitCode] == [0, 1, 2]


def test_a_result_renders_without_core_importing_reporting():
    # audit.core never imports audit.reporting (lint-imports checks it); results reach the
    # report writers through the registry that importing audit.reporting fills, which
    # `from audit import AuditResult` does.
    code = (
        "import sys\n"
        "from audit.core.result import AuditResult\n"
        "assert 'audit.reporting' not in sys.modules\n"
        "from audit.core.renderers import renderers\n"
        "try:\n"
        "    renderers()\n"
        "except RuntimeError as exc:\n"
        "    assert 'import audit.reporting' in str(exc)\n"
        "else:\n"
        "    raise AssertionError('writers registered before audit.reporting was imported')\n"
        "from audit import AuditResult as Public\n"
        "assert Public is AuditResult and 'audit.reporting' in sys.modules\n"
        "assert renderers().write_html.__module__ == 'audit.reporting.html'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
