"""Log an audit to an MLflow run: values as metrics, verdicts as tags, reports as artefacts.

``pip install 'maas-audit[mlflow]'`` brings the MLflow client.  The tracking store is
MLflow's own choice: ``MLFLOW_TRACKING_URI`` or :func:`mlflow.set_tracking_uri` (a local
``sqlite:///mlflow.db``, or a tracking server).

Names are stable, so that dashboards and comparisons across runs keep working:

- metric ``maas_audit.<auditor>.<metric>.<grouping>``: the metric over the whole
  population (or its scalar value); ``<grouping>`` is ``overall`` or the sensitive columns
  joined by ``-x-``;
- metric ``maas_audit.<auditor>.<metric>.<grouping>.<group>``: one group's value;
- metric ``maas_audit.finding.<requirement>.<grouping>``: the value a requirement was
  judged on;
- tag ``maas_audit.verdict``: the overall verdict;
- tag ``maas_audit.finding.<requirement>.<grouping>``: PASS, FAIL or INCONCLUSIVE;
- tags ``maas_audit.policy`` and ``maas_audit.policy_version``: the policy;
- tags ``maas_audit.data_sha256``, ``maas_audit.model_sha256``, ``maas_audit.policy_sha256``:
  the provenance hashes.

Characters MLflow does not allow in names (it allows letters, digits, ``_ - . / :`` and
spaces) become ``_``; a group label is shortened to 200 characters.  Values that were not
measured are not logged (MLflow has no missing value); their findings' tags say
INCONCLUSIVE.  Reports are logged under the artefact folder ``maas-audit``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from audit.errors import UsageError

if TYPE_CHECKING:
    from audit.core.result import AuditResult

__all__ = ["ARTIFACT_PATH", "PREFIX", "audit_metrics", "audit_tags", "log_audit"]

PREFIX = "maas_audit"
ARTIFACT_PATH = "maas-audit"
NEW_RUN = "new"
"""``run_id`` value that starts a new run in the active experiment."""
_UNSAFE = re.compile(r"[^A-Za-z0-9_\-./: ]")
_MAX_LABEL = 200
ERR_NO_MLFLOW = "logging to MLflow needs the MLflow client: pip install 'maas-audit[mlflow]'"


def _name(part: str) -> str:
    return _UNSAFE.sub("_", part.strip())[:_MAX_LABEL] or "_"


def _grouping(grouping: tuple[str, ...]) -> str:
    return "-x-".join(_name(column) for column in grouping) if grouping else "overall"


def audit_metrics(result: AuditResult) -> dict[str, float]:
    """Every measured value of ``result`` under its stable MLflow metric name."""
    metrics: dict[str, float] = {}
    for output in result.outputs:
        for metric in output.metrics:
            base = f"{PREFIX}.{_name(output.auditor)}.{_name(metric.metric)}"
            base += f".{_grouping(metric.grouping)}"
            if metric.value is not None:
                metrics[base] = float(metric.value)
            for group in metric.groups:
                if group.value is not None:
                    metrics[f"{base}.{_name(group.group)}"] = float(group.value)
    for finding in result.findings:
        if finding.measured is not None:
            key = f"{PREFIX}.finding.{_name(finding.requirement_id)}.{_grouping(finding.grouping)}"
            metrics[key] = float(finding.measured)
    return metrics


def audit_tags(result: AuditResult) -> dict[str, str]:
    """The verdicts, policy and provenance hashes of ``result`` as MLflow tags."""
    tags = {
        f"{PREFIX}.verdict": str(result.verdict),
        f"{PREFIX}.policy": result.policy.name,
        f"{PREFIX}.policy_version": result.policy.version,
        f"{PREFIX}.data_sha256": result.provenance.data_sha256,
        f"{PREFIX}.model_sha256": result.provenance.model_sha256,
        f"{PREFIX}.policy_sha256": result.provenance.policy_sha256,
    }
    for finding in result.findings:
        key = f"{PREFIX}.finding.{_name(finding.requirement_id)}.{_grouping(finding.grouping)}"
        tags[key] = finding.verdict.value
    return tags


def _batches(items: Mapping[str, Any], size: int) -> Iterator[dict[str, Any]]:
    keys = list(items)
    for start in range(0, len(keys), size):
        yield {key: items[key] for key in keys[start : start + size]}


def log_audit(
    result: AuditResult,
    run_id: str | None = None,
    *,
    reports: Mapping[str, str | Path] | None = None,
) -> str:
    """Log ``result`` to an MLflow run and return the run's id.

    Parameters
    ----------
    result : AuditResult
        The audit to log.
    run_id : str, optional
        The run to log to.  ``None``: the active run (``mlflow.active_run()``), or a new
        run in the active experiment when none is active; ``"new"``: always a new run.
    reports : mapping of str to path, optional
        Report files to log as artefacts, e.g. ``{"html": "reports/audit/report.html"}``;
        each is logged under ``maas-audit/``.

    Returns
    -------
    str
        The id of the run that was logged to.

    Raises
    ------
    UsageError
        MLflow is not installed, a report file is missing, or the run does not exist.
    """
    try:
        import mlflow
        from mlflow.exceptions import MlflowException
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise UsageError(ERR_NO_MLFLOW) from None
    files = {name: Path(path) for name, path in (reports or {}).items()}
    missing = [str(path) for path in files.values() if not path.is_file()]
    if missing:
        raise UsageError(f"cannot log to MLflow: no report file {', '.join(missing)}")
    client = MlflowClient()
    started = None
    try:
        active = mlflow.active_run()
        if run_id is None and active is not None:
            run_id = active.info.run_id
        elif run_id in (None, NEW_RUN):
            started = mlflow.start_run(nested=active is not None)
            run_id = started.info.run_id
        else:
            client.get_run(run_id)  # fails early, and clearly, on an unknown id
        assert run_id is not None
        for batch in _batches(audit_metrics(result), 500):
            client.log_batch(run_id, metrics=[_metric(key, value) for key, value in batch.items()])
        for batch in _batches(audit_tags(result), 100):
            client.log_batch(run_id, tags=[_tag(key, value) for key, value in batch.items()])
        for path in files.values():
            client.log_artifact(run_id, str(path), artifact_path=ARTIFACT_PATH)
    except MlflowException as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsageError(f"MLflow refused the audit log: {message}") from None
    finally:
        if started is not None:
            mlflow.end_run()
    return run_id


def _metric(key: str, value: float) -> Any:
    import time

    from mlflow.entities import Metric

    return Metric(key=key, value=value, timestamp=int(time.time() * 1000), step=0)


def _tag(key: str, value: str) -> Any:
    from mlflow.entities import RunTag

    return RunTag(key, value[:5000])
