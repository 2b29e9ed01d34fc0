"""The overall verdict never claims more than the findings show, and every output agrees.

The command line's last verdict line, the exit code, the HTML report's badge and page
title, and report.json's ``verdict`` and ``passed`` all say the same thing.
"""

import json
import re
import textwrap

import numpy as np
import pytest

from audit.cli.main import main


def _decision_log(adult_sample, tmp_path, *, sex_missing=False):
    """Adult rows with a decision selecting a quarter of each sex (equal rates)."""
    log = adult_sample[["sex", "race", "income"]].copy()
    log["decision"] = 0
    for _, index in log.groupby("sex").groups.items():
        log.loc[list(index)[: len(index) // 4], "decision"] = 1
    if sex_missing:
        log["sex"] = np.nan
    path = tmp_path / "log.csv"
    log.to_csv(path, index=False)
    return path


def _policy(tmp_path, requirements):
    path = tmp_path / "policy.yaml"
    path.write_text(
        "name: verdict-test\nversion: '1'\nauditors:\n  fairness:\n    min_group_size: 30\n"
        "requirements:\n" + textwrap.indent(textwrap.dedent(requirements), "  ")
    )
    return path


REQUIREMENT = """\
- id: {id}
  title: Selection rate ratio
  citation: a test
  auditor: fairness
  metric: selection_rate
  compare: ratio_to_max
  threshold: 0.8
  severity: {severity}
  group_by: [{column}]
"""


def _audit(data, policy, sensitive, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(
        [
            "run",
            "--model",
            "column:decision",
            "--data",
            str(data),
            "--target",
            "income",
            "--positive-label",
            ">50K",
            "--sensitive",
            sensitive,
            "--policy",
            str(policy),
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    stdout = capsys.readouterr().out
    (line,) = [x for x in stdout.splitlines() if x.startswith("verdict: ")]
    report = json.loads((out / "report.json").read_text())
    html = (out / "report.html").read_text()
    title = html[: html.index("</head>")].split("<title>")[1].split("</title>")[0]
    (badge,) = re.findall(r'role="status" aria-label="Overall verdict: (\w+)"', html)
    return code, line, report, title, badge, html


def _agree(verdict, code, line, report, title, badge):
    assert line.startswith(f"verdict: {verdict} (")
    assert report["verdict"] == verdict
    assert report["passed"] is (verdict == "PASS")
    assert title.endswith(f"({verdict})")
    assert badge == verdict
    assert code == (0 if verdict in ("PASS", "ADVISORY") else 1)


def test_nyc_ll144_with_sex_entirely_missing_is_never_a_pass(adult_sample, tmp_path, capsys):
    # The reproduction of issue 13: nyc-ll144 has only advisory requirements, and with the
    # sex column empty its sex findings cannot be established.  That used to print PASS.
    data = _decision_log(adult_sample, tmp_path, sex_missing=True)
    code, line, report, title, badge, _ = _audit(data, "nyc-ll144", "sex,race", tmp_path, capsys)
    assert any(f["verdict"] == "INCONCLUSIVE" for f in report["findings"])
    assert not any(f["severity"] == "blocking" for f in report["findings"])
    _agree("INCONCLUSIVE", code, line, report, title, badge)
    assert "; INCONCLUSIVE: " in line


def test_advisory_only_policy_measured_in_full_is_advisory_not_pass(adult_sample, tmp_path, capsys):
    data = _decision_log(adult_sample, tmp_path)
    policy = _policy(tmp_path, REQUIREMENT.format(id="by-sex", severity="advisory", column="sex"))
    code, line, report, title, badge, html = _audit(data, policy, "sex", tmp_path, capsys)
    assert [f["verdict"] for f in report["findings"]] == ["PASS"]
    _agree("ADVISORY", code, line, report, title, badge)
    assert line == "verdict: ADVISORY (no blocking requirement; advisory findings only)"
    assert "its findings are advisory only" in html


def test_blocking_pass_states_an_inconclusive_advisory_requirement(adult_sample, tmp_path, capsys):
    # sex is measured and passes (equal rates); race has groups under 30 rows, so its
    # advisory comparison is INCONCLUSIVE: the verdict is PASS and says so at once.
    data = _decision_log(adult_sample, tmp_path)
    policy = _policy(
        tmp_path,
        REQUIREMENT.format(id="by-sex", severity="blocking", column="sex")
        + REQUIREMENT.format(id="by-race", severity="advisory", column="race"),
    )
    code, line, report, title, badge, html = _audit(data, policy, "sex,race", tmp_path, capsys)
    verdicts = {f["requirement_id"]: f["verdict"] for f in report["findings"]}
    assert verdicts == {"by-sex": "PASS", "by-race": "INCONCLUSIVE"}
    _agree("PASS", code, line, report, title, badge)
    assert line.endswith("; INCONCLUSIVE: by-race")
    summary = html[html.index('class="verdict-statement') :]
    summary = summary[: summary.index("</p>")]
    assert "1 advisory requirement could not be established from the evidence" in summary


@pytest.mark.parametrize("severity", ["blocking", "advisory"])
def test_everything_inconclusive_exits_1(adult_sample, tmp_path, capsys, severity):
    data = _decision_log(adult_sample, tmp_path)
    policy = _policy(tmp_path, REQUIREMENT.format(id="by-race", severity=severity, column="race"))
    code, line, report, title, badge, _ = _audit(data, policy, "race", tmp_path, capsys)
    assert [f["verdict"] for f in report["findings"]] == ["INCONCLUSIVE"]
    _agree("INCONCLUSIVE", code, line, report, title, badge)
