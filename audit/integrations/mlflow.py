"""Log an audit to an MLflow run: values as metrics, verdicts as tags, reports as artefacts.

``pip install 'maas-audit[mlflow]'`` brings the MLflow client.  The tracking store is
MLflow's own choice: ``MLFLOW_TRACKING_URI`` or :func:`mlflow.set_tracking_uri` (a
tracking server, or a local ``sqlite:///mlflow.db``, MLflow's default, for which the
client needs SQLAlchemy and Alembic: ``pip install sqlalchemy alembic``).

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

In each part of a name, a character other than an ASCII letter, a digit, ``_``, ``-``,
``.`` or a space becomes ``_`` (MLflow refuses most others, ``:`` on Windows, and ``/``
where it would make a path), and a group label is shortened to 200 characters.  Where two
labels would then give the same name (``age=<40`` and ``age=≥40``), or a name would be
longer than MLflow's 250 characters, the name ends with ``_`` and the first 8 hexadecimal
digits of the SHA-256 of what it names, so that no value overwrites another.  Values that
were not measured, or are not finite, are not logged (MLflow has no missing value, and
the JSON report writes them as ``null``); their findings' tags say what was concluded.
Reports are logged under the artefact folder ``maas-audit``.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from audit.errors import UsageError

if TYPE_CHECKING:
    from audit.core.findings import Finding
    from audit.core.result import AuditResult

__all__ = ["ARTIFACT_PATH", "PREFIX", "audit_metrics", "audit_tags", "log_audit"]

PREFIX = "maas_audit"
ARTIFACT_PATH = "maas-audit"
NEW_RUN = "new"
"""``run_id`` value that starts a new run in the active experiment."""
_UNSAFE = re.compile(r"[^A-Za-z0-9_\-. ]")
_MAX_LABEL = 200
_MAX_KEY = 250  # MLflow's limit on the length of a metric or tag name
_DIGEST = 8
ERR_NO_MLFLOW = "logging to MLflow needs the MLflow client: pip install 'maas-audit[mlflow]'"
ERR_STORE_MODULE = (
    "the MLflow tracking store needs the '{module}' package, which mlflow-skinny leaves out: "
    "pip install sqlalchemy alembic (or the full mlflow), or set MLFLOW_TRACKING_URI to a "
    "tracking server"
)

Identity = tuple[object, ...]
"""What a name stands for, before its characters were made safe for MLflow."""


def _name(part: str) -> str:
    return _UNSAFE.sub("_", part.strip())[:_MAX_LABEL] or "_"


def _grouping(grouping: tuple[str, ...]) -> str:
    return "-x-".join(_name(column) for column in grouping) if grouping else "overall"


def _finding_name(finding: Finding) -> tuple[Identity, str]:
    identity = ("finding", finding.requirement_id, finding.grouping)
    name = f"{PREFIX}.finding.{_name(finding.requirement_id)}.{_grouping(finding.grouping)}"
    return identity, name


def _values(result: AuditResult) -> Iterator[tuple[Identity, str, float | None]]:
    """Every value of ``result`` with what it stands for and its name before uniqueness."""
    for output in result.outputs:
        for metric in output.metrics:
            identity: Identity = ("metric", output.auditor, metric.metric, metric.grouping)
            base = f"{PREFIX}.{_name(output.auditor)}.{_name(metric.metric)}"
            base += f".{_grouping(metric.grouping)}"
            yield identity, base, metric.value
            for group in metric.groups:
                yield (*identity, group.group), f"{base}.{_name(group.group)}", group.value
    for finding in result.findings:
        yield *_finding_name(finding), finding.measured


def _unique(names: Mapping[Identity, str]) -> dict[Identity, str]:
    """``names`` with a digest of the identity added where two coincide or one is too long."""
    counts = Counter(names.values())
    unique = {}
    for identity, name in names.items():
        if counts[name] > 1 or len(name) > _MAX_KEY:
            digest = hashlib.sha256(repr(identity).encode("utf-8")).hexdigest()[:_DIGEST]
            name = f"{name[: _MAX_KEY - _DIGEST - 1]}_{digest}"
        unique[identity] = name
    return unique


def _names(result: AuditResult) -> dict[Identity, str]:
    """The MLflow name of every value and finding of ``result``, no two alike."""
    return _unique({identity: name for identity, name, _ in _values(result)})


def audit_metrics(result: AuditResult) -> dict[str, float]:
    """Every measured, finite value of ``result`` under its stable MLflow metric name."""
    names = _names(result)
    return {
        names[identity]: float(value)
        for identity, _, value in _values(result)
        if value is not None and math.isfinite(value)
    }


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
    names = _names(result)
    for finding in result.findings:
        tags[names[_finding_name(finding)[0]]] = finding.verdict.value
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
        run in the active experiment when none is active; ``"new"``: always a new run
        (nested in the active run, if there is one).
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
        MLflow is not installed, the tracking store cannot be opened (or needs a package
        that is not installed), a report file is missing, or the run does not exist.
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
    started = None
    try:
        client = MlflowClient()
        active = mlflow.active_run()
        if run_id is None and active is not None:
            run_id = active.info.run_id
        elif run_id in (None, NEW_RUN):
            started = mlflow.start_run(nested=active is not None)
            run_id = started.info.run_id
        else:
            client.get_run(run_id)  # fails early, and clearly, on an unknown id
        _log(client, run_id, result, files.values())
    except MlflowException as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"MLflow refused the audit log: {message}") from None
    except ModuleNotFoundError as exc:
        # mlflow-skinny opens a database store only with SQLAlchemy and Alembic installed
        package = (exc.name or "?").split(".")[0]
        raise UsageError(ERR_STORE_MODULE.format(module=package)) from None
    finally:
        if started is not None:
            mlflow.end_run()
    return run_id


def _log(client: Any, run_id: str, result: AuditResult, files: Iterable[Path]) -> None:
    """Send the metrics, the tags and the report files of ``result`` to run ``run_id``."""
    for batch in _batches(audit_metrics(result), 500):
        client.log_batch(run_id, metrics=[_metric(key, value) for key, value in batch.items()])
    for batch in _batches(audit_tags(result), 100):
        client.log_batch(run_id, tags=[_tag(key, value) for key, value in batch.items()])
    for path in files:
        client.log_artifact(run_id, str(path), artifact_path=ARTIFACT_PATH)


def _metric(key: str, value: float) -> Any:
    from mlflow.entities import Metric

    return Metric(key=key, value=value, timestamp=int(time.time() * 1000), step=0)


def _tag(key: str, value: str) -> Any:
    from mlflow.entities import RunTag

    return RunTag(key, value[:5000])
