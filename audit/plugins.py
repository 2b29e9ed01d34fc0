"""Finding auditors through the ``maas_audit.auditors`` entry-point group.

Built-in auditors are registered through the same entry points as third-party ones.
A plugin that fails to import, is not an auditor, or reuses a taken name is recorded
with its error and named when asked for; it never stops other auditors from loading.
Set ``MAAS_AUDIT_DISABLE_PLUGIN_AUTOLOAD=1`` to load only the auditors maas-audit ships.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from importlib import metadata

from audit.core.protocols import Auditor
from audit.errors import PluginError

__all__ = [
    "DISABLE_AUTOLOAD_ENV",
    "ENTRY_POINT_GROUP",
    "AuditorPlugin",
    "discover_auditors",
    "get_auditor",
]

ENTRY_POINT_GROUP = "maas_audit.auditors"
DISABLE_AUTOLOAD_ENV = "MAAS_AUDIT_DISABLE_PLUGIN_AUTOLOAD"
_OWN_DISTRIBUTION = "maas-audit"


@dataclass(frozen=True)
class AuditorPlugin:
    """One registered auditor, loaded or not."""

    name: str
    distribution: str
    version: str
    target: str
    """The entry point's ``module:attribute``."""
    auditor: type[Auditor] | None
    error: str | None = None
    """Why the plugin cannot be used; ``None`` when it loaded."""


def _distribution_of(entry_point: metadata.EntryPoint) -> tuple[str, str]:
    dist = entry_point.dist
    if dist is None:
        return "unknown distribution", ""
    return dist.metadata["Name"] or "unknown distribution", dist.version or ""


def _load(entry_point: metadata.EntryPoint) -> tuple[type[Auditor] | None, str | None]:
    try:
        loaded = entry_point.load()
    except Exception as exc:  # a broken plugin must not break discovery
        return None, f"cannot be imported: {type(exc).__name__}: {exc}"
    missing = [attr for attr in ("name", "Config", "metrics", "run") if not hasattr(loaded, attr)]
    if not isinstance(loaded, type) or missing:
        what = ", ".join(missing) if missing else "a class"
        return None, f"is not an auditor class (missing {what})"
    declared = getattr(loaded, "name", None)
    if declared != entry_point.name:
        return None, f"declares name {declared!r} but is registered as {entry_point.name!r}"
    return loaded, None


@cache
def _discover(autoload: bool) -> tuple[AuditorPlugin, ...]:
    plugins: dict[str, AuditorPlugin] = {}
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        distribution, version = _distribution_of(entry_point)
        if not autoload and distribution != _OWN_DISTRIBUTION:
            continue
        if entry_point.name in plugins:
            first = plugins[entry_point.name]
            if first.target == entry_point.value and first.distribution == distribution:
                continue  # the same distribution seen twice on sys.path
            plugins[entry_point.name] = AuditorPlugin(
                name=entry_point.name,
                distribution=f"{first.distribution}, {distribution}",
                version=first.version,
                target=first.target,
                auditor=None,
                error=(
                    f"is registered twice: by {first.distribution} ({first.target}) "
                    f"and by {distribution} ({entry_point.value})"
                ),
            )
            continue
        auditor, error = _load(entry_point)
        plugins[entry_point.name] = AuditorPlugin(
            name=entry_point.name,
            distribution=distribution,
            version=version,
            target=entry_point.value,
            auditor=auditor,
            error=error,
        )
    return tuple(sorted(plugins.values(), key=lambda p: p.name))


def discover_auditors(*, refresh: bool = False) -> tuple[AuditorPlugin, ...]:
    """Every registered auditor, sorted by name, broken ones included with their error."""
    if refresh:
        _discover.cache_clear()
    autoload = os.environ.get(DISABLE_AUTOLOAD_ENV, "").strip().lower() not in {"1", "true", "yes"}
    return _discover(autoload)


def get_auditor(name: str) -> Auditor:
    """A fresh instance of the auditor registered as ``name``.

    Raises
    ------
    PluginError
        When no auditor has that name, or its plugin is broken.
    """
    plugins = {p.name: p for p in discover_auditors()}
    plugin = plugins.get(name)
    if plugin is None:
        installed = ", ".join(sorted(plugins)) or "none"
        raise PluginError(
            f"no auditor named '{name}' is installed; installed auditors: {installed}"
        )
    if plugin.auditor is None:
        raise PluginError(f"auditor '{name}' from {plugin.distribution} {plugin.error}")
    try:
        instance = plugin.auditor()
    except Exception as exc:
        raise PluginError(
            f"auditor '{name}' from {plugin.distribution} cannot be created: "
            f"{type(exc).__name__}: {exc}"
        ) from None
    return instance
