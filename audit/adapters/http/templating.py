"""Sandboxed Jinja2 templates for request bodies and prompts, rendered from table rows.

Templates come from a user's model config file, so they are compiled in Jinja2's
:class:`~jinja2.sandbox.ImmutableSandboxedEnvironment`: no attribute of a Python
object that starts with ``_``, no method that mutates a list or dict, no import.
Undefined names are errors (``StrictUndefined``), so a misspelt column fails
loudly instead of rendering as empty text.

Values
    A row is given to a template as JSON values (:func:`row_values`): numbers,
    text, booleans, and ``None`` for a missing cell.  ``{{ value }}`` renders
    ``None`` as empty text; ``{{ value | tojson }}`` writes JSON (``null``), without
    the HTML escaping of Jinja2's own ``tojson``.

>>> template = compile_template('{"x": {{ row.age | tojson }}}', what="body")
>>> render_json(template, {"row": {"age": 39}}, what="body")
{'x': 39}
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import jinja2
import pandas as pd
from jinja2 import meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from audit.adapters.http._values import json_scalar
from audit.errors import DataError, ModelSpecError

__all__ = [
    "compile_template",
    "render_json",
    "render_text",
    "row_values",
    "sha256_text",
    "template_names",
]


def _tojson(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def _finalize(value: Any) -> Any:
    return "" if value is None else value


def _environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        finalize=_finalize,
    )
    env.filters["tojson"] = _tojson
    env.policies["json.dumps_function"] = _tojson
    return env


_ENV = _environment()


def sha256_text(text: str) -> str:
    """SHA-256 (hex) of ``text`` as UTF-8, as recorded for templates in provenance.

    >>> sha256_text("")[:12]
    'e3b0c44298fc'
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def template_names(text: str, *, mapping: str = "row") -> set[str]:
    """The names a template reads: its free variables, and the keys it reads from ``mapping``.

    >>> sorted(template_names('{{ age }} {% if sex %}{{ row.name }}{{ row["e-n"] }}{% endif %}'))
    ['age', 'e-n', 'name', 'row', 'sex']
    """
    tree = _ENV.parse(text)
    names = set(meta.find_undeclared_variables(tree))
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        inner = getattr(node, "node", None)
        if not isinstance(inner, nodes.Name) or inner.name != mapping:
            continue
        if isinstance(node, nodes.Getattr):
            names.add(node.attr)
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            names.update([node.arg.value] if isinstance(node.arg.value, str) else [])
    return names


def compile_template(text: str, *, what: str) -> jinja2.Template:
    """Compile ``text`` in the sandbox.

    Raises
    ------
    ModelSpecError
        If the template's syntax is wrong; the message names ``what`` and the line.
    """
    try:
        return _ENV.from_string(text)
    except jinja2.TemplateSyntaxError as exc:
        raise ModelSpecError(
            f"{what}: template line {exc.lineno}: {exc.message or 'syntax error'}"
        ) from None


def render_text(template: jinja2.Template, context: Mapping[str, Any], *, what: str) -> str:
    """Render ``template`` with ``context``.

    Raises
    ------
    DataError
        If the template names something the row lacks, or tries what the sandbox forbids.
    """
    try:
        return template.render(dict(context))
    except jinja2.UndefinedError as exc:
        known = ", ".join(sorted(context)[:20])
        raise DataError(
            f"{what}: the template uses an undefined name ({exc.message}); names are: {known}"
        ) from None
    except SecurityError as exc:
        raise DataError(f"{what}: the template tried an unsafe operation: {exc}") from None
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise DataError(f"{what}: the template failed: {type(exc).__name__}: {exc}") from None


def render_json(template: jinja2.Template, context: Mapping[str, Any], *, what: str) -> Any:
    """Render ``template`` and parse the text as JSON.

    Raises
    ------
    DataError
        If rendering fails, or the text is not JSON (the message gives the position,
        never the text: it holds the row's values).
    """
    text = render_text(template, context, what=what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{what}: the rendered template is not JSON ({exc.msg} at line {exc.lineno} "
            f"column {exc.colno}); write values with '| tojson'"
        ) from None


def row_values(rows: pd.DataFrame) -> list[dict[str, Any]]:
    """Each row as a dict of column name to JSON value (``None`` when missing).

    Raises
    ------
    DataError
        If a value cannot be carried as JSON.
    """
    columns = [str(c) for c in rows.columns]
    table = [
        [json_scalar(value, column=str(name)) for value in rows[name].astype(object).tolist()]
        for name in rows.columns
    ]
    return [dict(zip(columns, values, strict=True)) for values in zip(*table, strict=True)]
