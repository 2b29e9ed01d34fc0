"""A model that fails inside an auditor's own work: that auditor's requirements are INCONCLUSIVE.

The rule (:mod:`audit.engine.steps`): an auditor that raises, a
:class:`~audit.errors.ModelError` from an endpoint included, never stops the audit and
never passes; each of its requirements is INCONCLUSIVE and names the failure, and the
other auditors' findings stand.  A model that fails while the table is scored, before
any auditor ran, stops the audit (exit code 2).
"""

import json
import textwrap

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from audit import run_audit
from audit.cli.main import main
from audit.core.findings import Verdict
from audit.core.protocols import Predictions
from audit.errors import EndpointError
from audit.plugins import get_auditor

FAILURE = "http://127.0.0.1:9/invocations answered 503 after 3 retries"
METRIC = {
    "fairness": ("selection_rate", "ratio_to_max", 0.8),
    "explanations": ("sensitive_attribution_share", "at_most", 0.1),
    "privacy": ("attack_advantage", "at_most", 0.1),
    "masking": ("k_anonymity", "at_least", 5),
    "counterfactual": ("flip_rate", "at_most", 0.1),
}
REQUIREMENT = """\
- id: {id}
  title: A requirement
  citation: a test
  auditor: {auditor}
  metric: {metric}
  compare: {compare}
  threshold: {threshold}
  severity: blocking
"""


def _requirement(auditor, id_):
    metric, compare, threshold = METRIC[auditor]
    return REQUIREMENT.format(
        id=id_, auditor=auditor, metric=metric, compare=compare, threshold=threshold
    )


def _policy(folder, *auditors):
    requirements = "".join(_requirement(a, f"{a}-requirement") for a in auditors)
    path = folder / "policy.yaml"
    path.write_text(
        "name: failure-test\nversion: '1'\nrequirements:\n" + textwrap.indent(requirements, "  ")
    )
    return path


@pytest.fixture
def decision_log(adult_sample, tmp_path):
    """Adult rows whose decision selects a quarter of each sex: four-fifths passes."""
    log = adult_sample[["age", "sex", "race", "income"]].copy()
    log["decision"] = 0
    for _, index in log.groupby("sex").groups.items():
        log.loc[list(index)[: len(index) // 4], "decision"] = 1
    path = tmp_path / "log.csv"
    log.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("name", sorted(METRIC))
def test_a_model_error_inside_any_builtin_auditor_is_inconclusive_and_named(
    name, decision_log, tmp_path, monkeypatch, capsys
):
    def fail(self, context, config):
        raise EndpointError(FAILURE)

    monkeypatch.setattr(type(get_auditor(name)), "run", fail)
    policy = _policy(tmp_path, *dict.fromkeys([name, "fairness"]))
    out = tmp_path / "out"
    code = main(
        [
            "run",
            "--model",
            "column:decision",
            "--data",
            str(decision_log),
            "--target",
            "income",
            "--positive-label",
            ">50K",
            "--sensitive",
            "sex",
            "--policy",
            str(policy),
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    captured = capsys.readouterr()
    stdout = captured.out
    assert code == 1, captured.err
    assert "verdict: INCONCLUSIVE" in stdout
    report = json.loads((out / "report.json").read_text())
    (failed,) = [f for f in report["findings"] if f["auditor"] == name]
    assert failed["verdict"] == "INCONCLUSIVE"
    assert failed["reasons"] == [f"auditor '{name}' failed: EndpointError: {FAILURE}"]
    (entry,) = [a for a in report["auditors"] if a["auditor"] == name]
    assert entry["failure"] == failed["reasons"][0] and entry["metrics"] == []
    others = [f for f in report["findings"] if f["auditor"] != name]
    assert all(f["verdict"] == "PASS" for f in others)  # the other auditor's findings stand
    assert others or name == "fairness"


def test_an_endpoint_failing_during_explanations_leaves_fairness_measured(adult_sample, tmp_path):
    # A real failure, not a patched one: the model answers the scoring pass, then fails on
    # every later call, as an endpoint that goes down in the middle of an audit does.
    features = ["age", "education-num", "hours-per-week"]
    data = adult_sample[[*features, "sex", "income"]]
    fitted = LogisticRegression(max_iter=500).fit(data[features], data["income"])
    calls = []

    def model(frame):
        calls.append(len(frame))
        if len(calls) > 1:
            raise EndpointError(FAILURE)
        proba = fitted.predict_proba(frame[features])[:, 1]
        return Predictions(labels=np.where(proba >= 0.5, ">50K", "<=50K"), scores=proba)

    result = run_audit(
        model=model,
        data=data,
        policy=_policy(tmp_path, "explanations", "fairness"),
        target="income",
        positive_label=">50K",
        sensitive=["sex"],
        features=features,
    )
    assert len(calls) > 1  # the explanations auditor did call the failing model
    by_auditor = {}
    for finding in result.findings:
        by_auditor.setdefault(finding.auditor, []).append(finding)
    explained = by_auditor.pop("explanations")
    assert all(f.verdict is Verdict.INCONCLUSIVE for f in explained)
    assert all(f"EndpointError: {FAILURE}" in f.reasons[0] for f in explained)
    assert result.verdict != "PASS"
    measured = [f for findings in by_auditor.values() for f in findings]
    assert measured and all(f.measured is not None for f in measured)


def test_an_endpoint_failing_while_the_table_is_scored_stops_with_exit_2(
    decision_log, tmp_path, capsys
):
    code = main(
        [
            "run",
            "--model",
            "http://127.0.0.1:9/invocations",
            "--max-retries",
            "0",
            "--timeout",
            "2",
            "--data",
            str(decision_log),
            "--target",
            "income",
            "--sensitive",
            "sex",
            "--policy",
            "four-fifths",
            "--out",
            str(tmp_path / "out"),
            "--no-progress",
        ]
    )
    captured = capsys.readouterr()
    assert code == 2
    assert len(captured.err.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "report.json").exists()
