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
