"""log_audit against a real MLflow tracking store (SQLite) in a temporary folder, read back."""

from __future__ import annotations

import dataclasses
import math
import sys

import numpy as np
import pandas as pd
import pytest

from audit import run_audit
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


def test_a_nested_run_is_started_when_new_is_asked_inside_an_active_run(tracking):
    with mlflow.start_run() as parent:
        child = log_audit(make_result(), "new")
        assert mlflow.active_run().info.run_id == parent.info.run_id  # the parent goes on
    assert child != parent.info.run_id
    assert tracking.get_run(child).data.tags["mlflow.parentRunId"] == parent.info.run_id


def _finite_numbers(report: dict) -> list[float]:
    """Every finite number the JSON report gives for a metric, a group or a finding."""
    numbers = [f["measured"] for f in report["findings"]]
    for output in report["auditors"]:
        for metric in output["metrics"]:
            numbers += [metric["value"], *(g["value"] for g in metric["groups"])]
    return [float(n) for n in numbers if n is not None and math.isfinite(n)]


def test_labels_alike_once_made_safe_keep_their_own_values(tracking):
    # "<40" and "≥40" both become "__40" in a name, and the third label makes a name
    # longer than MLflow's 250 characters: each group's selection rate must still arrive.
    long_label = "band " + "x" * 240
    bands = ["<40"] * 100 + ["≥40"] * 100 + [long_label] * 100
    chosen = [1] * 30 + [0] * 70 + [1] * 60 + [0] * 40 + [1] * 45 + [0] * 55
    data = pd.DataFrame({"age": bands, "chosen": chosen, "x": np.arange(300.0)})
    result = run_audit(
        model="column:chosen",
        data=data,
        policy="four-fifths",
        target="chosen",
        positive_label=1,
        sensitive=["age"],
    )
    run = tracking.get_run(log_audit(result, "new"))
    logged = run.data.metrics
    assert sorted(logged.values()) == pytest.approx(sorted(_finite_numbers(result.to_dict())))
    rates = {
        k: v for k, v in logged.items() if k.startswith("maas_audit.fairness.selection_rate.age.")
    }
    assert sorted(rates.values()) == pytest.approx([0.3, 0.45, 0.6])
    assert all(len(key) <= 250 for key in [*logged, *run.data.tags])


def test_a_value_json_writes_as_null_is_not_logged():
    base = make_result()
    output = base.outputs[0]
    infinite = dataclasses.replace(output.metrics[0], value=math.inf)
    result = dataclasses.replace(
        base,
        outputs=(
            dataclasses.replace(output, metrics=(infinite, *output.metrics[1:])),
            *base.outputs[1:],
        ),
    )
    assert sorted(audit_metrics(result).values()) == pytest.approx(
        sorted(_finite_numbers(result.to_dict()))
    )


def test_a_store_mlflow_cannot_open_is_one_usage_error(tmp_path, monkeypatch):
    mlflow.set_tracking_uri("nosuchscheme://store")
    try:
        with pytest.raises(UsageError, match="MLflow refused"):
            log_audit(make_result(), "new")
        # mlflow-skinny without Alembic, on a database store
        monkeypatch.setitem(sys.modules, "alembic", None)
        mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'skinny.db'}")
        with pytest.raises(UsageError, match="needs the 'alembic' package"):
            log_audit(make_result(), "new")
    finally:
        mlflow.set_tracking_uri(None)
