"""MkDocs hooks: reference pages generated from the code, so they cannot drift from it.

A page holding the marker ``<!-- generated: policy-fields -->`` gets the policy schema's
fields; ``<!-- generated: auditors -->`` gets every installed auditor's metrics and settings.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

POLICY_MARKER = "<!-- generated: policy-fields -->"
AUDITORS_MARKER = "<!-- generated: auditors -->"


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _fields(model: type[BaseModel]) -> list[str]:
    rows = ["| field | type | default | meaning |", "|---|---|---|---|"]
    for name, info in model.model_fields.items():
        annotation = getattr(info.annotation, "__name__", None) or str(info.annotation)
        annotation = annotation.replace("typing.", "").replace(" | ", " or ")
        default = (
            "required" if info.is_required() else repr(info.get_default(call_default_factory=True))
        )
        rows.append(
            f"| `{name}` | `{_cell(annotation)}` | `{_cell(default)}` | "
            f"{_cell(info.description or '')} |"
        )
    return rows


def _policy_fields() -> str:
    from audit.policy.schema import Policy, Requirement

    lines = [
        "### Top level",
        "",
        *_fields(Policy),
        "",
        "### Each requirement",
        "",
        *_fields(Requirement),
    ]
    return "\n".join(lines)


def _auditors() -> str:
    from audit.plugins import discover_auditors, get_auditor

    lines: list[str] = []
    for plugin in discover_auditors():
        name = plugin.name
        auditor = get_auditor(name)
        doc = (type(auditor).__doc__ or "").strip().splitlines()[0]
        lines += [f"## `{name}`", "", doc, "", "| metric | meaning |", "|---|---|"]
        lines += [f"| `{m}` | {_cell(d)} |" for m, d in sorted(auditor.metrics().items())]
        lines += [
            "",
            f"Settings (`auditors.{name}` in a policy):",
            "",
            *_fields(auditor.Config),
            "",
        ]
    return "\n".join(lines)


def on_page_markdown(markdown: str, **_: Any) -> str:
    """Replace the markers with the generated reference."""
    if POLICY_MARKER in markdown:
        markdown = markdown.replace(POLICY_MARKER, _policy_fields())
    if AUDITORS_MARKER in markdown:
        markdown = markdown.replace(AUDITORS_MARKER, _auditors())
    return markdown
