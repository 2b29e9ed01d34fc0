"""The contract every auditor keeps, as checks a plugin author runs in their own tests.

Like scikit-learn's ``check_estimator``, :func:`check_auditor` runs an auditor class
through the checks every built-in auditor passes, and raises
:class:`ConformanceError` naming the first check that fails::

    from audit.testing import check_auditor

    def test_my_auditor_keeps_the_contract():
        check_auditor(MyAuditor)

The checks, in order:

``name``
    The class attribute ``name`` is a lowercase slug, the name policies use.
``instantiation``
    ``MyAuditor()`` needs no argument and satisfies :class:`~audit.core.protocols.Auditor`.
``config``
    ``MyAuditor.Config`` is a pydantic model whose defaults validate, and which refuses a
    setting it does not know (``extra="forbid"``), so that a misspelt setting in a policy
    is an error rather than silently ignored.
``metrics``
    ``metrics()`` declares at least one metric: snake_case names, each with a description.
``output``
    On a small synthetic audit (240 rows, a binary decision, one sensitive column) ``run``
    returns the auditor's own output, measuring only declared metrics, each grouped by
    sensitive columns of the audit.
``missing data``
    With the sensitive column entirely missing and four rows, ``run`` does not raise, and
    every result it could not measure carries a reason (which policy evaluation turns into
    INCONCLUSIVE, never PASS).
``no raw values``
    No text of the output (tables, charts, warnings, limitations, reasons, notes, method)
    contains a raw cell value of a column that is not a sensitive one: the synthetic data
    carries a canary record id in every row, and none may appear.

An auditor that reads only the data (``needs_model = False``) is run as in a data-only
audit: its context has the data and no model.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ValidationError

from audit.core.context import AuditContext, ColumnRoles, Outcomes, Task
from audit.core.measurements import AuditorOutput
from audit.core.protocols import Auditor, Predictions

__all__ = ["CANARY_PREFIX", "ConformanceError", "check_auditor", "sample_context"]

CANARY_PREFIX = "zq-canary-"
"""Prefix of the record ids in the synthetic data; no auditor output may contain one."""

_SLUG = re.compile(r"^[a-z][a-z0-9_-]*$")
_METRIC = re.compile(r"^[a-z][a-z0-9_]*$")
_UNKNOWN_SETTING = "conformance_check_unknown_setting"
_FEATURES = ("x1", "x2", "x3")
_COEFFICIENTS = np.array([1.2, -0.8, 0.5])


class ConformanceError(AssertionError):
    """An auditor broke the contract; the message names the check and what was found."""


class _LinearModel:
    """A fixed logistic model over the synthetic features: the audited model of the checks."""

    batch_size = 10_000
    input_columns = None

    def predict_batch(self, rows: pd.DataFrame) -> Predictions:
        scores = 1.0 / (1.0 + np.exp(-(rows[list(_FEATURES)].to_numpy() @ _COEFFICIENTS)))
        return Predictions(labels=(scores >= 0.5).astype(np.int64), scores=scores)

    def describe(self) -> Mapping[str, Any]:
        return {"kind": "python", "location": "the conformance kit's linear model"}

    def fingerprint(self) -> str:
        return "0" * 64


def sample_context(
    *, rows: int = 240, seed: int = 0, missing_sensitive: bool = False, with_model: bool = True
) -> AuditContext:
    """The synthetic audit the checks run: numeric features, ``sex``, a 0/1 target ``y``.

    Every row has a unique ``record_id`` starting with :data:`CANARY_PREFIX`; it is
    neither a feature nor sensitive.  ``missing_sensitive`` empties the ``sex`` column;
    ``with_model=False`` gives a data-only context.
    """
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(rows, len(_FEATURES)))
    model = _LinearModel()
    frame = pd.DataFrame(features, columns=list(_FEATURES))
    frame["sex"] = rng.choice(["female", "male"], size=rows)
    if missing_sensitive:
        frame["sex"] = pd.Series([None] * rows, dtype=object)
    chance = 1.0 / (1.0 + np.exp(-(features @ _COEFFICIENTS)))
    frame["y"] = (rng.random(rows) < chance).astype(np.int64)
    frame["record_id"] = [f"{CANARY_PREFIX}{i:05d}" for i in range(rows)]
    if not with_model:
        return AuditContext(data=frame, seed=seed)
    roles = ColumnRoles(
        target="y", sensitive=("sex",), features=_FEATURES, positive_label=1, task=Task.BINARY
    )
    predictions = model.predict_batch(frame)
    outcomes = Outcomes(
        task=Task.BINARY,
        y_true=frame["y"].to_numpy(dtype=np.int8),
        y_pred=np.asarray(predictions.labels, dtype=np.int8),
        y_score=predictions.scores,
    )
    return AuditContext(data=frame, roles=roles, outcomes=outcomes, model=model, seed=seed)


def check_auditor(auditor: type[Auditor], *, settings: Mapping[str, Any] | None = None) -> None:
    """Run every conformance check on ``auditor`` (a class), in order.

    Parameters
    ----------
    auditor
        The auditor class, as its entry point names it.
    settings
        The ``auditors.<name>`` settings to run it with (default: its Config's defaults).

    Raises
    ------
    ConformanceError
        The first check that fails, by name, with what it found.
    """
    _check_name(auditor)
    instance = _check_instantiation(auditor)
    config = _check_config(auditor, settings or {})
    declared = _check_metrics(instance)
    with_model = getattr(auditor, "needs_model", True)
    context = sample_context(with_model=with_model)
    output = _run(instance, context, config, "output")
    _check_output(instance, output, declared, context)
    missing = sample_context(rows=4, missing_sensitive=True, with_model=with_model)
    _check_missing_data(_run(instance, missing, config, "missing data"))
    _check_no_raw_values(output, context.data["record_id"])


def _fail(check: str, message: str) -> ConformanceError:
    return ConformanceError(f"check '{check}' failed: {message}")


def _check_name(auditor: type[Auditor]) -> None:
    name = getattr(auditor, "name", None)
    if not isinstance(name, str) or not _SLUG.match(name):
        raise _fail("name", f"the class attribute 'name' must be a lowercase slug; got {name!r}")


def _check_instantiation(auditor: type[Auditor]) -> Auditor:
    try:
        instance = auditor()
    except Exception as exc:
        raise _fail("instantiation", f"{auditor!r}() raised {type(exc).__name__}: {exc}") from exc
    if not isinstance(instance, Auditor):
        raise _fail("instantiation", "the instance lacks name, Config, metrics() or run()")
    return instance


def _check_config(auditor: type[Auditor], settings: Mapping[str, Any]) -> BaseModel:
    model = getattr(auditor, "Config", None)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise _fail("config", f"Config must be a pydantic model class; got {model!r}")
    try:
        config = model.model_validate(dict(settings))
    except ValidationError as exc:
        raise _fail("config", f"the settings do not validate: {exc.errors()[0]['msg']}") from exc
    try:
        model.model_validate({**settings, _UNKNOWN_SETTING: 1})
    except ValidationError:
        return config
    raise _fail("config", "Config accepts a setting it does not know; set extra='forbid'")


def _check_metrics(instance: Auditor) -> Mapping[str, str]:
    declared = instance.metrics()
    if not isinstance(declared, Mapping) or not declared:
        raise _fail("metrics", f"metrics() must declare at least one metric; got {declared!r}")
    for metric, description in declared.items():
        if not isinstance(metric, str) or not _METRIC.match(metric):
            raise _fail("metrics", f"metric names are snake_case; got {metric!r}")
        if not isinstance(description, str) or not description.strip():
            raise _fail("metrics", f"metric {metric!r} has no description")
    for metric, (low, high) in getattr(instance, "metric_ranges", {}).items():
        if metric not in declared:
            raise _fail("metrics", f"metric_ranges names {metric!r}, which metrics() lacks")
        if low is not None and high is not None and low > high:
            raise _fail("metrics", f"metric_ranges gives {metric!r} a range from {low} to {high}")
    return declared


def _run(instance: Auditor, context: AuditContext, config: BaseModel, check: str) -> AuditorOutput:
    try:
        output = instance.run(context, config)
    except Exception as exc:
        raise _fail(check, f"run() raised {type(exc).__name__}: {exc}") from exc
    if not isinstance(output, AuditorOutput):
        raise _fail(check, f"run() must return an AuditorOutput; got {type(output).__name__}")
    return output


def _check_output(
    instance: Auditor, output: AuditorOutput, declared: Mapping[str, str], context: AuditContext
) -> None:
    if output.auditor != instance.name:
        raise _fail("output", f"output.auditor is {output.auditor!r}, not {instance.name!r}")
    sensitive = set(context.roles.sensitive) if context.has_outcomes else None
    for result in output.metrics:
        if result.metric not in declared:
            raise _fail("output", f"metric {result.metric!r} is not declared by metrics()")
        if result.auditor != instance.name:
            raise _fail("output", f"metric {result.metric!r} names auditor {result.auditor!r}")
        if sensitive is not None and not set(result.grouping) <= sensitive:
            raise _fail(
                "output",
                f"metric {result.metric!r} is grouped by {result.grouping!r}, which are not "
                "sensitive columns of the audit",
            )


def _check_missing_data(output: AuditorOutput) -> None:
    for result in output.metrics:
        unmeasured = result.value is None and all(g.value is None for g in result.groups)
        if unmeasured and not (result.reason or "").strip():
            raise _fail(
                "missing data",
                f"metric {result.metric!r} ({result.grouping_label}) has no value and no "
                "reason; a measurement that cannot be made must say why",
            )


def _check_no_raw_values(output: AuditorOutput, canaries: Sequence[str]) -> None:
    for text in _texts(output):
        if CANARY_PREFIX in text:
            found = next((c for c in canaries if c in text), CANARY_PREFIX)
            raise _fail(
                "no raw values",
                f"the output shows the raw value {found!r} of the non-sensitive column "
                f"'record_id': {text[:120]!r}",
            )


def _texts(value: Any) -> Iterator[str]:
    """Every string inside ``value``: dataclass fields, mappings and sequences, recursively."""
    if isinstance(value, str):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in dataclasses.fields(value):
            yield from _texts(getattr(value, item.name))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _texts(key)
            yield from _texts(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _texts(item)
