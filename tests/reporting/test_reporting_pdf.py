"""The PDF for filing: printed by headless Chromium, atomic, and a clear error without a browser."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from audit.errors import UsageError
from audit.reporting.pdf import CHROMIUM_ENV, find_chromium, write_pdf


@pytest.fixture
def chromium(chromium_path, monkeypatch):
    monkeypatch.setenv(CHROMIUM_ENV, str(chromium_path))
    return chromium_path


def _text(pdf: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    out = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True)
    return " ".join(out.stdout.split())


@pytest.mark.browser
def test_ll144_pdf_holds_every_published_figure(chromium, ll144_result, tmp_path):
    pdf = write_pdf(ll144_result, tmp_path / "report.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    text = _text(pdf)
    for phrase in (
        "CONTENTS",  # text-transform: uppercase
        "NYC Local Law 144 summary of results",
        "Date of the audit",
        "Dates of the data 1994 Current Population Survey",
        "Number of individuals assessed 4,000",
        "Individuals in an unknown category (sex) 37",
        "Excluded from the impact ratios (race)",
        "Impact ratio",
        "Sign-off",
        "Ada Auditor",
        "Statement of independence",
        "Page 1 of",
        "Overall verdict:",
    ):
        assert phrase in text, phrase
    assert list(tmp_path.iterdir()) == [pdf]


def test_missing_chromium_is_one_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv(CHROMIUM_ENV, str(tmp_path / "no-such-browser"))
    with pytest.raises(UsageError, match=r"^MAAS_AUDIT_CHROMIUM=.* is not an executable file$"):
        find_chromium()


def test_no_chromium_on_path(monkeypatch):
    monkeypatch.delenv(CHROMIUM_ENV, raising=False)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(UsageError, match="PDF export needs Chromium"):
        find_chromium()


def test_failed_export_keeps_previous_file(monkeypatch, sample_result, tmp_path):
    target = tmp_path / "report.pdf"
    target.write_bytes(b"old")
    monkeypatch.setenv(CHROMIUM_ENV, str(tmp_path / "missing"))
    with pytest.raises(UsageError):
        sample_result.to_pdf(target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.pdf"]


def test_cli_pdf_without_chromium_exits_2_before_auditing(monkeypatch, tmp_path, capsys):
    from audit.cli.main import main

    data = tmp_path / "d.csv"
    data.write_text("y,p,sex\n1,1,a\n0,0,b\n", encoding="utf-8")
    monkeypatch.setenv(CHROMIUM_ENV, str(tmp_path / "missing"))
    out = tmp_path / "out"
    code = main(
        [
            "run",
            "--model",
            "column:p",
            "--data",
            str(data),
            "--target",
            "y",
            "--sensitive",
            "sex",
            "--policy",
            "four-fifths",
            "--out",
            str(out),
            "--pdf",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "MAAS_AUDIT_CHROMIUM" in err
    assert not out.exists()
