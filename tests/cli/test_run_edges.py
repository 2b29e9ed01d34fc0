"""`maas-audit run` at its edges: options naming what is not there, and being stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit.cli.main import main

POLICY = textwrap.dedent(
    """\
    name: edges
    version: "1"
    requirements:
      - id: four-fifths
        title: Every group is selected at four-fifths of the best rate
        citation: "29 CFR 1607.4(D)"
        auditor: fairness
        metric: selection_rate
        compare: ratio_to_max
        threshold: 0.8
    """
)

SLOW_MODEL = textwrap.dedent(
    """\
    import time
    from pathlib import Path

    def predict(rows):
        Path(__file__).with_name("scoring-started").touch()
        time.sleep(60)
        return (rows["x"] > 0).astype(int).to_numpy()
    """
)


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        {
            "sex": rng.choice(["F", "M"], 400),
            "site": rng.choice(["north", "south"], 400),
            "x": rng.normal(size=400),
        }
    )
    frame["y"] = (frame["x"] > 0).astype(int)
    frame["decision"] = frame["y"]
    data = tmp_path / "decisions.csv"
    frame.to_csv(data, index=False)
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    return data, policy


def _args(inputs: tuple[Path, Path], out: Path, *extra: str) -> list[str]:
    data, policy = inputs
    return ["run", "--data", str(data), "--target", "y", "--positive-label", "1",
            "--sensitive", "sex", "--policy", str(policy), "--out", str(out),
            "--no-progress", *extra]  # fmt: skip


@pytest.mark.parametrize(("column", "hint"), [("sit", "did you mean 'site'?"), ("region", "")])
def test_a_strata_column_not_in_the_data_is_refused_before_the_audit(
    inputs, tmp_path, capsys, column, hint
):
    # The stratified tests were asked for by name: a report without them is not a pass.
    out = tmp_path / "out"
    code = main(_args(inputs, out, "--model", "column:decision", "--strata", column))
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and f"--strata column '{column}' is not in the data" in err
    assert hint in err and "Columns are: sex, site, x, y, decision" in err
    assert not out.exists()


def test_a_strata_column_in_the_data_is_audited(inputs, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(_args(inputs, out, "--model", "column:decision", "--strata", "site")) == 0
    assert "Selection within strata of site" in (out / "report.html").read_text("utf-8")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is a POSIX signal")
def test_sigterm_unwinds_like_ctrl_c_and_leaves_earlier_reports_whole(inputs, tmp_path):
    # A cancelled CI job gets SIGTERM: the command says so and exits 143, after its
    # clean-up ran, and the reports of an earlier audit in --out are left as they were.
    (tmp_path / "slow_model.py").write_text(SLOW_MODEL, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.json").write_text("earlier", encoding="utf-8")
    command = [sys.executable, "-m", "audit", *_args(inputs, out, "--model", "slow_model:predict")]
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    with subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True) as process:
        deadline = time.monotonic() + 120
        while not (tmp_path / "scoring-started").exists():
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the model was never called"
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM
    assert err == "maas-audit: terminated\n"
    assert sorted(p.name for p in out.iterdir()) == ["report.json"]
    assert (out / "report.json").read_text(encoding="utf-8") == "earlier"


def test_sigterm_handler_is_restored_after_the_command(inputs, tmp_path, capsys):
    before = signal.getsignal(signal.SIGTERM)
    main(_args(inputs, tmp_path / "out", "--model", "column:decision"))
    assert signal.getsignal(signal.SIGTERM) is before
