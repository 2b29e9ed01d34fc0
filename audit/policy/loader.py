"""Loading policy files: safe YAML with line numbers, ``extends:`` and exact error messages.

Every problem becomes a :class:`PolicyFileError` whose message reads like
``policies/x.yaml:12:5: requirements[2].threshold: expected a number, got 'high'``
(1-based lines and columns, as compilers write them so that editors and CI annotations
jump to the place; the column is where the field's key, or the list item, starts;
list indices 0-based).  YAML is parsed with PyYAML's safe loader
only; aliases, custom tags, duplicate keys, deep nesting, files over 1 MiB and
non-UTF-8 text are refused.

``extends:`` names shipped packs (``four-fifths``) or relative paths to ``.yaml``
files inside the extending file's folder; a list is applied left to right.  A
child's requirement replaces a parent's with the same id, others are appended;
auditor settings merge per setting (child wins); name, version and description
are the child's.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import os
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from types import MappingProxyType
from typing import Any, NamedTuple, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from audit.core.result import PolicySummary, RequirementSummary
from audit.errors import PolicyError
from audit.policy import packs
from audit.policy.schema import Policy, ReportSettings, Requirement, _show

__all__ = [
    "FieldPath",
    "LoadedPolicy",
    "PolicyFileError",
    "load_policy",
    "parse_policy",
    "validate_auditor_settings",
]

FieldPath = tuple[str | int, ...]
"""A field's place in a policy, e.g. ``("requirements", 2, "threshold")``."""

M = TypeVar("M", bound=BaseModel)

MAX_FILE_BYTES = 1024 * 1024
"""Policy files larger than this are refused."""
MAX_NESTING = 20
"""Deeper YAML nesting is refused (policies are a few levels deep)."""
MAX_EXTENDS_DEPTH = 16
"""Longest chain of ``extends:``."""

ERR_NOT_FOUND = (
    "policy {source!r} not found: no such file, and no shipped pack of that name; "
    "packs are: {packs}"
)
ERR_NOT_A_FILE = "{display}: not a file"
ERR_UNREADABLE = "{display}: cannot be read: {reason}"
ERR_TOO_LARGE = "{display}: the file is larger than 1 MiB; a policy is a few kilobytes"
ERR_NOT_UTF8 = (
    "{display}:{line}:{column}: the file is not UTF-8 text (byte 0x{byte:02x}); save it as UTF-8"
)
ERR_EMPTY = "{display}:1:1: the file is empty; a policy needs name, version and requirements"
ERR_NOT_MAPPING = (
    "{display}:{line}:{column}: a policy must be a mapping of fields "
    "(name, version, requirements, ...), got {got}"
)
ERR_INVALID_YAML = "{display}:{line}:{column}: invalid YAML: {problem}"
ERR_ALIAS = "aliases (*{anchor}) are not allowed in policy files; write the value out"
ERR_NESTING = "nesting deeper than {limit} levels"
ERR_TAG = "YAML tag {tag!r} is not allowed in policy files"
ERR_MERGE_KEY = "merge keys ('<<') are not allowed in policy files"
ERR_KEY_NOT_SCALAR = "mapping keys must be plain text"
ERR_DUPLICATE_KEY = "duplicate key {key!r} (first on line {first})"
ERR_BAD_SCALAR = "cannot read {raw!r} as {kind}"
ERR_UNKNOWN_FIELD = "unknown field {key!r}"
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

_YAML_SUFFIXES = (".yaml", ".yml")
_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(_TAG + t for t in ("str", "int", "float", "bool", "null"))


class PolicyFileError(PolicyError):
    """A policy file is wrong; the message is the first problem, ``errors`` lists them all."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors: tuple[str, ...] = tuple(errors)
        """Every problem found, each a ``file:line:column: field: message`` line."""
        super().__init__(self.errors[0])


class _Mark(NamedTuple):
    line: int
    column: int
    raw: str | None
    """The scalar's text as written, when the value is a scalar."""


class _Refusal(Exception):
    """Raised inside parsing; turned into a PolicyFileError with the file's name."""

    def __init__(self, mark: Any, message: str) -> None:
        """``mark``: a PyYAML mark (0-based ``line`` and ``column``)."""
        super().__init__(message)
        self.line = int(mark.line) + 1
        self.column = int(mark.column) + 1
        self.message = message


# ---------------------------------------------------------------- YAML


class _Loader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML ships no type hints
    """PyYAML's safe loader, refusing aliases and deep nesting while composing."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise _Refusal(event.start_mark, ERR_ALIAS.format(anchor=event.anchor))
        self._depth += 1
        try:
            if self._depth > MAX_NESTING:
                raise _Refusal(event.start_mark, ERR_NESTING.format(limit=MAX_NESTING))
            return typing.cast(Node, super().compose_node(parent, index))
        finally:
            self._depth -= 1


def _path_text(path: FieldPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _Builder:
    """Builds plain data from a composed node tree, recording a mark per field path."""

    def __init__(self, loader: _Loader) -> None:
        self.loader = loader
        self.marks: dict[FieldPath, _Mark] = {}

    def build(self, node: Node, path: FieldPath) -> Any:
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            if node.tag != _TAG + "seq":
                raise _Refusal(node.start_mark, ERR_TAG.format(tag=_short_tag(node.tag)))
            items = []
            for i, item in enumerate(node.value):
                self.marks[(*path, i)] = _mark(item)
                items.append(self.build(item, (*path, i)))
            return items
        return self._scalar(node)

    def _mapping(self, node: MappingNode, path: FieldPath) -> dict[str, Any]:
        if node.tag != _TAG + "map":
            raise _Refusal(node.start_mark, ERR_TAG.format(tag=_short_tag(node.tag)))
        out: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, ScalarNode):
                raise _Refusal(key_node.start_mark, ERR_KEY_NOT_SCALAR)
            if key_node.tag == _TAG + "merge":
                raise _Refusal(key_node.start_mark, ERR_MERGE_KEY)
            key = str(key_node.value)
            if key in first_line:
                message = ERR_DUPLICATE_KEY.format(key=key, first=first_line[key])
                raise _Refusal(key_node.start_mark, _path_text((*path, key)) + ": " + message)
            first_line[key] = line
            raw = value_node.value if isinstance(value_node, ScalarNode) else None
            self.marks[(*path, key)] = _Mark(line, key_node.start_mark.column + 1, raw)
            out[key] = self.build(value_node, (*path, key))
        return out

    def _scalar(self, node: Node) -> Any:
        if node.tag == _TAG + "timestamp":
            return str(node.value)  # dates stay text: version: 2024-01-01
        if node.tag not in _SCALAR_TAGS:
            raise _Refusal(node.start_mark, ERR_TAG.format(tag=_short_tag(node.tag)))
        construct = self.loader.yaml_constructors[node.tag]
        try:
            return construct(self.loader, node)
        except (ValueError, OverflowError, yaml.YAMLError):
            raw = str(node.value)
            raw = raw if len(raw) <= 40 else raw[:37] + "..."
            kind = str(node.tag).removeprefix(_TAG)
            raise _Refusal(node.start_mark, ERR_BAD_SCALAR.format(raw=raw, kind=kind)) from None


def _position(mark: _Mark) -> str:
    return f"{mark.line}:{mark.column}"


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag


def _mark(node: Node) -> _Mark:
    raw = node.value if isinstance(node, ScalarNode) else None
    return _Mark(node.start_mark.line + 1, node.start_mark.column + 1, raw)


def _decode(data: bytes, display: str) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise PolicyFileError([ERR_TOO_LARGE.format(display=display)])
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        message = ERR_NOT_UTF8.format(
            display=display, line=line, column=column, byte=data[exc.start]
        )
        raise PolicyFileError([message]) from None


def _parse_yaml(text: str, display: str) -> tuple[dict[str, Any], dict[FieldPath, _Mark]]:
    """Parse ``text`` safely into a mapping and the marks of its fields."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise PolicyFileError([ERR_TOO_LARGE.format(display=display)])
    loader: _Loader | None = None
    try:
        loader = _Loader(text)
        root = loader.get_single_node()
        if root is None:
            raise PolicyFileError([ERR_EMPTY.format(display=display)])
        builder = _Builder(loader)
        builder.marks[()] = _mark(root)
        data = builder.build(root, ())
    except _Refusal as exc:
        raise PolicyFileError([f"{display}:{exc.line}:{exc.column}: {exc.message}"]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        column = mark.column + 1 if mark is not None else 1
        problem = exc.problem or exc.context or "cannot be parsed"
        if exc.context and exc.problem and exc.problem.startswith("but "):
            problem = f"{exc.context}, {exc.problem}"
        raise PolicyFileError(
            [ERR_INVALID_YAML.format(display=display, line=line, column=column, problem=problem)]
        ) from None
    except yaml.YAMLError as exc:  # ReaderError: a character YAML does not allow
        position = getattr(exc, "position", 0)
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        reason = getattr(exc, "reason", "cannot be read")
        character = getattr(exc, "character", None)
        if isinstance(character, int):
            reason = f"character U+{character:04X} is not allowed"
        raise PolicyFileError(
            [ERR_INVALID_YAML.format(display=display, line=line, column=column, problem=reason)]
        ) from None
    finally:
        if loader is not None:
            loader.dispose()
    if data is None:  # "---" alone, or "~"
        raise PolicyFileError([ERR_EMPTY.format(display=display)])
    if not isinstance(data, dict):
        root_mark = builder.marks[()]
        message = ERR_NOT_MAPPING.format(
            display=display, line=root_mark.line, column=root_mark.column, got=_show(data)
        )
        raise PolicyFileError([message])
    return data, builder.marks


# ---------------------------------------------------------------- pydantic errors


def _fields_at(model: type[BaseModel], loc: FieldPath) -> tuple[str, ...]:
    """Return the field names of the model at ``loc`` inside ``model`` (empty if none)."""
    current: type[BaseModel] = model
    i = 0
    while i < len(loc):
        part = loc[i]
        info = current.model_fields.get(part) if isinstance(part, str) else None
        if info is None:
            return ()
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            current, i = annotation, i + 1
            continue
        inner = [
            a
            for a in typing.get_args(annotation)
            if isinstance(a, type) and issubclass(a, BaseModel)
        ]
        if not inner:
            return ()
        current, i = inner[0], i + 2
    return tuple(current.model_fields)


def _got(error: Mapping[str, Any], mark: _Mark | None) -> str:
    value = error.get("input")
    if (
        not isinstance(value, str | dict | list | tuple)
        and mark is not None
        and mark.raw is not None
    ):
        return mark.raw
    return _show(value)


_EXPECTED = {
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "string_type": "a string",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
    "tuple_type": "a list",
}


def _describe(
    error: Mapping[str, Any], loc: FieldPath, mark: _Mark | None, fields: tuple[str, ...]
) -> str:
    kind = error["type"]
    if kind == "missing":
        return "field required"
    if kind == "extra_forbidden":
        key = str(loc[-1])
        message = ERR_UNKNOWN_FIELD.format(key=key)
        close = difflib.get_close_matches(key, fields, n=1, cutoff=0.6)
        if close:
            return f"{message} (did you mean {close[0]!r}?)"
        return f"{message}; known fields: {', '.join(fields)}" if fields else message
    got = _got(error, mark)
    if kind in _EXPECTED:
        message = f"expected {_EXPECTED[kind]}, got {got}"
        if kind == "string_type" and loc and loc[-1] == "version" and mark and mark.raw:
            message += f' (quote it: version: "{mark.raw}")'
        return message
    if kind in ("enum", "literal_error"):
        return f"expected {error['ctx']['expected']}, got {got}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_pattern_mismatch":
        return f"expected lowercase letters, digits, '-' and '_', got {got}"
    text = str(error["msg"])
    if kind == "value_error":
        return text.removeprefix("Value error, ")
    if text.startswith("Input should be"):
        return "must be" + text.removeprefix("Input should be") + f", got {got}"
    return text


def _error_loc(error: Mapping[str, Any], prefix: FieldPath) -> FieldPath:
    loc: FieldPath = (*prefix, *(p for p in error["loc"] if isinstance(p, str | int)))
    ctx = error.get("ctx") or {}
    if error["type"] == "duplicate_id":
        loc = (*loc, int(ctx["index"]), "id")
    elif error["type"] == "threshold":
        loc = (*loc, "threshold")
    return loc


def _nearest(marks: Mapping[FieldPath, Any], path: FieldPath) -> FieldPath | None:
    for end in range(len(path), -1, -1):
        if path[:end] in marks:
            return path[:end]
    return None


def _translate(
    exc: ValidationError,
    model: type[BaseModel],
    prefix: FieldPath,
    where: Callable[[FieldPath], tuple[str, _Mark | None]],
) -> list[str]:
    """One ``file:line:column: field: message`` per pydantic error."""
    out = []
    for error in exc.errors():
        loc = _error_loc(error, prefix)
        location, mark = where(loc)
        fields = _fields_at(model, loc[len(prefix) : -1])
        message = _describe(error, loc, mark, fields)
        out.append(f"{location}: {_path_text(loc)}: {message}" if loc else f"{location}: {message}")
    return out


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


def _read_file(path: Path, display: str) -> str:
    if not path.is_file():
        raise PolicyFileError([ERR_NOT_A_FILE.format(display=display)])
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise PolicyFileError(
            [ERR_UNREADABLE.format(display=display, reason=exc.strerror)]
        ) from None
    return _decode(data, display)


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
    top: dict[FieldPath, tuple[_File, str]]
    sources: list[str]
    height: int


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
        top={p: (f, _position(m)) for p, m in f.marks.items() if len(p) <= 1},
        sources=[f.display],
        height=1,
    )


def _apply(base: _Layer, over: _Layer) -> None:
    """Apply ``over`` on ``base`` in place: ``over`` wins."""
    base.name, base.version, base.description = over.name, over.version, over.description
    base.requirements.update(over.requirements)
    for auditor, settings in over.auditors.items():
        base.auditors.setdefault(auditor, {}).update(settings)
    base.auditor_blocks.update(over.auditor_blocks)
    base.sections.extend(s for s in over.sections if s not in base.sections)
    base.top.update(over.top)
    base.sources.extend([s for s in over.sources if s not in base.sources])
    base.height = max(base.height, over.height)


class _Resolver:
    """Loads files and packs, following extends with cycle and depth checks."""

    def __init__(self) -> None:
        self._done: dict[Path, _Layer] = {}

    def resolve(self, f: _File, chain: tuple[tuple[Path | None, str], ...]) -> _Layer:
        entries = f.policy.extends
        if entries is None:
            return _from_file(f)
        names = (entries,) if isinstance(entries, str) else entries
        merged: _Layer | None = None
        for i, entry in enumerate(names):
            path = ("extends",) if isinstance(entries, str) else ("extends", i)
            where = f"{f.display}:{f.at(path)}"
            target, display = self._target(entry, f, where, path)
            if any(target == seen for seen, _ in chain):
                names_so_far = [d for _, d in chain]
                start = next(k for k, (seen, _) in enumerate(chain) if seen == target)
                cycle = " -> ".join([*names_so_far[start:], display])
                raise PolicyFileError([f"{where}: {ERR_CYCLE.format(chain=cycle)}"])
            layer = self._done.get(target)
            if layer is None:
                if len(chain) + 1 > MAX_EXTENDS_DEPTH:
                    message = ERR_EXTENDS_DEPTH.format(limit=MAX_EXTENDS_DEPTH)
                    raise PolicyFileError([f"{where}: {message}"])
                parent = _parse_file(_read_file(target, display), display, target, target.parent)
                layer = self.resolve(parent, (*chain, (target, display)))
                self._done[target] = layer
            if len(chain) + layer.height > MAX_EXTENDS_DEPTH:
                message = ERR_EXTENDS_DEPTH.format(limit=MAX_EXTENDS_DEPTH)
                raise PolicyFileError([f"{where}: {message}"])
            if merged is None:
                merged = _copy(layer)
            else:
                _apply(merged, layer)
        if merged is None:  # extends is never an empty list
            return _from_file(f)
        own = _from_file(f)
        own.height = merged.height + 1
        sources = [f.display, *(s for s in merged.sources if s != f.display)]
        _apply(merged, own)
        merged.sources = sources
        return merged

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


def _copy(layer: _Layer) -> _Layer:
    return _Layer(
        name=layer.name,
        version=layer.version,
        description=layer.description,
        requirements=dict(layer.requirements),
        auditors={a: dict(s) for a, s in layer.auditors.items()},
        auditor_blocks=dict(layer.auditor_blocks),
        sections=list(layer.sections),
        top=dict(layer.top),
        sources=list(layer.sources),
        height=layer.height,
    )


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
        report=ReportSettings.model_validate({"sections": layer.sections}),
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
    return LoadedPolicy(
        policy=policy,
        sources=tuple(layer.sources),
        sha256=hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
        locations=MappingProxyType(locations),
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
            requirements=tuple(_requirement_summary(r) for r in self.policy.requirements),
            report_sections=tuple(self.policy.report.sections),
        )


def _requirement_summary(r: Requirement) -> RequirementSummary:
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
    )


def load_policy(source: str | os.PathLike[str]) -> LoadedPolicy:
    """Load, validate and resolve a policy file or shipped pack.

    Parameters
    ----------
    source
        A path to a ``.yaml`` file, or the name of a shipped pack
        (see :func:`audit.policy.packs.list_packs`).  An existing file wins over a pack.

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
    """
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
    root = _parse_file(_read_file(resolved, display), display, resolved, resolved.parent)
    layer = _Resolver().resolve(root, ((resolved, display),))
    return _finish(root, layer)


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
    """
    settings = loaded.policy.auditors.get(auditor_name, {})
    try:
        return config_model.model_validate(settings)
    except ValidationError as exc:
        prefix: FieldPath = ("auditors", auditor_name)

        def where(loc: FieldPath) -> tuple[str, _Mark | None]:
            return loaded.locate(loc), None

        raise PolicyFileError(_translate(exc, config_model, prefix, where)) from None
