"""log_audit against a real MLflow tracking store (SQLite) in a temporary folder, read back."""

from __future__ import annotations

import pytest

from audit.errors import UsageError
from tests.reporting.conftest import make_result

mlflow = pytest.importorskip("mlflow")
pytest.importorskip("sqlalchemy")

from audit.integrations.mlflow import ARTIFACT_PATH, audit_metrics, log_audit  # noqa: E402

# MLflow's SQLAlchemy models use loader options that SQLAlchemy 2.1 deprecates; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def tracking(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # MLflow's default artefact root is relative to the cwd
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    experiment = mlflow.create_experiment("audits", artifact_location=str(tmp_path / "art"))
    mlflow.set_experiment(experiment_id=experiment)
    yield mlflow.tracking.MlflowClient(uri)
    mlflow.set_tracking_uri(None)


def test_a_new_run_gets_every_value_verdict_and_report(tracking, tmp_path):
    result = make_result()
    html = tmp_path / "report.html"
    html.write_text("<html></html>", encoding="utf-8")
    run_id = log_audit(result, "new", reports={"html": html})

    run = tracking.get_run(run_id)
    assert run.info.status == "FINISHED"
    logged = run.data.metrics
    # the fixture's impact-ratio finding and a group's selection rate, under their stable names
    assert logged["maas_audit.fairness.selection_rate.sex.Female"] == pytest.approx(0.2001)
    finding = next(f for f in result.findings if f.measured is not None)
    key = f"maas_audit.finding.{finding.requirement_id}.{'-x-'.join(finding.grouping)}"
    assert logged[key] == pytest.approx(finding.measured)
    assert set(logged) == set(audit_metrics(result))
    tags = run.data.tags
    assert tags["maas_audit.verdict"] == str(result.verdict)
    for f in result.findings:
        grouping = "-x-".join(f.grouping) if f.grouping else "overall"
        assert tags[f"maas_audit.finding.{f.requirement_id}.{grouping}"] == f.verdict.value
    artefacts = [a.path for a in tracking.list_artifacts(run_id, ARTIFACT_PATH)]
    assert artefacts == [f"{ARTIFACT_PATH}/report.html"]


def test_the_active_run_is_used_when_no_run_is_named(tracking):
    with mlflow.start_run() as run:
        assert log_audit(make_result()) == run.info.run_id
    assert "maas_audit.verdict" in tracking.get_run(run.info.run_id).data.tags


def test_an_unknown_run_or_missing_report_is_one_usage_error(tracking, tmp_path):
    with pytest.raises(UsageError, match="MLflow refused"):
        log_audit(make_result(), "0" * 32)
    with pytest.raises(UsageError, match="no report file"):
        log_audit(make_result(), "new", reports={"html": tmp_path / "absent.html"})
