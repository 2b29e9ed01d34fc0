"""Loading policy files: safe YAML with line numbers, ``extends:`` and exact error messages.

Every problem becomes a :class:`PolicyFileError` whose message reads like
``policies/x.yaml:12:5: requirements[2].threshold: expected a number, got 'high'``
(1-based lines and columns, as compilers write them so that editors and CI annotations
jump to the place; the column is where the field's key, or the list item, starts;
list indices 0-based).  Reading the YAML safely, with a mark per field, and turning
pydantic's errors into such lines is :mod:`audit.yaml_marks`'s job, shared with model
config files.

``extends:`` names shipped packs (``four-fifths``) or relative paths to ``.yaml``
files inside the extending file's folder; a list is applied left to right.  Files
are merged by layer: every file comes after the files it extends, each file once
(at its first place in a depth-first, left-to-right walk), and later files win; so a
file two parents share is applied once, first, and never undoes an override.  A
child's requirement replaces a parent's with the same id, others are appended;
auditor settings merge per setting (child wins); name, version and description
are the child's.

Several policies named together (``load_policy(["nyc-ll144", "illinois-hb3773"])``,
``maas-audit run --policy a --policy b``) merge exactly as a policy with
``extends: [a, b]`` and nothing else would; the name, version and description are
theirs joined.  Each requirement remembers the file or pack that defined it
(:attr:`LoadedPolicy.requirement_sources`), so that reports group findings by law.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from types import MappingProxyType
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from audit.core.details import StatementRequest
from audit.core.result import PolicySummary, Regime, RequirementSummary
from audit.errors import PolicyError
from audit.policy import packs
from audit.policy.schema import Policy, ReportSettings, ReportStatement, Requirement
from audit.yaml_marks import (
    FieldPath,
    PolicyFileError,
    _Mark,
    _nearest,
    _parse_yaml,
    _path_text,
    _position,
    _read_file,
    _translate,
)

__all__ = [
    "FieldPath",
    "LoadedPolicy",
    "PolicyFileError",
    "load_policy",
    "parse_policy",
    "validate_auditor_settings",
]

M = TypeVar("M", bound=BaseModel)

MAX_EXTENDS_DEPTH = 16
"""Longest chain of ``extends:``."""

ERR_NOT_FOUND = (
    "policy {source!r} not found: no such file, and no shipped pack of that name; "
    "packs are: {packs}"
)
ERR_CYCLE = "circular extends: {chain}"
ERR_EXTENDS_DEPTH = "extends is nested deeper than {limit} files"
ERR_EXTENDS_ABSOLUTE = (
    "{entry!r} is an absolute path; extends takes a pack name or a path relative to this file"
)
ERR_EXTENDS_ESCAPE = (
    "{entry!r} points outside this file's folder; extends may only name files inside it, or packs"
)
ERR_EXTENDS_MISSING = "{entry!r} not found (looked for {path})"
ERR_EXTENDS_SUFFIX = "{entry!r} is neither a pack name nor a .yaml/.yml file"
ERR_NO_REQUIREMENTS = (
    "a policy needs at least one requirement; none here or in the policies it extends"
)

ERR_NO_POLICY = "no policy named: give at least one policy file or pack"

_YAML_SUFFIXES = (".yaml", ".yml")


# ---------------------------------------------------------------- one file


@dataclass(frozen=True)
class _File:
    display: str
    path: Path | None
    base_dir: Path
    policy: Policy
    marks: Mapping[FieldPath, _Mark]

    @functools.cached_property
    def branches(self) -> dict[FieldPath, list[tuple[FieldPath, _Mark]]]:
        """Marks grouped by the first two parts of their path (one requirement, one auditor)."""
        out: dict[FieldPath, list[tuple[FieldPath, _Mark]]] = {}
        for path, mark in self.marks.items():
            if len(path) >= 2:
                out.setdefault(path[:2], []).append((path, mark))
        return out

    def at(self, path: FieldPath) -> str:
        """``line:column`` of ``path``, or of its nearest enclosing field."""
        found = _nearest(self.marks, path)
        return _position(self.marks[found]) if found is not None else "1:1"


def _parse_file(text: str, display: str, path: Path | None, base_dir: Path) -> _File:
    data, marks = _parse_yaml(text, display)
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:

        def where(loc: FieldPath) -> tuple[str, _Mark | None]:
            found = _nearest(marks, loc)
            position = _position(marks[found]) if found is not None else "1:1"
            return f"{display}:{position}", marks.get(loc)

        raise PolicyFileError(_translate(exc, Policy, (), where)) from None
    return _File(display, path, base_dir, policy, marks)


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# ---------------------------------------------------------------- extends and merging


@dataclass
class _Layer:
    """A policy with its extends applied, and where each part was defined."""

    name: str
    version: str
    description: str
    requirements: dict[str, tuple[Requirement, _File, int]]
    auditors: dict[str, dict[str, tuple[Any, _File]]]
    auditor_blocks: dict[str, _File]
    sections: list[str]
    statements: dict[str, ReportStatement]
    top: dict[FieldPath, tuple[_File, str]]
    sources: list[str]


def _from_file(f: _File) -> _Layer:
    policy = f.policy
    return _Layer(
        name=policy.name,
        version=policy.version,
        description=policy.description,
        requirements={r.id: (r, f, i) for i, r in enumerate(policy.requirements)},
        auditors={a: {k: (v, f) for k, v in s.items()} for a, s in policy.auditors.items()},
        auditor_blocks=dict.fromkeys(policy.auditors, f),
        sections=list(policy.report.sections),
        statements={s.id: s for s in policy.report.statements},
        top={p: (f, _position(m)) for p, m in f.marks.items() if len(p) <= 1},
        sources=[f.display],
    )


def _apply(base: _Layer, over: _Layer) -> None:
    """Apply ``over`` on ``base`` in place: ``over`` wins."""
    base.name, base.version, base.description = over.name, over.version, over.description
    base.requirements.update(over.requirements)
    for auditor, settings in over.auditors.items():
        base.auditors.setdefault(auditor, {}).update(settings)
    base.auditor_blocks.update(over.auditor_blocks)
    base.sections.extend(s for s in over.sections if s not in base.sections)
    base.statements.update(over.statements)
    base.top.update(over.top)
    base.sources.extend([s for s in over.sources if s not in base.sources])


class _Resolver:
    """Loads files and packs, following extends with cycle and depth checks.

    The files are merged by layer: a depth-first walk of ``extends`` (left to right)
    puts every file after the files it extends, and each file only once, at its first
    place; the layers are then applied in that order, the later winning.  So in a
    diamond (a child extends ``[strict, extra]``, both extend ``base``) ``base`` is
    applied once, first, and cannot undo what ``strict`` overrides.
    """

    def __init__(self) -> None:
        self._files: dict[Path, _File] = {}
        self._heights: dict[Path, int] = {}
        self._order: list[_File] = []
        self._sources: list[str] = []

    def resolve(self, f: _File, chain: tuple[tuple[Path | None, str], ...]) -> _Layer:
        """Merge ``f`` with every file it extends; ``chain`` is ``((f's path, f's name),)``."""
        self._walk(f, chain)
        return self._merge()

    def resolve_all(self, roots: Sequence[_File]) -> _Layer:
        """Merge ``roots`` as a policy with ``extends: [roots...]`` would merge its parents.

        A root already placed (named twice, or extended by an earlier root) is skipped,
        as a repeated ``extends`` entry is.
        """
        for f in roots:
            if f.path is not None and f.path in self._heights:
                continue
            height = self._walk(f, ((f.path, f.display),))
            if f.path is not None:
                self._heights[f.path] = height
        return self._merge()

    def _merge(self) -> _Layer:
        merged = _from_file(self._order[0])
        for layer in self._order[1:]:
            _apply(merged, _from_file(layer))
        merged.sources = list(self._sources)
        return merged

    def _walk(self, f: _File, chain: tuple[tuple[Path | None, str], ...]) -> int:
        """Place ``f``'s ancestors, then ``f``, in the merge order; returns ``f``'s height."""
        if f.display not in self._sources:
            self._sources.append(f.display)
        entries = f.policy.extends
        names = () if entries is None else (entries,) if isinstance(entries, str) else entries
        height = 1
        for i, entry in enumerate(names):
            path = ("extends",) if isinstance(entries, str) else ("extends", i)
            where = f"{f.display}:{f.at(path)}"
            target, display = self._target(entry, f, where, path)
            if any(target == seen for seen, _ in chain):
                names_so_far = [d for _, d in chain]
                start = next(k for k, (seen, _) in enumerate(chain) if seen == target)
                cycle = " -> ".join([*names_so_far[start:], display])
                raise PolicyFileError([f"{where}: {ERR_CYCLE.format(chain=cycle)}"])
            parent_height = self._heights.get(target)
            if parent_height is None:
                if len(chain) + 1 > MAX_EXTENDS_DEPTH:
                    message = ERR_EXTENDS_DEPTH.format(limit=MAX_EXTENDS_DEPTH)
                    raise PolicyFileError([f"{where}: {message}"])
                parent = _parse_file(_read_file(target, display), display, target, target.parent)
                parent_height = self._walk(parent, (*chain, (target, display)))
                self._heights[target] = parent_height
            if len(chain) + parent_height > MAX_EXTENDS_DEPTH:
                message = ERR_EXTENDS_DEPTH.format(limit=MAX_EXTENDS_DEPTH)
                raise PolicyFileError([f"{where}: {message}"])
            height = max(height, parent_height + 1)
        self._order.append(f)
        return height

    def _target(self, entry: str, f: _File, where: str, path: FieldPath) -> tuple[Path, str]:
        def fail(message: str) -> PolicyFileError:
            return PolicyFileError([f"{where}: {_path_text(path)}: {message}"])

        if packs.is_pack_name(entry):
            try:
                target = packs.pack_path(entry)
            except PolicyError as exc:
                raise fail(str(exc)) from None
            return target.resolve(), packs.PACK_PREFIX + entry
        if (
            PurePosixPath(entry).is_absolute()
            or PureWindowsPath(entry).is_absolute()
            or PureWindowsPath(entry).drive
            or entry.startswith("~")
        ):
            raise fail(ERR_EXTENDS_ABSOLUTE.format(entry=entry))
        if not entry.lower().endswith(_YAML_SUFFIXES):
            raise fail(ERR_EXTENDS_SUFFIX.format(entry=entry))
        base = f.base_dir.resolve()
        target = (base / entry).resolve()
        if not target.is_relative_to(base):
            raise fail(ERR_EXTENDS_ESCAPE.format(entry=entry))
        if not target.is_file():
            raise fail(ERR_EXTENDS_MISSING.format(entry=entry, path=_display(target)))
        if f.display.startswith(packs.PACK_PREFIX) and target.parent == packs.packs_dir():
            return target, packs.PACK_PREFIX + target.stem
        return target, _display(target)


def _finish(root: _File, layer: _Layer) -> LoadedPolicy:
    if not layer.requirements:
        where = f"{root.display}:{root.at(('requirements',))}"
        raise PolicyFileError([f"{where}: {ERR_NO_REQUIREMENTS}"])
    policy = Policy(
        name=layer.name,
        version=layer.version,
        description=layer.description,
        extends=None,
        auditors={a: {k: v for k, (v, _) in s.items()} for a, s in layer.auditors.items()},
        requirements=tuple(r for r, _, _ in layer.requirements.values()),
        report=ReportSettings.model_validate(
            {"sections": layer.sections, "statements": tuple(layer.statements.values())}
        ),
    )
    locations: dict[FieldPath, tuple[str, str]] = {
        p: (f.display, position) for p, (f, position) in layer.top.items()
    }
    for auditor, f in layer.auditor_blocks.items():
        locations[("auditors", auditor)] = (f.display, _position(f.marks[("auditors", auditor)]))
    for auditor, settings in layer.auditors.items():
        for key, (_, f) in settings.items():
            prefix: FieldPath = ("auditors", auditor, key)
            locations.update(_subtree(f, prefix, prefix))
    for k, (_, f, j) in enumerate(layer.requirements.values()):
        locations.update(_subtree(f, ("requirements", j), ("requirements", k)))
    canonical = json.dumps(
        policy.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    regimes: dict[str, Regime] = {}
    for _, f, _ in layer.requirements.values():
        own = f.policy
        regimes.setdefault(f.display, Regime(f.display, own.name, own.version, own.description))
    return LoadedPolicy(
        policy=policy,
        sources=tuple(layer.sources),
        sha256=hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
        locations=MappingProxyType(locations),
        requirement_sources=MappingProxyType(
            {rid: f.display for rid, (_, f, _) in layer.requirements.items()}
        ),
        regimes=tuple(regimes.values()),
    )


def _subtree(f: _File, old: FieldPath, new: FieldPath) -> dict[FieldPath, tuple[str, str]]:
    n = len(old)
    return {
        (*new, *p[n:]): (f.display, _position(m))
        for p, m in f.branches.get(old[:2], ())
        if p[:n] == old
    }


# ---------------------------------------------------------------- public API


@dataclass(frozen=True)
class LoadedPolicy:
    """A policy with its ``extends`` applied, and where each of its fields came from."""

    policy: Policy
    """The merged policy (its ``extends`` is ``None``: everything is resolved)."""
    sources: tuple[str, ...]
    """The policy file and every file or pack it extends, outermost first."""
    sha256: str
    """SHA-256 of the merged policy's canonical JSON (sorted keys, no spaces)."""
    locations: Mapping[FieldPath, tuple[str, str]] = field(
        default_factory=dict, repr=False, compare=False
    )
    """File and 1-based ``line:column`` of each field path of the merged policy."""
    requirement_sources: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    """The file or pack that defined each requirement (by id), as :attr:`sources` names it."""
    regimes: tuple[Regime, ...] = field(default=(), repr=False, compare=False)
    """Those files and packs with their own name, version and description, in the order
    of their first requirement."""

    def locate(self, path: FieldPath) -> str:
        """``"file:line:column"`` where ``path`` (or its nearest enclosing field) was defined.

        Examples
        --------
        >>> loaded = load_policy("four-fifths")
        >>> loaded.locate(("requirements", 0, "threshold"))  # doctest: +ELLIPSIS
        'pack:four-fifths:...'
        """
        found = _nearest(self.locations, tuple(path))
        if found is None:
            return f"{self.sources[0]}:1:1" if self.sources else "<policy>:1:1"
        display, position = self.locations[found]
        return f"{display}:{position}"

    def summary(self) -> PolicySummary:
        """Return the policy as reports state it."""
        return PolicySummary(
            name=self.policy.name,
            version=self.policy.version,
            description=self.policy.description,
            sources=self.sources,
            requirements=tuple(
                _requirement_summary(r, self.requirement_sources.get(r.id, ""))
                for r in self.policy.requirements
            ),
            report_sections=tuple(self.policy.report.sections),
            statements=tuple(
                StatementRequest(id=s.id, asks=s.asks, citation=s.citation, sign_off=s.sign_off)
                for s in self.policy.report.statements
            ),
            regimes=self.regimes,
        )


def _requirement_summary(r: Requirement, source: str) -> RequirementSummary:
    group_by = (
        r.group_by if isinstance(r.group_by, str) else " \N{MULTIPLICATION SIGN} ".join(r.group_by)
    )
    return RequirementSummary(
        id=r.id,
        title=r.title,
        citation=r.citation,
        auditor=r.auditor,
        metric=r.metric,
        comparison=r.compare.value,
        threshold=r.threshold,
        severity=r.severity,
        group_by=group_by,
        description=r.description,
        threshold_source=r.threshold_source,
        citation_verified=r.citation_verified,
        citation_checked=r.citation_checked,
        source=source,
    )


def load_policy(
    source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
) -> LoadedPolicy:
    """Load, validate and resolve a policy file or shipped pack, or several together.

    Parameters
    ----------
    source
        A path to a ``.yaml`` file, or the name of a shipped pack
        (see :func:`audit.policy.packs.list_packs`).  An existing file wins over a pack.
        A list of them is merged as a policy with ``extends: [...]`` naming them would
        be (see the module docstring); its name, version and description are theirs,
        joined.

    Returns
    -------
    LoadedPolicy
        The merged policy, its sources, hash and field locations.

    Raises
    ------
    PolicyFileError
        The file cannot be read, is not safe YAML, fails the schema, or its
        ``extends`` cannot be resolved; the message starts with ``file:line:column``.

    Examples
    --------
    >>> loaded = load_policy("four-fifths")
    >>> loaded.policy.requirements[0].threshold
    0.8
    >>> both = load_policy(["nyc-ll144", "illinois-hb3773"])
    >>> [regime.name for regime in both.summary().regimes]
    ['nyc-ll144', 'illinois-hb3773']
    """
    if isinstance(source, str | os.PathLike):
        root = _root_file(source)
        return _finish(root, _Resolver().resolve(root, ((root.path, root.display),)))
    if not source:
        raise PolicyFileError([ERR_NO_POLICY])
    roots = [_root_file(s) for s in source]
    layer = _Resolver().resolve_all(roots)
    if len({f.path for f in roots}) > 1:
        named = list({f.path: f.policy for f in roots}.values())
        layer.name = " + ".join(p.name for p in named)
        layer.version = " + ".join(p.version for p in named)
        layer.description = "Applied together: " + ", ".join(f"{p.name} {p.version}" for p in named)
    return _finish(roots[0], layer)


def _root_file(source: str | os.PathLike[str]) -> _File:
    """Read and validate the policy file or pack ``source`` names (its extends unresolved)."""
    text = os.fspath(source)
    path = Path(text)
    if path.exists() or not packs.is_pack_name(text):
        if not path.exists():
            message = ERR_NOT_FOUND.format(source=text, packs=", ".join(packs.list_packs()))
            raise PolicyFileError([message])
        display = text
        resolved = path.resolve()
    else:
        try:
            resolved = packs.pack_path(text).resolve()
        except PolicyError:
            message = ERR_NOT_FOUND.format(source=text, packs=", ".join(packs.list_packs()))
            raise PolicyFileError([message]) from None
        display = packs.PACK_PREFIX + text
    return _parse_file(_read_file(resolved, display), display, resolved, resolved.parent)


def parse_policy(text: str, *, source: str = "<string>") -> LoadedPolicy:
    """Load a policy from YAML text, e.g. one built in a notebook.

    ``extends`` paths resolve relative to the current directory.

    Parameters
    ----------
    text
        The policy's YAML.
    source
        The name error messages give the text.

    Raises
    ------
    PolicyFileError
        As :func:`load_policy`.
    """
    root = _parse_file(text, source, None, Path.cwd())
    layer = _Resolver().resolve(root, ((None, source),))
    return _finish(root, layer)


def validate_auditor_settings(loaded: LoadedPolicy, auditor_name: str, config_model: type[M]) -> M:
    """Validate the policy's ``auditors.<auditor_name>`` block with the auditor's Config model.

    Parameters
    ----------
    loaded
        The loaded policy.
    auditor_name
        The auditor's name; a policy without its block gets the model's defaults.
    config_model
        The auditor's pydantic settings model.

    Returns
    -------
    BaseModel
        An instance of ``config_model``.

    Raises
    ------
    PolicyFileError
        A setting is unknown or invalid; the message names the file and line
        that set it, e.g. ``policy.yaml:7:5: auditors.fairness.min_group_size: ...``.

    Notes
    -----
    Settings are validated strictly, as the requirements' fields are: a quoted
    ``min_group_size: "30"`` or ``intersectional: "yes"`` is refused ("expected a whole
    number, got '30'") rather than read as 30 or true, because a policy whose settings
    are strings is not the policy its author checked.  Strict as JSON is: a list is
    read as a tuple and a name as an enum member, as YAML cannot write either.
    """
    settings = loaded.policy.auditors.get(auditor_name, {})
    # default=str: a YAML date (2026-01-01) read where a text setting is expected; .nan and
    # .inf travel as NaN and Infinity, which the settings' own bounds then judge
    as_json = json.dumps(settings, default=str)
    try:
        return config_model.model_validate_json(as_json, strict=True)
    except ValidationError as exc:
        prefix: FieldPath = ("auditors", auditor_name)

        def where(loc: FieldPath) -> tuple[str, _Mark | None]:
            return loaded.locate(loc), None

        raise PolicyFileError(_translate(exc, config_model, prefix, where)) from None
