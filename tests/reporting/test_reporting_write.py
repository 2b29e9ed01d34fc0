"""Atomic writes: the new file whole, or the old file untouched, and never a stray temp file."""

from __future__ import annotations

import os
import stat

import pytest

import audit.reporting.html as html_module
from audit.reporting import write_atomic, write_html, write_json


def _siblings(path):
    return sorted(p.name for p in path.parent.iterdir())


def test_writes_text_as_utf8_and_creates_parents(tmp_path):
    target = tmp_path / "a" / "b" / "report.txt"
    assert write_atomic(target, "§ ✓") == target
    assert target.read_bytes() == "§ ✓".encode()
    assert _siblings(target) == ["report.txt"]


def test_writes_bytes(tmp_path):
    target = tmp_path / "blob.bin"
    write_atomic(target, b"\x00\xff")
    assert target.read_bytes() == b"\x00\xff"


def test_replaces_an_existing_file_and_keeps_its_mode(tmp_path):
    target = tmp_path / "report.html"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o600)
    write_atomic(target, "new")
    assert target.read_text(encoding="utf-8") == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_a_new_file_is_readable_by_others(tmp_path):
    target = write_atomic(tmp_path / "report.html", "x")
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


@pytest.mark.parametrize("broken", ["fsync", "replace"])
def test_a_failed_write_keeps_the_old_file_and_removes_the_temp_file(tmp_path, monkeypatch, broken):
    target = tmp_path / "report.json"
    target.write_text("old", encoding="utf-8")

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, broken, fail)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, "new")
    assert target.read_text(encoding="utf-8") == "old"
    assert _siblings(target) == ["report.json"]


def test_html_rendering_error_keeps_the_old_report(tmp_path, monkeypatch, sample_result):
    target = tmp_path / "report.html"
    target.write_text("old report", encoding="utf-8")

    def broken_chart(*args, **kwargs):
        raise RuntimeError("chart failed")

    monkeypatch.setattr(html_module, "bar_chart", broken_chart)
    with pytest.raises(RuntimeError, match="chart failed"):
        write_html(sample_result, target)
    assert target.read_text(encoding="utf-8") == "old report"
    assert _siblings(target) == ["report.html"]


def test_json_write_error_keeps_the_old_report(tmp_path, monkeypatch, sample_result):
    target = tmp_path / "report.json"
    target.write_text("{}", encoding="utf-8")
    real_write = os.write

    def fail_midway(fd, data):
        real_write(fd, data[:10])
        raise OSError("interrupted")

    monkeypatch.setattr(os, "write", fail_midway)
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError("interrupted")))
    with pytest.raises(OSError, match="interrupted"):
        write_json(sample_result, target)
    assert target.read_text(encoding="utf-8") == "{}"
    assert _siblings(target) == ["report.json"]


def test_result_methods_write_both_reports(tmp_path, sample_result):
    html_path = sample_result.to_html(tmp_path / "out" / "report.html")
    json_path = sample_result.to_json(str(tmp_path / "out" / "report.json"))
    assert html_path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert json_path.read_text(encoding="utf-8").startswith("{")
    assert _siblings(html_path) == ["report.html", "report.json"]
