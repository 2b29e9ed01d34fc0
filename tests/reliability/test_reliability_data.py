"""Hostile data through the real command line: one line and exit 2, or a legitimate verdict.

Every refusal names what is wrong and what is there, writes no report, and prints no
traceback.  Data that can be audited but not fully (single-class groups, a target with
one class) gives UNDEFINED groups and INCONCLUSIVE requirements, never a PASS built on
missing evidence.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit import run_audit
from audit.errors import DataError


def _args(
    data: Path, policy: Path, out: Path, *extra: str, model: str = "column:pred"
) -> list[str]:
    return [
        "run",
        "--model",
        model,
        "--data",
        str(data),
        "--target",
        "y",
        "--sensitive",
        "s",
        "--policy",
        str(policy),
        "--out",
        str(out),
        "--no-progress",
        *extra,
    ]


def _csv(frame: pd.DataFrame, folder: Path) -> Path:
    path = folder / "data.csv"
    frame.to_csv(path, index=False)
    return path


REFUSED = [
    # (case, how the data changes, extra CLI arguments, model spec, message fragment)
    ("header only", lambda f: f.iloc[:0], (), "column:pred", "has no rows"),
    (
        "misspelled sensitive column",
        lambda f: f.rename(columns={"s": "sex"}),
        (),
        "column:pred",
        "sensitive column 's' is not in the data. Columns are: sex, y, x, p, pred",
    ),
    (
        "misspelled target",
        lambda f: f.rename(columns={"y": "yy"}),
        (),
        "column:pred",
        "target column 'y' is not in the data; did you mean 'yy'?",
    ),
    (
        "missing decision column",
        lambda f: f.drop(columns=["pred"]),
        (),
        "column:pred",
        "missing from the data: pred",
    ),
    (
        "NaN in target",
        lambda f: f.assign(y=f["y"].where(f.index % 10 != 0)),
        (),
        "column:pred",
        "target column 'y' has 20 missing values",
    ),
    (
        "NaN in decisions",
        lambda f: f.assign(pred=f["pred"].where(f.index % 50 != 0)),
        (),
        "column:pred",
        "decision column 'pred' has 4 missing value(s)",
    ),
    (
        "unseen predicted labels",
        lambda f: f.assign(pred=np.where(f.index % 2 == 0, "maybe", "no")),
        (),
        "column:pred",
        "the model predicted labels 'maybe', 'no', which are not among the target's labels",
    ),
    (
        "non-binary predictions",
        lambda f: f.assign(pred=f.index % 4),
        (),
        "column:pred",
        "the model predicted labels '0', '1', '2', '3'",
    ),
    (
        "scores without a threshold",
        lambda f: f,
        (),
        "column:p",
        "look like scores",
    ),
    (
        "threshold without scores",
        lambda f: f,
        ("--threshold", "0.5"),
        "column:pred",
        "a score threshold (0.5) was given but the model returns labels only",
    ),
    (
        "threshold out of range",
        lambda f: f,
        ("--threshold", "50"),
        "column:pred,score=p",
        "the score threshold must lie between 0 and 1; got 50.0",
    ),
    (
        "text in the score column",
        lambda f: f.assign(p=np.where(f.index == 3, "high", f["p"].astype(str))),
        ("--threshold", "0.5"),
        "column:pred,score=p",
        "score column 'p' holds values that are not numbers",
    ),
    (
        "mixed types in the target",
        lambda f: f.assign(y=np.where(f.index % 3 == 0, "yes", f["y"].astype(str))),
        (),
        "column:pred",
        "target column 'y' has 3 classes ('0', '1', 'yes')",
    ),
    (
        "positive label absent",
        lambda f: f,
        ("--positive-label", "approved"),
        "column:pred",
        "positive label 'approved' does not occur in target column 'y'; its values are '0', '1'",
    ),
    (
        "one target class, not 0/1, no positive label",
        lambda f: f.assign(y="rejected"),
        (),
        "column:pred",
        "target column 'y' has values 'rejected'; name the favourable one with --positive-label",
    ),
]


@pytest.mark.parametrize(
    ("change", "extra", "model", "message"),
    [case[1:] for case in REFUSED],
    ids=[case[0] for case in REFUSED],
)
def test_bad_data_is_one_line_exit_2_and_no_report(
    change, extra, model, message, decisions, fast_policy, tmp_path, cli, usage_error
):
    out = tmp_path / "out"
    data = _csv(change(decisions), tmp_path)
    code, stdout, stderr = cli(_args(data, fast_policy, out, *extra, model=model))
    usage_error(code, stderr)
    assert message in stderr
    assert stdout == ""
    assert not out.exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "is empty"),
        ("latin1.csv", "s,y,pred\nJos\xe9,1,1\n".encode("latin-1"), "(line 2: byte 0xe9)"),
        ("dupes.csv", b"s,y,s,pred\na,1,b,1\nb,0,a,0\n", "has duplicated column names: s"),
        ("binary.csv", bytes(range(256)) * 4, "data file"),
        ("ragged.csv", b"s,y,pred\na,1,1,9,9\n", "data file"),
    ],
)
def test_unreadable_files_are_one_line(
    name, content, message, fast_policy, tmp_path, cli, usage_error
):
    data = tmp_path / name
    data.write_bytes(content)
    out = tmp_path / "out"
    code, _, stderr = cli(_args(data, fast_policy, out))
    usage_error(code, stderr)
    assert message in stderr
    assert not out.exists()


def _report(out: Path) -> dict:
    return json.loads((out / "report.json").read_text(encoding="utf-8"))


def _verdicts(report: dict) -> dict[str, str]:
    return {f["requirement_id"]: f["verdict"] for f in report["findings"]}


def _warnings_only(stderr: str) -> list[str]:
    """The lines of ``stderr``, each an auditor's warning (no error, no traceback)."""
    lines = stderr.splitlines()
    assert all(line.startswith("maas-audit: warning: ") for line in lines), stderr
    return lines


def test_missing_sensitive_values_form_the_unknown_group(decisions, fast_policy, tmp_path, cli):
    frame = decisions.assign(s=decisions["s"].where(decisions.index % 8 != 0))
    out = tmp_path / "out"
    code, _, stderr = cli(_args(_csv(frame, tmp_path), fast_policy, out))
    assert code in (0, 1)
    assert "sensitive column 's' is missing for 25 of 200 rows" in "".join(_warnings_only(stderr))
    fairness = _report(out)["auditors"][0]
    groups = {g["group"] for m in fairness["metrics"] for g in m["groups"]}
    assert "s=unknown" in groups


def test_single_class_groups_are_undefined_never_a_pass(decisions, fast_policy, tmp_path, cli):
    # Every member of group a is a true positive: group a has no actual negatives.
    frame = decisions.assign(y=np.where(decisions["s"] == "a", 1, decisions["y"]))
    out = tmp_path / "out"
    code, stdout, stderr = cli(_args(_csv(frame, tmp_path), fast_policy, out))
    assert stderr == ""
    assert code == 1  # a blocking requirement could not be established
    report = _report(out)
    assert _verdicts(report)["fpr"] == "INCONCLUSIVE"
    fpr = next(m for m in report["auditors"][0]["metrics"] if m["metric"] == "false_positive_rate")
    statuses = {g["group"]: g["status"] for g in fpr["groups"]}
    assert statuses["s=a"] == "undefined"
    assert "INCONCLUSIVE" in stdout and "verdict: INCONCLUSIVE" in stdout


@pytest.mark.parametrize(("value", "undefined"), [(0, "tpr"), (1, "fpr")])
def test_a_target_with_one_class_runs_and_is_inconclusive_where_undefined(
    value, undefined, decisions, fast_policy, tmp_path, cli
):
    # 0/1 data where every row is 0 (or 1): the audit runs; rates that need the other
    # class are undefined, so their requirements are INCONCLUSIVE; the exit code is 1.
    out = tmp_path / "out"
    code, _, stderr = cli(_args(_csv(decisions.assign(y=value), tmp_path), fast_policy, out))
    assert stderr == ""
    assert code == 1
    report = _report(out)
    assert _verdicts(report)[undefined] == "INCONCLUSIVE"
    assert report["verdict"] == "INCONCLUSIVE" or report["verdict"] == "FAIL"
    assert report["data"]["positive_label"] == "1"


def test_one_row_is_inconclusive_not_a_crash(decisions, fast_policy, tmp_path, cli):
    out = tmp_path / "out"
    code, _, stderr = cli(_args(_csv(decisions.iloc[:1], tmp_path), fast_policy, out))
    assert "only 0 of 1 groups can be compared" in "".join(_warnings_only(stderr))
    assert code == 1
    assert set(_verdicts(_report(out)).values()) == {"INCONCLUSIVE"}


def test_mixed_types_in_the_sensitive_column_are_groups_by_their_text(
    decisions, fast_policy, tmp_path, cli
):
    frame = decisions.assign(s=np.where(decisions.index % 2 == 0, "1", "b"))
    frame.loc[frame.index % 5 == 0, "s"] = "2.5"
    out = tmp_path / "out"
    code, _, stderr = cli(_args(_csv(frame, tmp_path), fast_policy, out))
    assert code in (0, 1) and stderr == ""
    groups = {g["group"] for m in _report(out)["auditors"][0]["metrics"] for g in m["groups"]}
    assert {"s=1", "s=b", "s=2.5"} <= groups


def _selection_rates(result) -> dict[str, float]:
    fairness = result.output("fairness")
    metric = next(
        m for m in fairness.metrics if m.metric == "selection_rate" and m.grouping == ("s",)
    )
    return {g.group: g.value for g in metric.groups}


def test_mixed_spellings_of_a_decision_count_as_one_label(decisions, fast_policy):
    # In memory, a decision column may hold 1 and "1": both mean the positive decision.
    as_int = run_audit(
        model="column:pred", data=decisions, policy=fast_policy, target="y", sensitive=["s"]
    )
    mixed = decisions.assign(
        pred=pd.Series(
            [str(v) if i % 2 else v for i, v in enumerate(decisions["pred"])], dtype=object
        )
    )
    as_mixed = run_audit(
        model="column:pred", data=mixed, policy=fast_policy, target="y", sensitive=["s"]
    )
    assert _selection_rates(as_mixed) == pytest.approx(_selection_rates(as_int))
    assert min(_selection_rates(as_int).values()) > 0


def test_boolean_target_infers_true_and_int_target_infers_1(decisions, fast_policy):
    ints = run_audit(
        model="column:pred", data=decisions, policy=fast_policy, target="y", sensitive=["s"]
    )
    bools = run_audit(
        model="column:pred",
        data=decisions.assign(y=decisions["y"].astype(bool)),
        policy=fast_policy,
        target="y",
        sensitive=["s"],
    )
    assert ints.data["positive_label"] == "1"
    assert bools.data["positive_label"] == "True"
    assert _selection_rates(ints) == pytest.approx(_selection_rates(bools))


def test_infinite_scores_are_refused(decisions, fast_policy):
    frame = decisions.assign(p=np.where(decisions.index == 7, np.inf, decisions["p"]))
    with pytest.raises(DataError, match="the model returned 1 infinite scores"):
        run_audit(
            model="column:pred,score=p",
            data=frame,
            policy=fast_policy,
            target="y",
            sensitive=["s"],
            threshold=0.5,
        )


def test_duplicated_columns_in_memory_are_refused(decisions, fast_policy):
    frame = pd.concat([decisions, decisions[["s"]]], axis=1)
    with pytest.raises(DataError, match="the data has duplicated column names: s"):
        run_audit(model="column:pred", data=frame, policy=fast_policy, target="y", sensitive=["s"])


def test_a_data_file_name_that_is_not_utf8_is_reported_and_verifiable(
    decisions, fast_policy, tmp_path, cli
):
    name = os.fsdecode(b"decisions-\xff.csv")  # how Python sees a Latin-1 file name
    data = tmp_path / name
    decisions.to_csv(data, index=False)
    out = tmp_path / "out"
    code, _, stderr = cli(_args(data, fast_policy, out))
    assert code in (0, 1), stderr
    report = _report(out)
    assert report["data"]["source"].endswith(name)
    assert "\\udcff" in (out / "report.html").read_text(encoding="utf-8")
    code, stdout, _ = cli(["verify", str(out / "report.json")])
    assert code == 0 and "intact" in stdout
