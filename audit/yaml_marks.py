"""Safe YAML with a line mark per field, and pydantic errors as ``file:line:column`` messages.

The reader that policy files use (:mod:`audit.policy.loader`) and model config files use
(:mod:`audit.adapters.config.loader`).  YAML is parsed with PyYAML's safe loader only;
aliases, custom tags, merge keys, duplicate keys, deep nesting, files over 1 MiB and
non-UTF-8 text are refused, each with the file, line and column.  Every field's position
is kept (:class:`_Mark`, keyed by its :data:`FieldPath`), so that a pydantic validation
error can be told where it is (:func:`_translate`):
``policies/x.yaml:12:5: requirements[2].threshold: expected a number, got 'high'``.
Lines and columns are 1-based, as compilers write them; list indices 0-based.

It sits below both users in the package's layers, and raises
:class:`PolicyFileError` (a :class:`~audit.errors.PolicyError`, exit code 2), which
:mod:`audit.policy` re-exports.
"""

from __future__ import annotations

import difflib
import re
import typing
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from pydantic import BaseModel, ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from audit.errors import PolicyError

__all__ = ["MAX_FILE_BYTES", "MAX_NESTING", "FieldPath", "PolicyFileError", "show"]

FieldPath = tuple[str | int, ...]
"""A field's place in a policy, e.g. ``("requirements", 2, "threshold")``."""

MAX_FILE_BYTES = 1024 * 1024
"""Policy files larger than this are refused."""
MAX_NESTING = 20
"""Deeper YAML nesting is refused (policies are a few levels deep)."""

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


# YAML 1.2's floats: PyYAML resolves YAML 1.1's, which need a dot, so ``alpha: 1e-3``
# would be the text "1e-3" and a policy's number would be refused as not a number
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


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
            display=display, line=root_mark.line, column=root_mark.column, got=show(data)
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
    return show(value)


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


def show(value: Any) -> str:
    """A YAML value as error messages quote it: short, and ``null``/``true`` as YAML writes them."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
