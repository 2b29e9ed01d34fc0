"""What ``maas-audit run`` prints beyond the findings: warnings on standard error, and
a requirement that does not apply named as such in the verdict line."""

import json

import pandas as pd

from audit.cli.main import main


def _log(tmp_path, rows):
    path = tmp_path / "log.csv"
    pd.DataFrame(rows, columns=["sex", "decision", "outcome"]).to_csv(path, index=False)
    return path


def _run(tmp_path, path, capsys, *extra):
    code = main(
        [
            "run",
            "--model",
            "column:decision",
            "--data",
            str(path),
            "--target",
            "outcome",
            "--positive-label",
            "1",
            "--sensitive",
            "sex",
            "--policy",
            "four-fifths",
            "--out",
            str(tmp_path / "out"),
            "--no-progress",
            *extra,
        ]
    )
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_auditor_warnings_go_to_stderr_one_line_each(tmp_path, capsys):
    # 'F' and 'f ' are two groups the data probably meant as one; 1,900 rows have no sex
    rows = (
        [("F", 1, 1)] * 100
        + [("F", 0, 0)] * 100
        + [("f ", 1, 1)] * 50
        + [("f ", 0, 0)] * 50
        + [("M", 1, 1)] * 100
        + [("M", 0, 0)] * 100
        + [(None, 1, 1)] * 1_900
    )
    code, out, err = _run(tmp_path, _log(tmp_path, rows), capsys)
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    (fairness,) = (a for a in report["auditors"] if a["auditor"] == "fairness")
    assert fairness["warnings"], "the report must hold the warnings the CLI prints"
    printed = [line for line in err.splitlines() if line.startswith("maas-audit: warning: ")]
    assert printed == [f"maas-audit: warning: fairness: {w}" for w in fairness["warnings"]]
    assert any("differ only in case or surrounding spaces" in line for line in printed)
    assert (
        "maas-audit: warning: fairness: sensitive column 'sex' is missing for 1,900 of 2,400 "
        "rows; they form the group 'sex=unknown'"
    ) in printed
    assert "maas-audit: warning" not in out  # stdout keeps the findings and the verdict
    assert code in (0, 1)


def test_not_applicable_requirement_is_named_in_the_verdict_line(tmp_path, capsys):
    rows = [("F", 1, 1)] * 50 + [("F", 0, 0)] * 50 + [("M", 1, 1)] * 50 + [("M", 0, 0)] * 50
    code, out, err = _run(tmp_path, _log(tmp_path, rows), capsys)
    assert code == 0, out + err
    verdict = next(line for line in out.splitlines() if line.startswith("verdict: "))
    assert verdict == (
        "verdict: PASS (every blocking requirement was measured and passed); "
        "not applicable: four-fifths-selection-rate-intersectional"
    )
    line = next(
        line for line in out.splitlines() if "four-fifths-selection-rate-intersectional" in line
    )
    assert "Not applicable: the audit has one sensitive column ('sex')" in line
