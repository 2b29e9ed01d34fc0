"""Bind a policy to the installed auditors: each auditor named, its settings, its metrics.

Binding is where a policy meets the plugins: an auditor that is not installed, settings
its Config model refuses, or a metric it does not measure is an error naming the file,
line and field, found before any data is read or model called.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel

from audit.core.protocols import Auditor, MetricRange
from audit.errors import PluginError, PolicyError
from audit.plugins import auditor_names, get_auditor, not_installed
from audit.policy.loader import LoadedPolicy, validate_auditor_settings
from audit.policy.schema import Comparison, Requirement

__all__ = ["BoundAuditor", "bind_auditors"]

BoundAuditor = tuple[Auditor, BaseModel]
"""An auditor instance and its validated settings."""


def bind_auditors(loaded: LoadedPolicy) -> list[BoundAuditor]:
    """Instantiate each auditor the policy names, in order of first use, with its settings.

    Raises
    ------
    PolicyError
        When a requirement or an ``auditors:`` block names an auditor that is not
        installed (or is broken), a requirement names a metric its auditor does not
        measure or a threshold outside the metric's declared range, or an ``auditors:``
        block holds settings its Config model refuses.
    """
    _check_auditor_blocks(loaded)
    bound: dict[str, BoundAuditor] = {}
    for index, requirement in enumerate(loaded.policy.requirements):
        name = requirement.auditor
        if name not in bound:
            try:
                auditor = get_auditor(name)
            except PluginError as exc:
                location = loaded.locate(("requirements", index, "auditor"))
                raise PolicyError(f"{location}: requirements[{index}].auditor: {exc}") from None
            bound[name] = (auditor, validate_auditor_settings(loaded, name, auditor.Config))
        known = bound[name][0].metrics()
        if requirement.metric not in known:
            location = loaded.locate(("requirements", index, "metric"))
            raise PolicyError(
                f"{location}: requirements[{index}].metric: auditor '{name}' has no metric "
                f"'{requirement.metric}'; its metrics are: {', '.join(sorted(known))}"
            )
        ranges: Mapping[str, MetricRange] = getattr(bound[name][0], "metric_ranges", {})
        problem = _threshold_problem(requirement, ranges.get(requirement.metric))
        if problem is not None:
            location = loaded.locate(("requirements", index, "threshold"))
            raise PolicyError(f"{location}: requirements[{index}].threshold: {problem}")
    return [
        (auditor, _with_listed_groupings(loaded, name, settings))
        for name, (auditor, settings) in bound.items()
    ]


def _threshold_problem(requirement: Requirement, span: MetricRange | None) -> str | None:
    """Why ``requirement``'s threshold cannot be met or missed by its metric, or ``None``.

    Beyond the metric's range an ``at_most`` or ``at_least`` requirement always passes
    or always fails, and a ``max_difference`` wider than the range always passes.
    """
    if span is None or requirement.compare not in _BOUNDED:
        return None
    low, high = span
    threshold = requirement.threshold
    metric, compare = requirement.metric, requirement.compare.value
    shown = _span_text(low, high)
    if requirement.compare is Comparison.MAX_DIFFERENCE:
        if low is not None and high is not None and threshold > high - low:
            return (
                f"{compare} {threshold:g} on {metric} always passes: its values run {shown}, "
                f"so no two groups differ by more than {high - low:g}"
            )
        return None
    if (low is not None and threshold < low) or (high is not None and threshold > high):
        return f"{compare} {threshold:g} on {metric} is outside its values, which run {shown}"
    return None


_BOUNDED = frozenset({Comparison.AT_MOST, Comparison.AT_LEAST, Comparison.MAX_DIFFERENCE})


def _span_text(low: float | None, high: float | None) -> str:
    if low is None:
        return f"up to {high:g}" if high is not None else "over every number"
    return f"from {low:g} to {high:g}" if high is not None else f"from {low:g} up"


def _with_listed_groupings(loaded: LoadedPolicy, name: str, settings: BaseModel) -> BaseModel:
    """Add the column lists of the auditor's requirements' ``group_by`` to a ``groupings`` setting.

    An auditor whose Config declares ``groupings`` (as fairness does) measures those
    combinations too, so that ``group_by: [sex, race]`` is measured even when more
    columns are sensitive.
    """
    if "groupings" not in type(settings).model_fields:
        return settings
    listed = [
        tuple(r.group_by)
        for r in loaded.policy.requirements
        if r.auditor == name and isinstance(r.group_by, tuple)
    ]
    known = tuple(getattr(settings, "groupings", ()))
    added = tuple(g for g in dict.fromkeys(listed) if g not in known)
    return settings.model_copy(update={"groupings": known + added}) if added else settings


def _check_auditor_blocks(loaded: LoadedPolicy) -> None:
    """Refuse an ``auditors:`` block for an auditor that is not installed (a misspelling)."""
    installed = set(auditor_names())
    for name in loaded.policy.auditors:
        if name not in installed:
            location = loaded.locate(("auditors", name))
            raise PolicyError(f"{location}: auditors.{name}: {not_installed(name)}")
