"""The row every benchmark module returns to ``run.py``, and how the runner prints rows.

A benchmark module ``benchmarks/NAME.py`` plugs into the runner by exposing

    def benchmark(quick: bool) -> list[Row]

(extra keyword parameters are filled from runner options of the same name, e.g. the
fairness module's ``sizes``).  A module may return plain dicts with the same keys
instead of :class:`Row`.  A module that cannot be imported by the runner may instead
accept ``--json PATH`` (and ``--quick``) on its command line and write such a list
there; the runner then runs it as a subprocess.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class Row:
    """One measurement, side by side with its anchor, in the same run.

    Attributes
    ----------
    benchmark:
        What is measured, with its size (e.g. ``"fairness audit, str columns, 1e7 rows"``).
    ours:
        maas-audit's figure, in ``unit``.
    unit:
        ``"s"`` (lower is better) or a rate such as ``"rows/s"`` (higher is better), or
        any other unit the notes explain (e.g. ``"GB"``).
    anchor:
        What ``ours`` is compared with (a library, a plain loop, the floor); empty if none.
    anchor_value:
        The anchor's figure, in the same unit.
    ratio:
        How many times better ours is than the anchor (anchor time / our time, or our
        rate / the anchor's): above 1, ours is better.
    target:
        The target this row checks, in words (e.g. ``">= 200x"``); empty if none.
    met:
        Whether the target is met; ``None`` when the row checks none.
    notes:
        Anything needed to read the row (agreement checks, repeats, skipped parts).
    module:
        The benchmark module that produced the row (set by the runner).
    """

    benchmark: str
    ours: float
    unit: str = "s"
    anchor: str = ""
    anchor_value: float | None = None
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    notes: str = ""
    module: str = ""

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], module: str) -> Row:
        """A row from a dict with the same keys (unknown keys go to the notes)."""
        names = {f.name for f in fields(cls)}
        known = {k: v for k, v in data.items() if k in names}
        extra = {k: v for k, v in data.items() if k not in names}
        notes = str(known.get("notes", ""))
        if extra:
            notes = "; ".join(
                filter(None, [notes, ", ".join(f"{k}={v}" for k, v in extra.items())])
            )
        return cls(**{**known, "notes": notes, "module": module})

    def as_dict(self) -> dict[str, Any]:
        """The row as JSON-ready values (non-finite numbers become ``None``)."""
        return {k: _finite(v) for k, v in asdict(self).items()}


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def speedup(
    benchmark: str,
    ours_s: float,
    anchor: str,
    anchor_s: float | None,
    *,
    at_least: float | None = None,
    notes: str = "",
) -> Row:
    """A timing row: ratio = anchor seconds / our seconds, met when it is ``>= at_least``."""
    ratio = anchor_s / ours_s if anchor_s is not None and ours_s > 0 else None
    met = None if at_least is None or ratio is None else ratio >= at_least
    target = "" if at_least is None else f">= {_times(at_least)}"
    return Row(benchmark, ours_s, "s", anchor, anchor_s, ratio, target, met, notes)


def throughput(
    benchmark: str,
    ours: float,
    unit: str,
    anchor: str,
    anchor_value: float | None,
    *,
    at_least: float | None = None,
    notes: str = "",
) -> Row:
    """A rate row (higher is better): ratio = ours / anchor, met when it is ``>= at_least``."""
    ratio = ours / anchor_value if anchor_value else None
    met = None if at_least is None or ratio is None else ratio >= at_least
    target = "" if at_least is None else f">= {_times(at_least)}"
    return Row(benchmark, ours, unit, anchor, anchor_value, ratio, target, met, notes)


def _times(ratio: float) -> str:
    return f"{ratio:,.0f}x" if ratio >= 10 else f"{ratio:g}x"


def _number(value: float | None, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if unit == "s":
        return f"{value:.3g} s" if value < 100 else f"{value:,.0f} s"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return f"{text} {unit}".strip()


def _ratio(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 100:
        return f"{value:,.0f}x"
    return f"{value:.3g}x"


def markdown_table(rows: list[Row]) -> str:
    """The rows as a markdown table (one line per row, ratios as ``123x``)."""
    lines = [
        "| benchmark | maas-audit | anchor | anchor value | ratio | target | met | notes |",
        "|---|---:|---|---:|---:|---|---|---|",
    ]
    for row in rows:
        met = {True: "yes", False: "**no**", None: ""}[row.met]
        lines.append(
            f"| {row.benchmark} | {_number(row.ours, row.unit)} | {row.anchor} | "
            f"{_number(row.anchor_value, row.unit)} | {_ratio(row.ratio)} | {row.target} | "
            f"{met} | {row.notes} |"
        )
    return "\n".join(lines)
