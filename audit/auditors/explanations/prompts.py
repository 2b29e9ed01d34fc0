"""An LLM decision-maker's prompt fields as the columns explained, and what "absent" means.

A chat model (:class:`~audit.adapters.http.chat_adapter.ChatDecisionAdapter`) reads a
row only through its prompt template, so the features attributed are the template's
fields (:attr:`~audit.adapters.http.chat_decision.PromptTemplate.fields`), not every
column of the data.  Ablating a field renders the prompt with a neutral text in its
place: :data:`NEUTRAL_TEXT` (``"not stated"``) for every field, numbers included (in
a prompt every value is text), unless the policy's ``baseline_values`` say otherwise
for that field (``{"age": 40}`` compares with a 40-year-old instead), or ``baseline:
reference`` gives the field in its ``reference`` row.

A template that reads the row other than by name (a loop over ``row``) may read
columns its field list does not show; that is found by rendering the first row with
its fields only and with every column, and then every input column is explained.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import pandas as pd

from audit.adapters.http.chat_decision import PromptTemplate
from audit.adapters.http.templating import row_values
from audit.core.protocols import ModelAdapter
from audit.errors import AuditError

__all__ = [
    "NEUTRAL_TEXT",
    "PROMPT_LIMITATION",
    "baseline_overrides",
    "explained_columns",
    "prompt_template",
]

NEUTRAL_TEXT = "not stated"
"""What an ablated prompt field reads, unless ``baseline_values`` names the field."""

PROMPT_LIMITATION = (
    "An ablated prompt field is rendered with a neutral text in its place; a language model "
    "may read that text as information of its own (an applicant who does not state a field), "
    "so an attribution measures the change from the field's value to that text, as set by "
    "baseline_values."
)
"""Added to the auditor's limitations when the model decides from prompts."""


def prompt_template(model: ModelAdapter) -> PromptTemplate | None:
    """The model's prompt template when it is an LLM deciding from prompts, else ``None``."""
    template = getattr(model, "template", None)
    return template if isinstance(template, PromptTemplate) else None


def _reads_only_fields(template: PromptTemplate, row: pd.DataFrame, fields: Sequence[str]) -> bool:
    """Whether the template renders ``row`` the same from its fields alone."""
    try:
        (full,) = row_values(row)
        (own,) = row_values(row.loc[:, list(fields)])
        return template.render(full) == template.render(own)
    except AuditError:
        return False


def explained_columns(model: ModelAdapter, data: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    """The columns to attribute: a chat model's prompt fields, else ``columns``.

    Parameters
    ----------
    model:
        The adapter.
    data:
        The audited rows.
    columns:
        The columns the model is given (its ``input_columns``, else the features).

    Examples
    --------
    >>> from audit.adapters.callable import CallableAdapter
    >>> explained_columns(CallableAdapter(lambda rows: rows["a"]), pd.DataFrame({"a": [1]}), ["a"])
    ['a']
    """
    template = prompt_template(model)
    cols = [str(c) for c in columns]
    if template is None or getattr(model, "input_columns", None):
        # an adapter that selects its own input columns is given all of them
        return cols
    fields = [f for f in template.fields if f in cols]
    if not fields or len(data) == 0:
        return cols
    return fields if _reads_only_fields(template, data.iloc[:1][cols], fields) else cols


def baseline_overrides(
    model: ModelAdapter,
    columns: Sequence[str],
    baseline_values: Mapping[str, Any] | None,
    *,
    reference: Collection[str] = (),
) -> dict[str, tuple[Any, str]]:
    """Per column, the baseline value that replaces the median, mean or reference, and why.

    ``baseline_values`` wins; a chat model's prompt fields otherwise read
    :data:`NEUTRAL_TEXT`, except those the ``reference`` row names.  Columns not returned
    keep the ``baseline`` setting.
    """
    given = dict(baseline_values or {})
    out: dict[str, tuple[Any, str]] = {}
    template = prompt_template(model)
    fields = set(template.fields) - set(reference) if template is not None else set()
    for column in columns:
        if column in given:
            out[column] = (given[column], "baseline_values")
        elif column in fields:
            out[column] = (NEUTRAL_TEXT, "neutral text of an absent prompt field")
    return out
