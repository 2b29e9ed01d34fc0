"""Property-based tests: random command lines and random data never crash maas-audit.

Any argument list gives exit 0, 1 or 2 (one line on standard error for 2, never an
internal error); any small table through ``run_audit`` gives a result or a
:class:`~audit.errors.UsageError` / :class:`~audit.errors.ModelError`, and a PASS always
rests on measured values.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from audit import run_audit
from audit.cli.main import main
from audit.core.findings import Verdict
from audit.errors import ModelError, UsageError

FUZZ = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, decisions, fast_policy) -> Path:
    """A working directory holding data.csv, policy.yaml and an empty report.json."""
    monkeypatch.chdir(tmp_path)
    decisions.iloc[:60].to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "policy.yaml").write_text(fast_policy.read_text(encoding="utf-8"))
    (tmp_path / "report.json").write_text("{}", encoding="utf-8")
    return tmp_path


# Free text never holds ':' so that no token can name a module for the model spec to import.
FREE_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters=":\x00"),
    max_size=12,
)
TOKENS = st.sampled_from(
    [
        "run",
        "policy",
        "validate",
        "schema",
        "packs",
        "auditors",
        "verify",
        "--model",
        "--data",
        "--target",
        "--sensitive",
        "--policy",
        "--out",
        "--features",
        "--positive-label",
        "--threshold",
        "--task",
        "--seed",
        "--trust-pickle",
        "--batch-size",
        "--timeout",
        "--max-retries",
        "--header",
        "--no-progress",
        "--require-signature",
        "--help",
        "--version",
        "-h",
        "--",
        "-",
        "=",
        "column:pred",
        "column:pred,score=p",
        "column:",
        "column:p,score=",
        "model.onnx",
        "model.pkl",
        "model.skops",
        "data.csv",
        "policy.yaml",
        "four-fifths",
        "report.json",
        "out",
        ".",
        "..",
        "/",
        "y",
        "s",
        "x,s",
        "s,s",
        ",",
        "1",
        "0",
        "-1",
        "0.5",
        "nan",
        "inf",
        "1e999",
        "binary",
        "regression",
        "A=B",
        "Authorization=TOKEN_VAR",
        "<script>",
    ]
)


def _check_exit(code: int, err: str) -> None:
    assert code in (0, 1, 2), (code, err)
    assert "internal error" not in err, err
    assert "Traceback" not in err
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("maas-audit: "), err


@FUZZ
@given(argv=st.lists(st.one_of(TOKENS, FREE_TEXT), max_size=14))
@example(argv=["auditors", "\n"])  # once printed its error on two lines
def test_any_argument_list_exits_0_1_or_2(argv, workspace, capsys):
    code = main(argv)
    _check_exit(code, capsys.readouterr().err)


VALUES = {  # option: (a good value, bad ones)
    "--model": ("column:pred", ["column:pred,score=p", "column:x", "model.onnx", "column:"]),
    "--data": ("data.csv", ["missing.csv", "policy.yaml", "."]),
    "--target": ("y", ["s", "x", "pred", "Y"]),
    "--sensitive": ("s", ["s,x", "y", "x", "s,s", ","]),
    "--policy": ("policy.yaml", ["four-fifths", "data.csv", "nope"]),
    "--out": ("out", ["data.csv", "out/deeper", "."]),
}
OPTIONAL = st.lists(
    st.sampled_from(
        [
            ["--positive-label", "1"],
            ["--positive-label", "yes"],
            ["--threshold", "0.5"],
            ["--threshold", "2"],
            ["--task", "regression"],
            ["--task", "binary"],
            ["--features", "x"],
            ["--features", "x,y"],
            ["--seed", "-3"],
            ["--batch-size", "0"],
            ["--batch-size", "7"],
            ["--trust-pickle"],
            ["--no-progress"],
        ]
    ),
    max_size=4,
)


@FUZZ
@given(data=st.data())
def test_nearly_valid_run_command_lines_exit_0_1_or_2(data, workspace, capsys):
    argv = ["run"]
    for option, (good, bad) in VALUES.items():
        if data.draw(st.integers(0, 19), label=f"omit {option}") == 0:
            continue
        wrong = data.draw(st.integers(0, 9), label=f"{option} wrong") == 0
        argv += [option, data.draw(st.sampled_from(bad), label=option) if wrong else good]
    for extra in data.draw(OPTIONAL, label="options"):
        argv += extra
    code = main(argv)
    _check_exit(code, capsys.readouterr().err)


# --- random data through run_audit ----------------------------------------------------------


def _column(kind: str, n: int, draw: Any) -> pd.Series:
    pick = {
        "binary": st.sampled_from([0, 1]),
        "small int": st.integers(-2, 3),
        "float": st.floats(allow_nan=True, allow_infinity=True, width=32),
        "unit float": st.one_of(st.floats(0, 1), st.just(float("nan"))),
        "bool": st.booleans(),
        "text": st.sampled_from(["a", "b", "yes", "no", "", " ", "<b>", "é"]),
        "text or none": st.one_of(st.none(), st.sampled_from(["a", "b", "yes", "no"])),
        "mixed": st.one_of(
            st.none(), st.integers(0, 2), st.sampled_from(["1", "0", "x"]), st.booleans()
        ),
    }[kind]
    values = draw(st.lists(pick, min_size=n, max_size=n), label=kind)
    series = pd.Series(values, dtype=object)
    if kind in ("binary", "small int", "float", "unit float", "bool"):
        series = pd.Series(values)
    if kind == "text" and draw(st.booleans(), label="category"):
        series = series.astype("category")
    return series


KINDS = st.sampled_from(
    ["binary", "small int", "float", "unit float", "bool", "text", "text or none", "mixed"]
)


@FUZZ
@given(data=st.data())
def test_random_tables_give_a_result_or_an_audit_error(data, fast_policy):
    n = data.draw(st.integers(0, 24), label="rows")
    frame = pd.DataFrame(
        {
            name: _column(data.draw(KINDS, label=f"{name} kind"), n, data.draw)
            for name in ("s", "y", "pred", "p")
        }
    )
    options: dict[str, Any] = {
        "positive_label": data.draw(st.sampled_from([None, 1, "1", "yes", True]), label="label"),
        "threshold": data.draw(st.sampled_from([None, 0.5, 0.0, 1.5]), label="threshold"),
        "task": data.draw(st.sampled_from([None, "binary", "regression"]), label="task"),
    }
    model = data.draw(st.sampled_from(["column:pred", "column:pred,score=p"]), label="model")
    try:
        result = run_audit(
            model=model, data=frame, policy=fast_policy, target="y", sensitive=["s"], **options
        )
    except (UsageError, ModelError) as exc:
        refusal = str(exc)
    else:
        refusal = ""
        _check_result(result)
    assert "\n" not in refusal


def _check_result(result: Any) -> None:
    for finding in result.findings:
        if finding.verdict is Verdict.PASS:  # a PASS rests on a measured, finite value
            assert finding.measured is not None and math.isfinite(finding.measured)
    assert result.passed == all(f.verdict is Verdict.PASS for f in result.findings if f.blocks)
    assert len(result.to_dict()["findings"]) == len(result.findings)
