"""What changed between two audits, read from their JSON reports: regressions first.

A finding is keyed by its requirement id and grouping.  A *regression* is a verdict
that got worse (PASS to FAIL or INCONCLUSIVE, INCONCLUSIVE to FAIL), whatever the
requirement's severity; an *improvement* the reverse.  Then come the changes of
measured values, the requirements added or removed, and the inputs that differ
(data, model and policy SHA-256, seed, maas-audit version).

>>> old = {"schema": "maas-audit/report", "verdict": "PASS", "findings": [
...     {"requirement_id": "r", "grouping": ["sex"], "verdict": "PASS", "measured": 0.9,
...      "severity": "blocking", "title": "R"}]}
>>> new = {**old, "verdict": "FAIL", "findings": [{**old["findings"][0], "verdict": "FAIL",
...      "measured": 0.7}]}
>>> changes = diff_reports(old, new)
>>> [(c.old, c.new) for c in changes.regressions]
[('PASS', 'FAIL')]
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit.core.measurements import grouping_label
from audit.errors import UsageError
from audit.reporting.json import SCHEMA

__all__ = [
    "AuditDiff",
    "InputChange",
    "RequirementChange",
    "ValueChange",
    "VerdictChange",
    "diff_reports",
    "format_diff",
    "load_report",
]

MEASURED_TOLERANCE = 1e-9
"""Measured values closer than this are unchanged."""

ERR_READ = "{path}: cannot be read: {reason}"
ERR_JSON = "{path}: not JSON: {reason}"
ERR_SCHEMA = '{path}: not a maas-audit JSON report (expected "schema": "{schema}")'

_RANK = {"PASS": 2, "ADVISORY": 2, "INCONCLUSIVE": 1, "FAIL": 0}

Key = tuple[str, tuple[str, ...]]


@dataclass(frozen=True)
class VerdictChange:
    """A finding whose verdict changed."""

    requirement_id: str
    grouping: tuple[str, ...]
    severity: str
    old: str
    new: str


@dataclass(frozen=True)
class ValueChange:
    """A finding whose measured value changed (``None``: not measured)."""

    requirement_id: str
    grouping: tuple[str, ...]
    old: float | None
    new: float | None

    @property
    def delta(self) -> float | None:
        """``new - old`` when both were measured."""
        return None if self.old is None or self.new is None else self.new - self.old


@dataclass(frozen=True)
class RequirementChange:
    """A requirement present in one audit only."""

    requirement_id: str
    title: str


@dataclass(frozen=True)
class InputChange:
    """An input of the audit that differs: data, model, policy, seed or software."""

    name: str
    old: str
    new: str


@dataclass(frozen=True)
class AuditDiff:
    """Everything that changed between two audits."""

    old_verdict: str
    new_verdict: str
    regressions: tuple[VerdictChange, ...] = ()
    improvements: tuple[VerdictChange, ...] = ()
    values: tuple[ValueChange, ...] = ()
    added: tuple[RequirementChange, ...] = ()
    removed: tuple[RequirementChange, ...] = ()
    inputs: tuple[InputChange, ...] = field(default=())

    @property
    def has_regressions(self) -> bool:
        """True when a verdict got worse, or the overall verdict did."""
        worse = _rank(self.new_verdict) < _rank(self.old_verdict)
        return bool(self.regressions) or worse

    @property
    def unchanged(self) -> bool:
        """True when nothing at all differs."""
        return self.old_verdict == self.new_verdict and not (
            self.regressions
            or self.improvements
            or self.values
            or self.added
            or self.removed
            or self.inputs
        )


def load_report(path: str | Path) -> dict[str, Any]:
    """Read a maas-audit JSON report.

    Raises
    ------
    UsageError
        The file cannot be read, is not JSON, or is not a maas-audit report.
    """
    where = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise UsageError(ERR_READ.format(path=where, reason=reason)) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        reason = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
        raise UsageError(ERR_JSON.format(path=where, reason=reason)) from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise UsageError(ERR_SCHEMA.format(path=where, schema=SCHEMA))
    return data


def _rank(verdict: str) -> int:
    return _RANK.get(verdict, 1)


def _findings(report: Mapping[str, Any]) -> dict[Key, Mapping[str, Any]]:
    out: dict[Key, Mapping[str, Any]] = {}
    for item in report.get("findings") or ():
        if isinstance(item, Mapping):
            grouping = tuple(str(g) for g in item.get("grouping") or ())
            out[(str(item.get("requirement_id", "")), grouping)] = item
    return out


def _requirements(
    report: Mapping[str, Any], findings: Mapping[Key, Mapping[str, Any]]
) -> dict[str, str]:
    policy = report.get("policy") or {}
    listed = {
        str(r.get("id")): str(r.get("title", ""))
        for r in policy.get("requirements") or ()
        if isinstance(r, Mapping)
    }
    for (rid, _), finding in findings.items():
        listed.setdefault(rid, str(finding.get("title", "")))
    return listed


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _inputs(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[InputChange]:
    before, after = old.get("provenance") or {}, new.get("provenance") or {}
    fields = (
        ("data SHA-256", "data_sha256"),
        ("model SHA-256", "model_sha256"),
        ("policy SHA-256", "policy_sha256"),
        ("seed", "seed"),
    )
    out = [
        InputChange(name, str(before.get(key)), str(after.get(key)))
        for name, key in fields
        if before.get(key) != after.get(key)
    ]
    versions_old = before.get("versions") or {}
    versions_new = after.get("versions") or {}
    for package in sorted(set(versions_old) | set(versions_new)):
        if versions_old.get(package) != versions_new.get(package):
            out.append(
                InputChange(
                    f"{package} version",
                    str(versions_old.get(package, "absent")),
                    str(versions_new.get(package, "absent")),
                )
            )
    return out


def diff_reports(old: Mapping[str, Any], new: Mapping[str, Any]) -> AuditDiff:
    """Compare two JSON reports (as :func:`audit.reporting.result_to_dict` writes them).

    Parameters
    ----------
    old, new : Mapping
        The earlier and the later report.

    Returns
    -------
    AuditDiff
        Regressions and improvements of verdicts (worst first), changes of measured
        values, requirements added and removed, and changed inputs.
    """
    before, after = _findings(old), _findings(new)
    regressions: list[VerdictChange] = []
    improvements: list[VerdictChange] = []
    values: list[ValueChange] = []
    for key in [k for k in after if k in before]:
        was, now = before[key], after[key]
        old_verdict, new_verdict = str(was.get("verdict")), str(now.get("verdict"))
        if old_verdict != new_verdict:
            change = VerdictChange(
                key[0], key[1], str(now.get("severity", "")), old_verdict, new_verdict
            )
            worse = _rank(new_verdict) < _rank(old_verdict)
            (regressions if worse else improvements).append(change)
        old_value, new_value = _number(was.get("measured")), _number(now.get("measured"))
        moved = (old_value is None) != (new_value is None) or (
            old_value is not None
            and new_value is not None
            and abs(new_value - old_value) > MEASURED_TOLERANCE
        )
        if moved:
            values.append(ValueChange(key[0], key[1], old_value, new_value))
    regressions.sort(key=lambda c: (c.severity != "blocking", _rank(c.new)))
    old_reqs, new_reqs = _requirements(old, before), _requirements(new, after)
    return AuditDiff(
        old_verdict=str(old.get("verdict")),
        new_verdict=str(new.get("verdict")),
        regressions=tuple(regressions),
        improvements=tuple(improvements),
        values=tuple(values),
        added=tuple(RequirementChange(r, t) for r, t in new_reqs.items() if r not in old_reqs),
        removed=tuple(RequirementChange(r, t) for r, t in old_reqs.items() if r not in new_reqs),
        inputs=tuple(_inputs(old, new)),
    )


def _value(value: float | None) -> str:
    return "not measured" if value is None else f"{value:.4f}"


def format_diff(diff: AuditDiff) -> str:
    """Write ``diff`` as plain text, one change per line, regressions first.

    Parameters
    ----------
    diff : AuditDiff
        The changes.

    Returns
    -------
    str
        Lines ending in newlines; "no changes" when nothing differs.
    """
    lines = [f"overall verdict: {diff.old_verdict} -> {diff.new_verdict}"]
    for title, changes in (("regressions", diff.regressions), ("improvements", diff.improvements)):
        if changes:
            lines.append(f"{title} ({len(changes)}):")
            lines += [
                f"  {c.old} -> {c.new}  {c.requirement_id} "
                f"[{grouping_label(c.grouping)}] ({c.severity})"
                for c in changes
            ]
    if diff.values:
        lines.append(f"measured values ({len(diff.values)}):")
        for v in diff.values:
            delta = "" if v.delta is None else f" ({v.delta:+.4f})"
            lines.append(
                f"  {v.requirement_id} [{grouping_label(v.grouping)}]: "
                f"{_value(v.old)} -> {_value(v.new)}{delta}"
            )
    for title, items in (("new requirements", diff.added), ("removed requirements", diff.removed)):
        if items:
            lines.append(f"{title} ({len(items)}):")
            lines += [f"  {r.requirement_id}: {r.title}" for r in items]
    if diff.inputs:
        lines.append(f"changed inputs ({len(diff.inputs)}):")
        lines += [f"  {i.name}: {i.old} -> {i.new}" for i in diff.inputs]
    if diff.unchanged:
        lines.append("no changes")
    return "\n".join(lines) + "\n"
