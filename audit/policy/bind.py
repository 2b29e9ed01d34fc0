"""Bind a policy to the installed auditors: each auditor named, its settings, its metrics.

Binding is where a policy meets the plugins: an auditor that is not installed, settings
its Config model refuses, or a metric it does not measure is an error naming the file,
line and field, found before any data is read or model called.
"""

from __future__ import annotations

from pydantic import BaseModel

from audit.core.protocols import Auditor
from audit.errors import PluginError, PolicyError
from audit.plugins import get_auditor
from audit.policy.loader import LoadedPolicy, validate_auditor_settings

__all__ = ["BoundAuditor", "bind_auditors"]

BoundAuditor = tuple[Auditor, BaseModel]
"""An auditor instance and its validated settings."""


def bind_auditors(loaded: LoadedPolicy) -> list[BoundAuditor]:
    """Instantiate each auditor the policy names, in order of first use, with its settings.

    Raises
    ------
    PolicyError
        When a requirement names an auditor that is not installed (or is broken), a metric
        its auditor does not measure, or an ``auditors:`` block its Config model refuses.
    """
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
    return list(bound.values())
