"""`maas-audit diff`: regressions first, exit 1 on a regression, 2 on bad input."""

from __future__ import annotations

import copy
import json

import pytest

from audit.cli.main import main
from audit.reporting.diff import diff_reports, format_diff

FINDING = {
    "requirement_id": "impact-ratio",
    "title": "Impact ratio",
    "severity": "blocking",
    "verdict": "PASS",
    "measured": 0.85,
    "grouping": ["sex"],
}


def _report(**changes):
    report = {
        "schema": "maas-audit/report",
        "schema_version": 1,
        "verdict": "PASS",
        "policy": {
            "requirements": [
                {"id": "impact-ratio", "title": "Impact ratio"},
                {"id": "tpr-gap", "title": "TPR gap"},
            ]
        },
        "findings": [
            FINDING,
            {**FINDING, "grouping": ["race"], "measured": 0.9},
            {
                **FINDING,
                "requirement_id": "tpr-gap",
                "title": "TPR gap",
                "severity": "advisory",
                "verdict": "INCONCLUSIVE",
                "measured": None,
            },
        ],
        "provenance": {
            "data_sha256": "a" * 64,
            "model_sha256": "b" * 64,
            "policy_sha256": "c" * 64,
            "seed": 0,
            "versions": {"maas-audit": "0.1.0"},
        },
    }
    report.update(changes)
    return report


def _write(path, report):
    path.write_text(json.dumps(report), encoding="utf-8")
    return str(path)


def test_identical_reports_have_no_changes(tmp_path, capsys):
    old = _write(tmp_path / "a.json", _report())
    assert main(["diff", old, old]) == 0
    assert capsys.readouterr().out == "overall verdict: PASS -> PASS\nno changes\n"


def test_regressions_come_first_and_exit_1(tmp_path, capsys):
    new = _report(verdict="FAIL")
    new["findings"] = copy.deepcopy(new["findings"])
    new["findings"][0].update(verdict="FAIL", measured=0.71)
    new["findings"][2].update(verdict="PASS", measured=0.04)
    new["provenance"] = {**new["provenance"], "model_sha256": "d" * 64}
    code = main(["diff", _write(tmp_path / "a.json", _report()), _write(tmp_path / "b.json", new)])
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert out[0] == "overall verdict: PASS -> FAIL"
    assert out[1] == "regressions (1):"
    assert out[2] == "  PASS -> FAIL  impact-ratio [sex] (blocking)"
    assert out[3] == "improvements (1):"
    assert "  impact-ratio [sex]: 0.8500 -> 0.7100 (-0.1400)" in out
    assert "  tpr-gap [sex]: not measured -> 0.0400" in out
    assert f"  model SHA-256: {'b' * 64} -> {'d' * 64}" in out


def test_improvement_only_exits_0(tmp_path):
    old = _report()
    new = copy.deepcopy(old)
    new["findings"][2]["verdict"] = "PASS"
    assert main(["diff", _write(tmp_path / "a.json", old), _write(tmp_path / "b.json", new)]) == 0


def test_added_and_removed_requirements(tmp_path):
    new = copy.deepcopy(_report())
    new["policy"]["requirements"][1] = {"id": "fpr-gap", "title": "FPR gap"}
    new["findings"][2]["requirement_id"] = "fpr-gap"
    changes = diff_reports(_report(), new)
    assert [r.requirement_id for r in changes.added] == ["fpr-gap"]
    assert [r.requirement_id for r in changes.removed] == ["tpr-gap"]
    text = format_diff(changes)
    assert text.index("new requirements") < text.index("removed requirements")
    assert not changes.has_regressions


def test_inconclusive_to_fail_is_a_regression():
    new = copy.deepcopy(_report())
    new["findings"][2]["verdict"] = "FAIL"
    (change,) = diff_reports(_report(), new).regressions
    assert (change.old, change.new, change.severity) == ("INCONCLUSIVE", "FAIL", "advisory")


def test_json_output(tmp_path, capsys):
    path = _write(tmp_path / "a.json", _report())
    assert main(["diff", path, path, "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["has_regressions"] is False and payload["regressions"] == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot be read"),
        ("{not json", "not JSON"),
        ('{"schema": "other"}', "not a maas-audit JSON report"),
        ("[]", "not a maas-audit JSON report"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, content, message):
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content, encoding="utf-8")
    good = _write(tmp_path / "a.json", _report())
    assert main(["diff", str(bad), good]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "bad.json" in err


def test_real_reports_round_trip(tmp_path, capsys):
    import pandas as pd

    from audit import run_audit

    frame = pd.DataFrame({"y": [1, 0] * 40, "p": [1, 0] * 40, "sex": ["a"] * 40 + ["b"] * 40})
    worse = frame.assign(p=[1, 0] * 20 + [0] * 40)
    paths = []
    for name, data in (("old", frame), ("new", worse)):
        result = run_audit(
            model="column:p", data=data, policy="four-fifths", target="y", sensitive=["sex"]
        )
        paths.append(str(result.to_json(tmp_path / f"{name}.json")))
    main(["diff", *paths])
    out = capsys.readouterr().out
    assert "PASS -> FAIL  four-fifths-selection-rate [sex] (blocking)" in out
    assert "data SHA-256" in out


def test_strings_from_a_report_cannot_forge_lines_or_reach_the_terminal(tmp_path, capsys):
    old = _report()
    new = copy.deepcopy(old)
    new["findings"][0]["verdict"] = "FAIL\x1b[31m\nverdict: PASS (forged)"
    paths = []
    for name, report in (("old.json", old), ("new.json", new)):
        path = tmp_path / name
        path.write_text(json.dumps(report), encoding="utf-8")
        paths.append(str(path))
    main(["diff", *paths])
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert not any(line.startswith("verdict: PASS") for line in out.splitlines())
