import json

import pytest

from audit.integrity import verify_report
from audit.reporting.bundle import write_reports


def test_both_reports_are_written_and_the_json_is_sealed(sample_result, tmp_path):
    written = write_reports(sample_result, tmp_path / "out")
    assert sorted(written) == ["report.html", "report.json"]
    assert written["report.html"].read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    document = json.loads(written["report.json"].read_text(encoding="utf-8"))
    assert document["verdict"] == sample_result.verdict.value
    assert verify_report(written["report.json"]).intact


def test_a_failing_render_writes_nothing_and_keeps_older_reports(
    sample_result, tmp_path, monkeypatch
):
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.html").write_text("old html")
    (out / "report.json").write_text("old json")

    def broken_pdf(result):
        raise RuntimeError("no browser")

    monkeypatch.setattr("audit.reporting.pdf.render_pdf", broken_pdf)
    with pytest.raises(RuntimeError, match="no browser"):
        write_reports(sample_result, out, pdf=True)
    assert (out / "report.html").read_text() == "old html"
    assert (out / "report.json").read_text() == "old json"
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.json"]


def test_a_failure_while_writing_the_second_report_keeps_the_first_one_old(
    sample_result, tmp_path, monkeypatch
):
    # a full disk while report.json is written must not leave a new HTML beside the old JSON
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.html").write_text("old html")
    (out / "report.json").write_text("old json")
    import audit.reporting.write as write

    synced = []

    def fsync_then_fail(fd):
        synced.append(fd)
        if len(synced) == 2:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(write.os, "fsync", fsync_then_fail)
    with pytest.raises(OSError, match="No space left"):
        write_reports(sample_result, out)
    assert (out / "report.html").read_text() == "old html"
    assert (out / "report.json").read_text() == "old json"
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.json"]
