"""Hostile data, planted files and secrets through the real command line.

Markup in column names, group labels, labels and policy text is rendered inert; YAML is
only ever read safely; pickles never load without ``--trust-pickle``; reports go nowhere
but ``--out/report.html`` and ``--out/report.json``; tokens, passwords in URLs and
signing keys appear in no report, output or message.
"""

from __future__ import annotations

import json
import os
import pickle
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit.core.protocols import Predictions
from audit.testing.endpoint import serve_model

PACKAGE = Path(__file__).resolve().parents[2] / "audit"
SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '" onmouseover="alert(2)'
IMAGE = "<img src=x onerror=alert(3)>"
SVG = "'><svg onload=alert(4)>"
TOKEN = "tok-5f2b9c0e-never-in-reports"
PASSWORD = "pw-84d1-never-in-reports"


def _run(data: Path, policy: Path | str, out: Path, *extra: str, model="column:pred") -> list[str]:
    return [
        "run",
        "--model",
        model,
        "--data",
        str(data),
        "--policy",
        str(policy),
        "--out",
        str(out),
        "--no-progress",
        *extra,
    ]


# --- hostile strings ------------------------------------------------------------------------


def test_hostile_names_and_values_through_a_real_audit_are_inert(decisions, tmp_path, cli, parse):
    sensitive = f"group{SCRIPT}"
    target = f"outcome{SVG}"
    frame = pd.DataFrame(
        {
            sensitive: np.where(decisions["s"] == "a", ATTRIBUTE, IMAGE),
            target: np.where(decisions["y"] == 1, f"yes{SCRIPT}", "no"),
            "pred": np.where(decisions["pred"] == 1, f"yes{SCRIPT}", "no"),
            f"feature{IMAGE}": decisions["x"],
        }
    )
    data = tmp_path / "hostile.csv"
    frame.to_csv(data, index=False)
    policy = tmp_path / "hostile.yaml"
    policy.write_text(
        f"""name: {json.dumps("policy" + SCRIPT)}
version: {json.dumps("1" + ATTRIBUTE)}
description: {json.dumps(IMAGE + SVG)}
auditors:
  fairness: {{min_group_size: 5, bootstrap: 0}}
requirements:
  - id: selection
    title: {json.dumps("Selection " + SCRIPT + ATTRIBUTE)}
    citation: {json.dumps("Cite " + IMAGE)}
    description: {json.dumps(SVG)}
    auditor: fairness
    metric: selection_rate
    compare: ratio_to_max
    threshold: 0.8
    severity: blocking
    group_by: each
""",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    code, _, stderr = cli(
        [
            *_run(data, policy, out),
            "--target",
            target,
            "--sensitive",
            sensitive,
            "--positive-label",
            f"yes{SCRIPT}",
        ]
    )
    assert code in (0, 1), stderr
    document = (out / "report.html").read_text(encoding="utf-8")
    page = parse(document)
    tags = [tag for tag, _ in page.elements]
    assert "script" not in tags and "img" not in tags and "iframe" not in tags
    handlers = [name for _, attrs in page.elements for name in attrs if name.startswith("on")]
    assert handlers == []
    assert "<script" not in document.lower()
    text = " ".join(page.chunks)
    for hostile in (SCRIPT, IMAGE):  # still there to read, as text
        assert hostile in text
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["data"]["sensitive"] == [sensitive]


# --- safe loading ---------------------------------------------------------------------------

UNSAFE_CALLS = re.compile(
    r"yaml\.(load|unsafe_load|full_load|load_all|unsafe_load_all)\s*\("
    r"|yaml\.(Loader|UnsafeLoader|FullLoader|CLoader|CUnsafeLoader)\b"
    r"|\b(pickle|cPickle|dill|cloudpickle|marshal|shelve)\.(load|loads|Unpickler|open)\b"
    r"|\bjoblib\.load\b|\btorch\.load\b|\bnumpy\.load\b|\bnp\.load\b"
    r"|(?<![.\w])(eval|exec)\s*\("
)
# The one reviewed exception: unpickling behind the --trust-pickle gate (see the next test).
ALLOWED = {("adapters/sklearn.py", "joblib.load")}


def test_the_package_never_loads_yaml_or_pickles_unsafely():
    found = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        for line in path.read_text(encoding="utf-8").splitlines():
            code = line.split("#", 1)[0]
            for match in UNSAFE_CALLS.finditer(code):
                found.add((path.relative_to(PACKAGE).as_posix(), match.group(0).rstrip("( ")))
    assert found <= ALLOWED, sorted(found - ALLOWED)


class _Payload:
    """Unpickling this creates a marker file: proof that the pickle's code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("suffix", [".pkl", ".pickle", ".joblib"])
def test_a_pickle_never_runs_without_trust_pickle(
    suffix, decisions, fast_policy, tmp_path, cli, usage_error
):
    marker = tmp_path / "pwned"
    model = tmp_path / f"model{suffix}"
    model.write_bytes(pickle.dumps(_Payload(marker)))
    data = tmp_path / "d.csv"
    decisions.to_csv(data, index=False)
    code, _, stderr = cli(
        [
            *_run(data, fast_policy, tmp_path / "out", model=str(model)),
            "--target",
            "y",
            "--sensitive",
            "s",
        ]
    )
    usage_error(code, stderr)
    assert "--trust-pickle" in stderr
    assert not marker.exists()


@pytest.mark.parametrize(
    ("extends", "message"),
    [
        ("../outside.yaml", "points outside this file's folder"),
        ("/etc/passwd", "is an absolute path"),
    ],
)
def test_policy_extends_cannot_escape_its_folder(
    extends, message, decisions, tmp_path, cli, usage_error
):
    folder = tmp_path / "policies"
    folder.mkdir()
    (tmp_path / "outside.yaml").write_text("name: x\n", encoding="utf-8")
    policy = folder / "p.yaml"
    policy.write_text(f"name: p\nversion: '1'\ndescription: d\nextends: {extends}\n")
    data = tmp_path / "d.csv"
    decisions.to_csv(data, index=False)
    code, _, stderr = cli(
        [*_run(data, policy, tmp_path / "out"), "--target", "y", "--sensitive", "s"]
    )
    usage_error(code, stderr)
    assert f"{policy}:4:" in stderr and message in stderr


# --- where reports go -----------------------------------------------------------------------


@pytest.fixture
def data_csv(decisions, tmp_path) -> Path:
    path = tmp_path / "d.csv"
    decisions.to_csv(path, index=False)
    return path


def _audit(data: Path, policy: Path, out: Path | str) -> list[str]:
    return [*_run(data, policy, Path(out)), "--target", "y", "--sensitive", "s"]


def test_out_receives_exactly_two_reports(data_csv, fast_policy, tmp_path, cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    code, stdout, _ = cli(_audit(data_csv, fast_policy, "sub/../reports/x"))
    assert code in (0, 1)
    out = tmp_path / "reports" / "x"
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.json"]
    assert "report: sub/../reports/x/report.html" in stdout


def test_out_that_is_a_file_is_refused(data_csv, fast_policy, tmp_path, cli, usage_error):
    out = tmp_path / "file.txt"
    out.write_text("keep me", encoding="utf-8")
    code, _, stderr = cli(_audit(data_csv, fast_policy, out))
    usage_error(code, stderr)
    assert "exists and is not a folder" in stderr
    assert out.read_text(encoding="utf-8") == "keep me"


def test_out_that_is_a_symlink_is_refused(data_csv, fast_policy, tmp_path, cli, usage_error):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link = tmp_path / "out"
    link.symlink_to(elsewhere, target_is_directory=True)
    code, _, stderr = cli(_audit(data_csv, fast_policy, link))
    usage_error(code, stderr)
    assert "is a symbolic link" in stderr
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("name", ["report.html", "report.json"])
def test_a_planted_link_or_folder_in_out_is_refused(
    name, data_csv, fast_policy, tmp_path, cli, usage_error
):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / name).symlink_to(victim)
    code, _, stderr = cli(_audit(data_csv, fast_policy, out))
    usage_error(code, stderr)
    assert f"holds '{name}', which is a symbolic link" in stderr
    assert victim.read_text(encoding="utf-8") == "precious"
    (out / name).unlink()
    (out / name).mkdir()
    code, _, stderr = cli(_audit(data_csv, fast_policy, out))
    usage_error(code, stderr)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through read-only permissions")
def test_an_unwritable_out_is_one_line(data_csv, fast_policy, tmp_path, cli, usage_error):
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o500)
    try:
        code, _, stderr = cli(_audit(data_csv, fast_policy, out))
    finally:
        out.chmod(0o700)
    usage_error(code, stderr)
    assert "cannot write the reports into" in stderr


# --- secrets --------------------------------------------------------------------------------


def _echoing_model(rows: pd.DataFrame) -> Predictions:
    scores = 1 / (1 + np.exp(-rows["x"].to_numpy(dtype=float)))
    return Predictions(labels=(scores >= 0.5).astype(np.int64), scores=scores)


def _leaks(out: Path, *texts: str) -> list[str]:
    everything = list(texts)
    if out.exists():
        everything += [p.read_text(encoding="utf-8") for p in out.iterdir()]
    return [s for s in (TOKEN, PASSWORD) if any(s in text for text in everything)]


@pytest.mark.parametrize("how", ["MAAS_AUDIT_TOKEN", "--header"])
def test_endpoint_tokens_never_reach_reports_or_output(
    how, data_csv, fast_policy, tmp_path, cli, monkeypatch
):
    extra: list[str] = ["--features", "x,s"]
    if how == "MAAS_AUDIT_TOKEN":
        monkeypatch.setenv("MAAS_AUDIT_TOKEN", TOKEN)
    else:
        monkeypatch.setenv("MY_AUTH", f"Bearer {TOKEN}")
        extra += ["--header", "Authorization=MY_AUTH"]
    out = tmp_path / "out"
    with serve_model(_echoing_model, require_token=TOKEN) as served:
        code, stdout, stderr = cli(
            [*_audit(data_csv, fast_policy, out), "--model", served.oip_url, *extra]
        )
    assert code in (0, 1), stderr
    assert _leaks(out, stdout, stderr) == []
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["model"]["auth_headers"] == ["Authorization"]


def test_a_wrong_token_fails_without_showing_either(
    data_csv, fast_policy, tmp_path, cli, monkeypatch, usage_error
):
    monkeypatch.setenv("MAAS_AUDIT_TOKEN", PASSWORD)
    out = tmp_path / "out"
    with serve_model(_echoing_model, require_token=TOKEN) as served:
        code, stdout, stderr = cli(
            [*_audit(data_csv, fast_policy, out), "--model", served.mlflow_url, "--features", "x,s"]
        )
    usage_error(code, stderr)
    assert "HTTP 401" in stderr and "credential headers sent: Authorization" in stderr
    assert _leaks(out, stdout, stderr) == []


def test_an_endpoint_echoing_the_token_is_redacted(
    data_csv, fast_policy, tmp_path, cli, monkeypatch, usage_error
):
    def echo(rows: pd.DataFrame) -> Predictions:
        raise ValueError(f"rejected Authorization: Bearer {TOKEN}")

    monkeypatch.setenv("MAAS_AUDIT_TOKEN", TOKEN)
    out = tmp_path / "out"
    with serve_model(echo, require_token=TOKEN) as served:
        code, stdout, stderr = cli(
            [*_audit(data_csv, fast_policy, out), "--model", served.mlflow_url, "--features", "x,s"]
        )
    usage_error(code, stderr)
    assert "***" in stderr
    assert _leaks(out, stdout, stderr) == []


def test_credentials_in_the_model_url_are_never_recorded(data_csv, fast_policy, tmp_path, cli):
    out = tmp_path / "out"
    with serve_model(_echoing_model) as served:
        url = f"http://auditor:{PASSWORD}@127.0.0.1:{served.port}/invocations?api_key={TOKEN}"
        code, stdout, stderr = cli(
            [*_audit(data_csv, fast_policy, out), f"--model={url}", "--features", "x,s"]
        )
    assert code in (0, 1), stderr
    assert _leaks(out, stdout, stderr) == []
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert "--model=http://***@127.0.0.1:" in " ".join(report["provenance"]["command"])


@pytest.mark.parametrize("value", [f"Authorization=Bearer {TOKEN}", TOKEN, f"X-Key={TOKEN}"])
def test_a_secret_given_to_header_is_refused_without_echo(
    value, data_csv, fast_policy, tmp_path, cli, usage_error
):
    code, stdout, stderr = cli(
        [*_audit(data_csv, fast_policy, tmp_path / "out"), "--header", value]
    )
    usage_error(code, stderr)
    assert "the name of the environment variable" in stderr
    assert _leaks(tmp_path / "out", stdout, stderr) == []


def test_an_unset_header_variable_is_named(data_csv, fast_policy, tmp_path, cli, usage_error):
    with serve_model(_echoing_model) as served:
        code, _, stderr = cli(
            [
                *_audit(data_csv, fast_policy, tmp_path / "out"),
                "--model",
                served.mlflow_url,
                "--header",
                "Authorization=NOT_SET_ANYWHERE",
            ]
        )
    usage_error(code, stderr)
    assert "'NOT_SET_ANYWHERE'" in stderr
