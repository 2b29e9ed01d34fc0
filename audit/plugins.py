"""Finding auditors through the ``maas_audit.auditors`` entry-point group.

Built-in auditors are registered through the same entry points as third-party ones.
A plugin that fails to import, is not an auditor, or reuses a taken name is recorded
with its error and named when asked for; it never stops other auditors from loading.
Set ``MAAS_AUDIT_DISABLE_PLUGIN_AUTOLOAD=1`` to load only the auditors maas-audit ships.
"""

from __future__ import annotations

import difflib
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
    "auditor_names",
    "discover_auditors",
    "get_auditor",
    "not_installed",
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


@dataclass(frozen=True)
class _Registration:
    """An entry point seen, not yet imported (or a clash of two under one name)."""

    name: str
    distribution: str
    version: str
    target: str
    entry_point: metadata.EntryPoint | None
    clash: str | None = None


@cache
def _registrations(autoload: bool) -> dict[str, _Registration]:
    """Every registered auditor by name, read from the metadata; nothing is imported."""
    found: dict[str, _Registration] = {}
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        distribution, version = _distribution_of(entry_point)
        if not autoload and distribution != _OWN_DISTRIBUTION:
            continue
        first = found.get(entry_point.name)
        if first is None:
            found[entry_point.name] = _Registration(
                entry_point.name, distribution, version, entry_point.value, entry_point
            )
        elif not (first.target == entry_point.value and first.distribution == distribution):
            found[entry_point.name] = _Registration(
                name=entry_point.name,
                distribution=f"{first.distribution}, {distribution}",
                version=first.version,
                target=first.target,
                entry_point=None,
                clash=(
                    f"is registered twice: by {first.distribution} ({first.target}) "
                    f"and by {distribution} ({entry_point.value})"
                ),
            )
        # else: the same distribution seen twice on sys.path
    return found


@cache
def _plugin(registration: _Registration) -> AuditorPlugin:
    """Import one registered auditor (once), recording why it cannot be used."""
    auditor, error = (None, registration.clash)
    if registration.entry_point is not None:
        auditor, error = _load(registration.entry_point)
    return AuditorPlugin(
        name=registration.name,
        distribution=registration.distribution,
        version=registration.version,
        target=registration.target,
        auditor=auditor,
        error=error,
    )


def _autoload() -> bool:
    return os.environ.get(DISABLE_AUTOLOAD_ENV, "").strip().lower() not in {"1", "true", "yes"}


def discover_auditors(*, refresh: bool = False) -> tuple[AuditorPlugin, ...]:
    """Every registered auditor, sorted by name, broken ones included with their error.

    This imports every plugin; :func:`get_auditor` imports only the one asked for.
    """
    if refresh:
        _registrations.cache_clear()
        _plugin.cache_clear()
    registered = _registrations(_autoload())
    return tuple(_plugin(registered[name]) for name in sorted(registered))


def get_auditor(name: str) -> Auditor:
    """A fresh instance of the auditor registered as ``name`` (only its plugin is imported).

    Raises
    ------
    PluginError
        When no auditor has that name, or its plugin is broken.
    """
    registered = _registrations(_autoload())
    if name not in registered:
        raise PluginError(not_installed(name))
    plugin = _plugin(registered[name])
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


def auditor_names() -> tuple[str, ...]:
    """The names of the registered auditors, sorted (no plugin is imported)."""
    return tuple(sorted(_registrations(_autoload())))


def not_installed(name: str) -> str:
    """Why ``name`` is no auditor: the message, with the closest installed name if any."""
    installed = auditor_names()
    close = difflib.get_close_matches(name, installed, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    listed = ", ".join(installed) or "none"
    return f"no auditor named '{name}' is installed{hint}; installed auditors: {listed}"
