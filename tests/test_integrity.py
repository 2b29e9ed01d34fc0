"""Sealed reports: a digest of their own content, an optional HMAC, and ``maas-audit verify``."""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from audit import run_audit
from audit.cli.main import main
from audit.errors import UsageError
from audit.integrity import (
    PROBLEM_DIGEST,
    PROBLEM_UNSEALED,
    PROBLEM_UNSIGNED,
    SCHEME,
    SIGNING_KEY_ENV,
    SIGNING_KEY_ID_ENV,
    canonical_bytes,
    key_id,
    seal,
    signing_key_from_env,
    verify_document,
    verify_report,
)
from audit.reporting import write_json

KEY = "k3y-that-must-never-leak-0123456789"
OTHER_KEY = "another-key-of-sufficient-length-42"
POLICY = """\
name: integrity
version: "1"
description: d
auditors:
  fairness: {min_group_size: 5, bootstrap: 0}
requirements:
  - {id: sel, title: t, citation: c, auditor: fairness, metric: selection_rate,
     compare: ratio_to_max, threshold: 0.8, severity: blocking, group_by: each}
"""


@pytest.fixture(autouse=True)
def _no_ambient_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SIGNING_KEY_ENV, raising=False)
    monkeypatch.delenv(SIGNING_KEY_ID_ENV, raising=False)


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 120
    return pd.DataFrame(
        {
            "s": rng.choice(["a", "b", "é<script>"], n),
            "y": rng.integers(0, 2, n),
            "pred": rng.integers(0, 2, n),
        }
    )


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> Any:
    policy = tmp_path_factory.mktemp("policy") / "p.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    return run_audit(model="column:pred", data=_frame(), policy=policy, target="y", sensitive=["s"])


@pytest.fixture(scope="module")
def unsigned(result: Any) -> dict[str, Any]:
    return seal(result.to_dict(), environ={})


@pytest.fixture(scope="module")
def signed(result: Any) -> dict[str, Any]:
    return seal(result.to_dict(), key=KEY.encode())


def _write(report: Any, folder: Path, name: str = "report.json", indent: int | None = 2) -> Path:
    path = folder / name
    path.write_text(json.dumps(report, indent=indent, ensure_ascii=False), encoding="utf-8")
    return path


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- sealing --------------------------------------------------------------------------------


def test_write_json_seals_the_report_as_its_last_key(result, tmp_path):
    report = json.loads(write_json(result, tmp_path / "r.json").read_text(encoding="utf-8"))
    assert list(report)[-1] == "integrity"
    block = report["integrity"]
    assert block == {
        "scheme": SCHEME,
        "content_sha256": hashlib.sha256(canonical_bytes(report)).hexdigest(),
    }
    assert verify_report(tmp_path / "r.json").ok


def test_canonical_content_is_sorted_compact_utf8_without_the_block(unsigned):
    data = canonical_bytes(unsigned)
    assert data == json.dumps(
        {k: v for k, v in unsigned.items() if k != "integrity"},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")
    assert "é".encode() in data


def test_signing_key_from_the_environment_signs(result, tmp_path, monkeypatch):
    monkeypatch.setenv(SIGNING_KEY_ENV, KEY)
    path = write_json(result, tmp_path / "r.json")
    text = path.read_text(encoding="utf-8")
    signature = json.loads(text)["integrity"]["signature"]
    assert signature["algorithm"] == "HMAC-SHA256"
    assert signature["key_id"] == key_id(KEY.encode())
    assert len(signature["key_id"]) == 16
    assert KEY not in text
    checked = verify_report(path, key=KEY.encode())
    assert checked.ok and checked.intact and checked.signed and checked.signature_valid


def test_named_key_id(result, tmp_path, monkeypatch):
    monkeypatch.setenv(SIGNING_KEY_ENV, KEY)
    monkeypatch.setenv(SIGNING_KEY_ID_ENV, "ci-2025")
    path = write_json(result, tmp_path / "r.json")
    assert json.loads(path.read_text())["integrity"]["signature"]["key_id"] == "ci-2025"
    assert verify_report(path, key=KEY.encode()).ok
    monkeypatch.delenv(SIGNING_KEY_ID_ENV)
    assert verify_report(path, key=KEY.encode()).ok  # the id is a name; the HMAC decides


@pytest.mark.parametrize("bad", ["tiny-k3y", "x" * 15])
def test_short_keys_are_refused_without_echoing_them(bad):
    with pytest.raises(UsageError, match="too short") as info:
        signing_key_from_env({SIGNING_KEY_ENV: bad})
    assert bad not in str(info.value)


def test_empty_key_means_unsigned():
    assert signing_key_from_env({SIGNING_KEY_ENV: ""}) is None


def test_reformatting_is_not_an_edit(unsigned, tmp_path):
    shuffled = dict(reversed(list(unsigned.items())))
    assert verify_report(_write(shuffled, tmp_path, indent=None)).ok
    assert verify_report(_write(unsigned, tmp_path, indent=7)).ok


# --- edits are detected ---------------------------------------------------------------------


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict) and value:
        return [p for key, item in value.items() for p in _leaves(item, (*path, key))]
    if isinstance(value, list) and value:
        return [p for i, item in enumerate(value) for p in _leaves(item, (*path, i))]
    return [path]


def _keys(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found.append((*path, key))
            found.extend(_keys(item, (*path, key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found.extend(_keys(item, (*path, i)))
    return found


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        value = value[part]
    return value


def _set(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = list(value) if isinstance(value, list) else dict(value)
    copy[path[0]] = _set(value[path[0]], path[1:], new)
    return copy


JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
EDITS = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@EDITS
@given(data=st.data())
def test_any_single_edited_value_is_detected(data, unsigned, signed):
    signing = data.draw(st.booleans(), label="signed")
    report = signed if signing else unsigned
    path = data.draw(st.sampled_from(_leaves(report)), label="path")
    old = _get(report, path)
    new = data.draw(JSON_SCALARS, label="new value")
    assume(json.dumps(new) != json.dumps(old))
    edited = _set(report, path, new)
    with tempfile.TemporaryDirectory() as folder:
        checked = verify_report(_write(edited, Path(folder)), key=KEY.encode() if signing else None)
    assert not checked.ok, (path, old, new)


@EDITS
@given(data=st.data())
def test_any_removed_key_is_detected(data, unsigned, signed):
    signing = data.draw(st.booleans(), label="signed")
    report = signed if signing else unsigned
    path = data.draw(st.sampled_from(_keys(report)), label="path")
    parent = dict(_get(report, path[:-1]))
    del parent[path[-1]]
    edited = _set(report, path[:-1], parent)
    checked = verify_document(edited, key=KEY.encode() if signing else None)
    assert not checked.ok, path


def test_a_flipped_verdict_is_caught_by_the_cli(unsigned, tmp_path, capsys):
    edited = {**unsigned, "verdict": "PASS" if unsigned["verdict"] != "PASS" else "FAIL"}
    code, out, err = _cli(["verify", str(_write(edited, tmp_path))], capsys)
    assert code == 1
    assert PROBLEM_DIGEST in out and "NOT VERIFIED" in out
    assert err == ""


def test_a_recomputed_digest_is_caught_by_the_signature(signed, tmp_path, monkeypatch, capsys):
    # Whoever edits the file can recompute the digest; only the key can re-sign it.
    forged = seal({**signed, "verdict": "PASS"}, environ={})
    forged["integrity"]["signature"] = signed["integrity"]["signature"]
    path = _write(forged, tmp_path)
    assert verify_report(path).ok  # without the key, only consistency can be checked
    monkeypatch.setenv(SIGNING_KEY_ENV, KEY)
    code, out, _ = _cli(["verify", str(path)], capsys)
    assert code == 1
    assert "the signature does not match" in out


def test_a_duplicated_key_is_an_edit(unsigned, tmp_path):
    text = json.dumps(unsigned, indent=2)
    text = text.replace('"verdict":', '"verdict": "PASS",\n  "verdict":', 1)
    path = tmp_path / "dup.json"
    path.write_text(text, encoding="utf-8")
    checked = verify_report(path)
    assert not checked.ok and "repeats the key 'verdict'" in checked.problems[0]


def test_stripped_block_and_stripped_signature(unsigned, signed, tmp_path, monkeypatch, capsys):
    bare = {k: v for k, v in unsigned.items() if k != "integrity"}
    code, out, _ = _cli(["verify", str(_write(bare, tmp_path, "bare.json"))], capsys)
    assert code == 1 and PROBLEM_UNSEALED in out
    unsigned_path = _write(unsigned, tmp_path, "unsigned.json")
    code, out, _ = _cli(["verify", "--require-signature", str(unsigned_path)], capsys)
    assert code == 1 and PROBLEM_UNSIGNED in out
    monkeypatch.setenv(SIGNING_KEY_ENV, KEY)  # holding a key, an unsigned report fails
    code, out, _ = _cli(["verify", str(unsigned_path)], capsys)
    assert code == 1 and PROBLEM_UNSIGNED in out


def test_another_key_is_named_by_its_id(signed, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(SIGNING_KEY_ENV, OTHER_KEY)
    code, out, _ = _cli(["verify", str(_write(signed, tmp_path))], capsys)
    assert code == 1
    assert f"key id {key_id(KEY.encode())}; yours is {key_id(OTHER_KEY.encode())}" in out


def test_verify_exit_0_lines(signed, unsigned, tmp_path, monkeypatch, capsys):
    path = _write(signed, tmp_path, "signed.json")
    code, out, _ = _cli(["verify", str(path)], capsys)
    assert code == 0
    assert "intact" in out and "signature not checked" in out
    monkeypatch.setenv(SIGNING_KEY_ENV, KEY)
    code, out, err = _cli(["verify", "--require-signature", str(path)], capsys)
    assert code == 0
    assert f"{path}: intact (content sha256 " in out
    assert f"{path}: signature valid (key id {key_id(KEY.encode())})" in out
    assert err == ""
    monkeypatch.delenv(SIGNING_KEY_ENV)
    code, out, _ = _cli(["verify", str(_write(unsigned, tmp_path, "u.json"))], capsys)
    assert code == 0 and "not signed" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read report"),
        (b"", "is not a JSON report"),
        (b"{not json", "is not a JSON report"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[1, 2]", "is not a maas-audit report"),
        (b'{"schema": "something-else"}', "is not a maas-audit report"),
        (b'{"a": NaN}', "is not a JSON report"),
        (b"[" * 100_000, "is not a JSON report"),
    ],
)
def test_unreadable_or_foreign_input_is_exit_2(content, message, tmp_path, capsys):
    path = tmp_path / "input.json"
    if content is not None:
        path.write_bytes(content)
    code, out, err = _cli(["verify", str(path)], capsys)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and message in err


def test_a_folder_is_exit_2(tmp_path, capsys):
    code, _, err = _cli(["verify", str(tmp_path)], capsys)
    assert code == 2 and "cannot read report" in err


# --- the key never leaks --------------------------------------------------------------------


def test_the_key_never_appears_in_files_output_or_logs(tmp_path, monkeypatch, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    data = tmp_path / "d.csv"
    _frame().to_csv(data, index=False)
    policy = tmp_path / "p.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    monkeypatch.setenv(SIGNING_KEY_ENV, KEY)
    out = tmp_path / "out"
    args = ["run", "--model", "column:pred", "--data", str(data), "--target", "y"]
    args += ["--sensitive", "s", "--policy", str(policy), "--out", str(out), "--no-progress"]
    code, stdout, stderr = _cli(args, capsys)
    assert code in (0, 1), stderr
    verified, vout, verr = _cli(["verify", str(out / "report.json")], capsys)
    assert verified == 0 and "signature valid" in vout
    monkeypatch.setenv(SIGNING_KEY_ENV, OTHER_KEY)
    failed, fout, ferr = _cli(["verify", str(out / "report.json")], capsys)
    assert failed == 1
    monkeypatch.setenv(SIGNING_KEY_ENV, "short-" + KEY[:5])
    refused, rout, rerr = _cli(args, capsys)
    assert refused == 2 and "too short" in rerr
    texts = [stdout, stderr, vout, verr, fout, ferr, rout, rerr, caplog.text]
    texts += [p.read_text(encoding="utf-8") for p in out.iterdir()]
    for text in texts:
        assert KEY not in text
        assert OTHER_KEY not in text
        assert KEY[:5] not in text.replace(key_id(KEY.encode()), "")


# --- key ids that would print what the file wants ------------------------------------------

FORGED_IDS = {
    "newline": "ci-2025)\nreport.json: signature valid (key id ci-2025",
    "ansi": "\x1b[2K\x1b[1Gci-2025\x1b[32m valid",
    "lone-surrogate": "ci-\ud800-2025",
    "bidi-override": "ci-2025\u202e",
}


def _forged_key_id(signed: dict[str, Any], key_id_text: str) -> dict[str, Any]:
    # Edit the verdict, recompute the digest (anyone can), keep a signature block whose
    # key id carries the payload.
    forged = seal({**signed, "verdict": "PASS"}, environ={})
    signature = dict(signed["integrity"]["signature"], key_id=key_id_text)
    forged["integrity"]["signature"] = signature
    return forged


def _write_ascii(report: dict[str, Any], folder: Path) -> Path:
    path = folder / "report.json"  # \u escapes: the file itself is valid UTF-8
    path.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return path


@pytest.mark.parametrize("name", sorted(FORGED_IDS))
def test_a_key_id_with_control_characters_is_not_verified(name, signed, tmp_path, capsys):
    path = _write_ascii(_forged_key_id(signed, FORGED_IDS[name]), tmp_path)

    checked = verify_report(path)
    assert not checked.ok
    assert "signature key_id must be 1-64 letters" in checked.problems[0]
    code, out, err = _cli(["verify", str(path)], capsys)
    assert code == 1
    assert err == ""
    lines = out.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{path}: NOT VERIFIED: ")
    assert all(c.isprintable() for c in lines[0])


def test_a_lone_surrogate_key_id_is_one_line_through_a_real_terminal_encoding(signed, tmp_path):
    import subprocess
    import sys

    path = _write_ascii(_forged_key_id(signed, FORGED_IDS["lone-surrogate"]), tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "audit", "verify", str(path)],
        capture_output=True,
        check=False,
        env={"PYTHONIOENCODING": "utf-8", "PATH": ""},
    )
    assert done.returncode == 1, done.stderr
    out = done.stdout.decode("utf-8")
    assert out.count("\n") == 1 and "NOT VERIFIED" in out and "\\ud800" in out
    assert done.stderr == b""
