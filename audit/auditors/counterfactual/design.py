"""The paired design: every base row once per assigned group, changing only the cues.

Rows are laid out group by group: rows ``g * n .. (g + 1) * n - 1`` of the frame hold the
``n`` base rows with group ``g`` assigned, so the model's decisions reshape to an
``n × k`` matrix whose row ``i`` is one base row under every group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import yaml

from audit.errors import DataError

__all__ = ["NAME_LISTS", "PairedDesign", "build_design", "name_cues", "resolve_groups"]

MAX_DEFAULT_GROUPS = 10


@lru_cache(maxsize=1)
def _name_lists() -> dict[str, dict[str, tuple[str, ...]]]:
    text = resources.files(__package__).joinpath("names.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    return {name: {g: tuple(v) for g, v in groups.items()} for name, groups in raw.items()}


NAME_LISTS: tuple[str, ...] = tuple(_name_lists())
"""The shipped name lists (see ``names.yaml`` for their published sources)."""


def name_cues(list_name: str) -> dict[str, tuple[str, ...]]:
    """The first names of shipped list ``list_name`` per group.

    Raises
    ------
    KeyError
        When no list has that name.
    """
    return dict(_name_lists()[list_name])


@dataclass(frozen=True)
class PairedDesign:
    """Base rows and their copies, one per assigned group."""

    attribute: str
    groups: tuple[str, ...]
    """Assigned groups as they read in the report; the first is the reference."""
    base_rows: np.ndarray
    """Positions (in the audited data) of the sampled base rows."""
    frame: pd.DataFrame
    """``len(groups) * len(base_rows)`` rows, group by group."""
    cue_values: Mapping[str, tuple[tuple[str, ...], ...]]
    """Per cue column, per group, the value each base row was given."""


def resolve_groups(
    values: pd.Series, wanted: Sequence[str], *, observed_only: bool = False
) -> list[tuple[str, Any]]:
    """The groups to assign, each as ``(label, value written into the column)``.

    ``wanted`` empty: the column's observed values, most frequent first, at most
    :data:`MAX_DEFAULT_GROUPS`.  A wanted label is written as the observed value whose text
    equals it (so ``"1"`` becomes the integer 1 in an integer column), else as the text.

    ``observed_only`` refuses a wanted label that no value has (the auditor writes the
    group into the column itself): ``female`` for ``Female`` would be a new value the model
    may not read as that group, and the audit would compare something else than the groups
    it names, possibly finding no flips.

    Raises
    ------
    DataError
        With ``observed_only``, when a wanted label is not among the column's values.
    """
    observed = values.dropna().value_counts(sort=True)
    by_text = {str(v): v for v in observed.index}
    if not wanted:
        return [(str(v), v) for v in list(observed.index)[:MAX_DEFAULT_GROUPS]]
    absent = [label for label in wanted if label not in by_text]
    if observed_only and absent:
        shown = ", ".join(list(by_text)[:10]) + (", ..." if len(by_text) > 10 else "")
        raise DataError(
            f"group(s) {', '.join(map(repr, absent))} of {values.name!r} are not in the data "
            f"(its values: {shown or 'none'}); to assign a value the data lacks, set "
            "set_attribute: false and give it in cues"
        )
    return [(label, by_text.get(label, label)) for label in wanted]


def build_design(
    data: pd.DataFrame,
    *,
    attribute: str,
    groups: Sequence[tuple[str, Any]],
    cues: Mapping[str, Mapping[str, Sequence[str]]],
    set_attribute: bool,
    n_rows: int,
    seed: int,
) -> PairedDesign:
    """Sample ``n_rows`` base rows and copy each once per group with that group's cues."""
    rng = np.random.default_rng(seed)
    n = min(n_rows, len(data))
    base = np.sort(rng.choice(len(data), size=n, replace=False))
    rows = data.iloc[base].reset_index(drop=True)
    labels = tuple(label for label, _ in groups)
    copies = []
    cue_values: dict[str, list[tuple[str, ...]]] = {column: [] for column in cues}
    position = np.arange(n)
    for label, value in groups:
        copy = rows.copy()
        if set_attribute:
            copy[attribute] = pd.Series([value] * n, dtype=object)
        for column, per_group in cues.items():
            options = tuple(per_group[label])
            chosen = tuple(options[i % len(options)] for i in position)
            copy[column] = pd.Series(chosen, dtype=object)
            cue_values[column].append(chosen)
        copies.append(copy)
    frame = pd.concat(copies, ignore_index=True)
    return PairedDesign(
        attribute=attribute,
        groups=labels,
        base_rows=base,
        frame=frame,
        cue_values={column: tuple(values) for column, values in cue_values.items()},
    )
