"""Numbers to inline SVG, and the number formats the reports share.

Every piece of text that reaches the SVG goes through :func:`markupsafe.escape`
(element bodies and attribute values alike), so group labels and metric names
taken from data can never become markup.  The charts need no script, font or
external resource; they use the Okabe and Ito colour-blind-safe palette and never
rely on colour alone: groups left out of comparisons are hatched *and* labelled.

The module is over 500 lines on purpose: the three chart kinds (bars per group, bars per
column, lines) share one palette, one set of SVG primitives and one axis scale, which would
otherwise become a public API between modules.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from audit.core.measurements import (
    BarChart,
    Chart,
    GroupStatus,
    GroupValue,
    LineChart,
    MetricResult,
)
from audit.core.wording import humanize, sentence_case
from audit.reporting.formats import (
    format_interval,
    format_number,
    format_threshold,
)

__all__ = [
    "ReferenceLine",
    "bar_chart",
    "chart_svg",
    "column_chart",
    "line_chart",
]

# Okabe & Ito (2008), "Color Universal Design".
BLUE = "#0072B2"
VERMILLION = "#D55E00"
INK = "#1a1a1a"
MUTED = "#595959"
GRID = "#d9d9d9"
HATCH_BG = "#ececec"
HATCH_FG = "#8a8a8a"

_WIDTH = 900
_LABEL_RIGHT = 292
_PLOT_LEFT = 304
_PLOT_RIGHT = 740
_VALUE_LEFT = 754
_TOP = 8
_ROW = 26
_BAR = 14
_AXIS = 26
_LEGEND_ROW = 22
_LABEL_CHARS = 40
_CHAR_W = 6.8
_ARIA_GROUPS = 30
_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


# --- SVG building ---------------------------------------------------------------------------


def _el(tag: str, attrs: Mapping[str, object], body: str | Markup | None = None) -> Markup:
    """One element; ``tag`` and attribute names are constants, every value is escaped."""
    parts = Markup("").join(Markup(' {}="{}"').format(Markup(k), v) for k, v in attrs.items())
    if body is None:
        return Markup("<{}{}/>").format(Markup(tag), parts)
    return Markup("<{0}{1}>{2}</{0}>").format(Markup(tag), parts, body)


def _join(parts: Iterable[Markup]) -> Markup:
    return Markup("").join(parts)


def _px(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _svg(*, aria: str, height: float, body: Markup, chart_id: str | None = None) -> Markup:
    """The ``<svg>`` every chart shares: an accessible image scaled to the page's width."""
    attrs: dict[str, object] = {}
    if chart_id is not None:
        attrs["id"] = re.sub(r"[^A-Za-z0-9_-]", "-", chart_id)
    attrs |= {
        "class": "chart",
        "role": "img",
        "aria-label": aria,
        "viewBox": f"0 0 {_WIDTH} {_px(height)}",
        "width": "100%",
        "font-family": _FONT,
        "font-size": 12,
        "fill": INK,
        "dominant-baseline": "middle",
    }
    return _el("svg", attrs, body)


@dataclass(frozen=True)
class ReferenceLine:
    """A dashed vertical line on a chart, e.g. a policy threshold; ``label`` goes in the legend."""

    value: float
    label: str


@dataclass(frozen=True)
class _Scale:
    low: float
    high: float
    ticks: tuple[float, ...]

    def x(self, value: float) -> float:
        span = self.high - self.low
        return _PLOT_LEFT + (value - self.low) / span * (_PLOT_RIGHT - _PLOT_LEFT)


def _nice_step(span: float) -> float:
    raw = span / 5
    magnitude = 10.0 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def _round_axis(low: float, high: float) -> tuple[float, float, tuple[float, ...]]:
    """Widen ``low``..``high`` to whole steps of a round size; the ends and the ticks."""
    step = _nice_step(high - low)
    low = math.floor(low / step + 1e-9) * step
    high = math.ceil(high / step - 1e-9) * step
    count = round((high - low) / step)
    return low, high, tuple(round(low + i * step, 10) for i in range(count + 1))


_WHOLE_UNIT_FROM = 0.25
"""Values within 0..1 reaching this get the whole 0..1 axis (rates, shown on their own
scale); smaller ones (a drop of 0.01 against a threshold of 0.02) get an axis that fits
them, still from zero, so bar lengths stay proportional to the values."""


def _scale(numbers: Sequence[float]) -> _Scale:
    """Choose a linear axis that shows zero; rates (all within 0..1) get the whole 0..1 axis."""
    low, high = min([0.0, *numbers]), max([0.0, *numbers])
    if low >= 0.0 and _WHOLE_UNIT_FROM <= high <= 1.0:
        low, high = 0.0, 1.0
    if high == low:
        high = low + 1.0
    return _Scale(*_round_axis(low, high))


def _status_word(group: GroupValue) -> str | None:
    if group.value is None:
        return "undefined"
    if group.status is GroupStatus.OK:
        return None
    return str(group.status.value)


def _row_label(group: GroupValue, marks: Sequence[str]) -> str:
    suffix = "".join(f" ({m})" for m in marks)
    room = max(_LABEL_CHARS - len(suffix), 8)
    label = group.group if len(group.group) <= room else group.group[: room - 1] + "\u2026"
    return label + suffix


def _bar_row(
    index: int, group: GroupValue, scale: _Scale, hatch_id: str, marks: Sequence[str], worst: bool
) -> Markup:
    top = _TOP + index * _ROW
    middle = top + _ROW / 2
    parts = [
        _el(
            "text",
            {"x": _LABEL_RIGHT, "y": _px(middle), "text-anchor": "end", "class": "chart-label"},
            _join([_el("title", {}, group.group), escape(_row_label(group, marks))]),
        )
    ]
    if group.value is None:
        parts.append(
            _el(
                "text",
                {
                    "x": _px(scale.x(0.0) + 4),
                    "y": _px(middle),
                    "fill": MUTED,
                    "font-style": "italic",
                },
                "no value",
            )
        )
    else:
        compared = group.status is GroupStatus.OK
        start, end = sorted((scale.x(0.0), scale.x(group.value)))
        fill = (VERMILLION if worst else BLUE) if compared else f"url(#{hatch_id})"
        parts.append(
            _el(
                "rect",
                {
                    "x": _px(start),
                    "y": _px(middle - _BAR / 2),
                    "width": _px(max(end - start, 1.0)),
                    "height": _BAR,
                    "fill": fill,
                    "stroke": "none" if compared else HATCH_FG,
                },
            )
        )
    if group.value is not None and group.ci_low is not None and group.ci_high is not None:
        low, high = scale.x(group.ci_low), scale.x(group.ci_high)
        whisker = {"stroke": INK, "stroke-width": "1.5"}
        parts += [
            _el(
                "line",
                {"x1": _px(low), "x2": _px(high), "y1": _px(middle), "y2": _px(middle)} | whisker,
            ),
            *(
                _el(
                    "line",
                    {"x1": _px(x), "x2": _px(x), "y1": _px(middle - 5), "y2": _px(middle + 5)}
                    | whisker,
                )
                for x in (low, high)
            ),
        ]
    value_text = format_interval(group.value, group.ci_low, group.ci_high)
    parts.append(
        _el("text", {"x": _VALUE_LEFT, "y": _px(middle), "class": "chart-value"}, value_text)
    )
    return _el("g", {}, _join(parts))


def _axis(scale: _Scale, bottom: float) -> Markup:
    parts = []
    for tick in scale.ticks:
        x = _px(scale.x(tick))
        colour = INK if tick == 0 else GRID
        parts.append(
            _el("line", {"x1": x, "x2": x, "y1": _TOP, "y2": _px(bottom), "stroke": colour})
        )
        parts.append(
            _el(
                "text",
                {"x": x, "y": _px(bottom + 15), "text-anchor": "middle", "class": "chart-tick"},
                format_threshold(tick),
            )
        )
    return _el("g", {"aria-hidden": "true"}, _join(parts))


def _legend(
    items: Sequence[tuple[str, Markup]], top: float, left: float = _PLOT_LEFT
) -> tuple[Markup, float]:
    """Legend entries (label, 16x10 swatch) laid out in rows; returns markup and its height."""
    parts, x, y = [], float(left), top
    for label, swatch in items:
        width = 22 + len(label) * _CHAR_W + 18
        if x + width > _WIDTH and x > left:
            x, y = float(left), y + _LEGEND_ROW
        parts.append(_el("g", {"transform": f"translate({_px(x)} {_px(y)})"}, swatch))
        parts.append(_el("text", {"x": _px(x + 22), "y": _px(y + 5), "class": "chart-tick"}, label))
        x += width
    height = (y - top + _LEGEND_ROW) if items else 0.0
    return _el("g", {"aria-hidden": "true"}, _join(parts)), height


def _swatch_rect(fill: str, stroke: str = "none") -> Markup:
    return _el("rect", {"x": 0, "y": 0, "width": 16, "height": 10, "fill": fill, "stroke": stroke})


def _legend_items(
    groups: Sequence[GroupValue],
    hatch_id: str,
    highlight: str | None,
    reference: ReferenceLine | None,
    confidence_level: float | None,
) -> list[tuple[str, Markup]]:
    items = [("compared", _swatch_rect(BLUE))]
    if highlight is not None and any(g.group == highlight for g in groups):
        items.append(("worst group", _swatch_rect(VERMILLION)))
    if any(_status_word(g) for g in groups):
        items.append(("not compared", _swatch_rect(f"url(#{hatch_id})", HATCH_FG)))
    if any(g.ci_low is not None and g.ci_high is not None for g in groups):
        level = f"{confidence_level:.0%} " if confidence_level else ""
        whisker = _el(
            "line", {"x1": 0, "x2": 16, "y1": 5, "y2": 5, "stroke": INK, "stroke-width": 1.5}
        )
        items.append((f"{level}confidence interval", whisker))
    if reference is not None:
        dash = {"stroke": INK, "stroke-width": 1.5, "stroke-dasharray": "4 3"}
        items.append((reference.label, _el("line", {"x1": 8, "x2": 8, "y1": -2, "y2": 12} | dash)))
    return items


def _aria_label(
    metric: MetricResult, reference: ReferenceLine | None, highlight: str | None
) -> str:
    shown = metric.groups[:_ARIA_GROUPS]
    described = []
    for group in shown:
        text = f"{group.group} {format_interval(group.value, group.ci_low, group.ci_high)}"
        status = _status_word(group)
        if status:
            text += f" ({status}, not compared)"
        if group.group == highlight:
            text += " (worst group)"
        described.append(text)
    more = len(metric.groups) - len(shown)
    if more > 0:
        described.append(f"and {more} more groups")
    line = f"; dashed line at {reference.label}" if reference else ""
    return (
        f"Bar chart of {humanize(metric.metric)} by {metric.grouping_label}{line}. "
        + "; ".join(described)
        + "."
    )


def bar_chart(
    metric: MetricResult,
    *,
    chart_id: str,
    reference: ReferenceLine | None = None,
    highlight: str | None = None,
    reference_group: str | None = None,
) -> Markup:
    """Draw a grouped metric as a horizontal bar chart in inline SVG, one bar per group.

    Each bar is labelled with its value and, when present, its confidence interval
    (drawn as a whisker).  Groups whose status is not ``ok`` (or whose value is
    undefined) are hatched grey and labelled with their status.

    Parameters
    ----------
    metric : MetricResult
        A metric with per-group values; an ungrouped metric gives an empty string.
    chart_id : str
        Unique within the document; prefixes the chart's internal ids.
    reference : ReferenceLine, optional
        A dashed vertical line, e.g. the threshold a finding compared against.
    highlight : str, optional
        The worst group of a finding, drawn in vermillion and labelled ``(worst)``.
    reference_group : str, optional
        The group a finding compared against, labelled ``(reference)``.

    Returns
    -------
    Markup
        ``<svg role="img" aria-label=...>`` with a ``<title>``; safe to embed.
    """
    if not metric.groups:
        return Markup("")
    chart_id = re.sub(r"[^A-Za-z0-9_-]", "-", chart_id)
    hatch_id = f"{chart_id}-hatch"
    numbers = [
        n
        for g in metric.groups
        for n in (g.value, g.ci_low, g.ci_high)
        if n is not None and math.isfinite(n)
    ]
    if reference is not None and math.isfinite(reference.value):
        numbers.append(reference.value)
    else:
        reference = None
    scale = _scale(numbers)
    bottom = _TOP + len(metric.groups) * _ROW
    rows = []
    for index, group in enumerate(metric.groups):
        marks = [m for m in (_status_word(group),) if m]
        if group.group == highlight:
            marks.append("worst")
        if group.group == reference_group:
            marks.append("reference")
        rows.append(_bar_row(index, group, scale, hatch_id, marks, group.group == highlight))
    legend, legend_height = _legend(
        _legend_items(metric.groups, hatch_id, highlight, reference, metric.confidence_level),
        bottom + _AXIS + 4,
    )
    height = bottom + _AXIS + 4 + legend_height
    parts = [
        _el("title", {}, sentence_case(f"{humanize(metric.metric)} by {metric.grouping_label}")),
        _el("defs", {}, _hatch(hatch_id)),
        _axis(scale, bottom),
        *rows,
    ]
    if reference is not None:
        x = _px(scale.x(reference.value))
        parts.append(
            _el(
                "line",
                {
                    "x1": x,
                    "x2": x,
                    "y1": _TOP - 4,
                    "y2": _px(bottom + 2),
                    "stroke": INK,
                    "stroke-width": 1.5,
                    "stroke-dasharray": "4 3",
                },
            )
        )
    parts.append(legend)
    return _svg(aria=_aria_label(metric, reference, highlight), height=height, body=_join(parts))


def _hatch(hatch_id: str) -> Markup:
    return _el(
        "pattern",
        {
            "id": hatch_id,
            "patternUnits": "userSpaceOnUse",
            "width": 6,
            "height": 6,
            "patternTransform": "rotate(45)",
        },
        _join(
            [
                _el("rect", {"width": 6, "height": 6, "fill": HATCH_BG}),
                _el(
                    "line",
                    {"x1": 0, "y1": 0, "x2": 0, "y2": 6, "stroke": HATCH_FG, "stroke-width": 2},
                ),
            ]
        ),
    )


def _free_scale(numbers: Sequence[float]) -> _Scale:
    """A linear axis from zero (or below) to the largest number, with round ticks."""
    low, high = min([0.0, *numbers]), max([0.0, *numbers])
    if high - low <= 0:
        high = 1.0
    return _Scale(*_round_axis(low, high))


def _chart_label(text: str) -> str:
    return text if len(text) <= _LABEL_CHARS else text[: _LABEL_CHARS - 1] + "\u2026"


def column_chart(chart: BarChart, *, chart_id: str) -> Markup:
    """Draw a :class:`~audit.core.measurements.BarChart` as horizontal bars in inline SVG.

    Each bar is labelled with its value; bounds, when given, are drawn as whiskers;
    highlighted labels are drawn in vermillion, marked ``(*)`` and named in the legend,
    so colour is never the only cue.

    Parameters
    ----------
    chart : BarChart
        The numbers; a chart without bars gives an empty string.
    chart_id : str
        Unique within the document: the ``id`` of the ``<svg>``.

    Returns
    -------
    Markup
        ``<svg role="img" aria-label=...>`` with a ``<title>``; safe to embed.
    """
    if not chart.labels:
        return Markup("")
    low = chart.low or (None,) * len(chart.labels)
    high = chart.high or (None,) * len(chart.labels)
    numbers = [*chart.values, *(b for b in (*low, *high) if b is not None)]
    scale = _free_scale(numbers)
    bottom = _TOP + len(chart.labels) * _ROW
    rows = []
    described = []
    for index, (label, value) in enumerate(zip(chart.labels, chart.values, strict=True)):
        middle = _TOP + index * _ROW + _ROW / 2
        marked = label in chart.highlighted
        shown = _chart_label(label) + (" (*)" if marked else "")
        start, end = sorted((scale.x(0.0), scale.x(value)))
        rows.append(
            _el(
                "text",
                {"x": _LABEL_RIGHT, "y": _px(middle), "text-anchor": "end", "class": "chart-label"},
                _join([_el("title", {}, label), escape(shown)]),
            )
        )
        rows.append(
            _el(
                "rect",
                {
                    "x": _px(start),
                    "y": _px(middle - _BAR / 2),
                    "width": _px(max(end - start, 1.0)),
                    "height": _BAR,
                    "fill": VERMILLION if marked else BLUE,
                },
            )
        )
        lo, hi = low[index], high[index]
        if lo is not None and hi is not None:
            rows.append(
                _el(
                    "line",
                    {
                        "x1": _px(scale.x(lo)),
                        "x2": _px(scale.x(hi)),
                        "y1": _px(middle),
                        "y2": _px(middle),
                        "stroke": INK,
                        "stroke-width": "1.5",
                    },
                )
            )
        text = format_interval(value, lo, hi)
        rows.append(_el("text", {"x": _VALUE_LEFT, "y": _px(middle), "class": "chart-value"}, text))
        described.append(f"{label}{' (highlighted)' if marked else ''} {text}")
    items = [(chart.value_label or "value", _swatch_rect(BLUE))]
    if any(label in chart.highlighted for label in chart.labels):
        items.append((f"(*) {chart.highlight_label or 'highlighted'}", _swatch_rect(VERMILLION)))
    if chart.low and chart.high:
        whisker = _el(
            "line", {"x1": 0, "x2": 16, "y1": 5, "y2": 5, "stroke": INK, "stroke-width": 1.5}
        )
        items.append(("range", whisker))
    legend, legend_height = _legend(items, bottom + _AXIS + 4)
    height = bottom + _AXIS + 4 + legend_height
    shown_described = described[:_ARIA_GROUPS]
    if len(described) > _ARIA_GROUPS:
        shown_described.append(f"and {len(described) - _ARIA_GROUPS} more")
    aria = f"Bar chart: {chart.title}. " + "; ".join(shown_described) + "."
    body = _join([_el("title", {}, chart.title), _axis(scale, bottom), *rows, legend])
    return _svg(aria=aria, height=height, body=body, chart_id=chart_id)


# --- line charts (ordered positions, several series) -----------------------------------------

# Okabe & Ito colours beyond blue and vermillion, then black; each series also gets its own
# marker shape and dash pattern, so no line is told apart by colour alone.
_SERIES_COLOURS = (BLUE, VERMILLION, "#009E73", "#CC79A7", "#E69F00", "#56B4E9", INK)
_MARKERS = ("circle", "square", "triangle", "diamond")
_DASHES = ("", "6 3", "2 3", "8 3 2 3")
_LINE_LEFT = 84
_LINE_RIGHT = 840
_LINE_HEIGHT = 240
_LINE_SERIES = 12  # more lines than this are unreadable: they are named, not drawn


def _range_scale(numbers: Sequence[float]) -> tuple[float, float, tuple[float, ...]]:
    """An axis around the data (zero need not show), with round ticks."""
    low, high = min(numbers), max(numbers)
    if high - low <= 1e-12:
        low, high = low - 0.5 * (abs(low) or 1.0), high + 0.5 * (abs(high) or 1.0)
    return _round_axis(low, high)


def _marker(shape: str, x: float, y: float, colour: str) -> Markup:
    if shape == "circle":
        return _el("circle", {"cx": _px(x), "cy": _px(y), "r": 4, "fill": colour})
    if shape == "square":
        return _el(
            "rect", {"x": _px(x - 4), "y": _px(y - 4), "width": 8, "height": 8, "fill": colour}
        )
    if shape == "triangle":
        points = f"{_px(x)},{_px(y - 5)} {_px(x - 5)},{_px(y + 4)} {_px(x + 5)},{_px(y + 4)}"
    else:
        corners = ((x, y - 5), (x + 5, y), (x, y + 5), (x - 5, y))
        points = " ".join(f"{_px(cx)},{_px(cy)}" for cx, cy in corners)
    return _el("polygon", {"points": points, "fill": colour})


def line_chart(chart: LineChart, *, chart_id: str) -> Markup:
    """Draw a :class:`~audit.core.measurements.LineChart` as lines with markers in inline SVG.

    Positions are spaced evenly along x; every series has its own colour, marker shape and
    dash pattern; a missing value breaks its line.  The accessible label lists every point.

    Parameters
    ----------
    chart : LineChart
        The numbers; a chart with no value gives an empty string.
    chart_id : str
        Unique within the document: the ``id`` of the ``<svg>``.

    Returns
    -------
    Markup
        ``<svg role="img" aria-label=...>`` with a ``<title>``; safe to embed.
    """
    numbers = [v for s in chart.series for v in s.values if v is not None]
    if not numbers or not chart.x_labels:
        return Markup("")
    low, high, ticks = _range_scale(numbers)
    top, bottom = float(_TOP + 26), float(_TOP + 26 + _LINE_HEIGHT)
    count = len(chart.x_labels)
    step = (_LINE_RIGHT - _LINE_LEFT) / max(count - 1, 1)

    def x_at(index: int) -> float:
        return _LINE_LEFT + (index * step if count > 1 else (_LINE_RIGHT - _LINE_LEFT) / 2)

    def y_at(value: float) -> float:
        return bottom - (value - low) / (high - low) * (bottom - top)

    grid = []
    for tick in ticks:
        tick_y = _px(y_at(tick))
        grid.append(
            _el(
                "line",
                {"x1": _LINE_LEFT, "x2": _LINE_RIGHT, "y1": tick_y, "y2": tick_y, "stroke": GRID},
            )
        )
        grid.append(
            _el(
                "text",
                {"x": _LINE_LEFT - 8, "y": tick_y, "text-anchor": "end", "class": "chart-tick"},
                format_threshold(tick),
            )
        )
    for index, label in enumerate(chart.x_labels):
        grid.append(
            _el(
                "text",
                {
                    "x": _px(x_at(index)),
                    "y": _px(bottom + 16),
                    "text-anchor": "middle",
                    "class": "chart-tick",
                },
                label,
            )
        )
    if chart.y_label:
        grid.append(_el("text", {"x": 4, "y": _px(_TOP + 6), "class": "chart-tick"}, chart.y_label))
    lines, items, described = [], [], []
    for number, series in enumerate(chart.series[:_LINE_SERIES]):
        colour = _SERIES_COLOURS[number % len(_SERIES_COLOURS)]
        shape = _MARKERS[number % len(_MARKERS)]
        dash = _DASHES[number % len(_DASHES)]
        runs: list[list[str]] = [[]]
        marks = []
        for index, value in enumerate(series.values):
            if value is None:
                runs.append([])
                continue
            x, y = x_at(index), y_at(value)
            runs[-1].append(f"{_px(x)},{_px(y)}")
            marks.append(_marker(shape, x, y, colour))
        style = {"fill": "none", "stroke": colour, "stroke-width": 2}
        if dash:
            style["stroke-dasharray"] = dash
        for run in runs:
            if len(run) > 1:
                lines.append(_el("polyline", {"points": " ".join(run), **style}))
        lines.extend(marks)
        swatch = _join(
            [
                _el("line", {"x1": 0, "x2": 16, "y1": 5, "y2": 5, **style}),
                _marker(shape, 8, 5, colour),
            ]
        )
        items.append((series.name, swatch))
        points = ", ".join(
            f"{label} {format_number(value)}"
            for label, value in zip(chart.x_labels, series.values, strict=True)
            if value is not None
        )
        described.append(f"{series.name}: {points}")
    legend, legend_height = _legend(items, bottom + 30, left=_LINE_LEFT)
    height = bottom + 30 + legend_height
    if len(chart.series) > _LINE_SERIES:
        described.append(f"and {len(chart.series) - _LINE_SERIES} more series not drawn")
    aria = f"Line chart: {chart.title}. " + "; ".join(described) + "."
    body = _join(
        [
            _el("title", {}, chart.title),
            _el("g", {"aria-hidden": "true"}, _join(grid)),
            _el("g", {"aria-hidden": "true"}, _join(lines)),
            legend,
        ]
    )
    return _svg(aria=aria, height=height, body=body, chart_id=chart_id)


def chart_svg(chart: Chart, *, chart_id: str) -> Markup:
    """Draw any auditor chart: bars for a :class:`BarChart`, lines for a :class:`LineChart`."""
    if isinstance(chart, LineChart):
        return line_chart(chart, chart_id=chart_id)
    return column_chart(chart, chart_id=chart_id)
