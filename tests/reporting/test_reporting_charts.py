"""Charts: one bar per group, uncertainty and exclusions visible, text escaped."""

# The report writes en dashes in intervals and multiplication signs in labels.

from __future__ import annotations

import dataclasses
import re

import pytest

from audit.core.measurements import GroupStatus, GroupValue, MetricResult
from audit.reporting.charts import BLUE, VERMILLION, ReferenceLine, bar_chart
from audit.reporting.formats import format_count, format_interval, format_number, format_threshold


def _metric(*groups: GroupValue, confidence_level: float | None = None) -> MetricResult:
    return MetricResult(
        metric="selection_rate",
        auditor="fairness",
        grouping=("sex",),
        value=0.3,
        groups=groups,
        confidence_level=confidence_level,
    )


def _bars(svg: str) -> list[str]:
    return re.findall(r'<rect x="[^"]*" y="[^"]*" width="[^"]*" height="14" fill="([^"]*)"', svg)


@pytest.fixture
def selection(sample_result):
    return sample_result.outputs[0].metrics[0]


def test_one_bar_per_group_with_value_labels(selection, parse):
    svg = bar_chart(selection, chart_id="c1", highlight="Female", reference_group="Male")
    page = parse(svg)
    assert _bars(svg) == [VERMILLION, BLUE, "url(#c1-hatch)"]
    assert "0.200 (0.194–0.207)" in page.text
    assert "0.281 (0.276–0.286)" in page.text
    assert "Female (worst)" in page.text
    assert "Male (reference)" in page.text
    assert "unknown (excluded)" in page.text


def test_is_an_accessible_image(selection, parse):
    page = parse(bar_chart(selection, chart_id="c1"))
    (svg,) = page.tags("svg")
    assert svg["role"] == "img"
    assert "Bar chart of selection rate by sex" in svg["aria-label"]
    assert "Female 0.200 (0.194–0.207)" in svg["aria-label"]
    assert "unknown 0.224 (excluded, not compared)" in svg["aria-label"]
    assert page.tags("title")
    assert "xmlns" not in svg  # inline SVG needs no namespace URL


def test_confidence_whiskers_only_when_intervals_exist(parse):
    with_ci = bar_chart(
        _metric(GroupValue("a", 10, 0.4, 0.3, 0.5), confidence_level=0.9), chart_id="w"
    )
    without = bar_chart(_metric(GroupValue("a", 10, 0.4)), chart_id="w")
    assert with_ci.count('stroke-width="1.5"') == 3 + 1  # bar whisker, two caps, legend swatch
    assert "90% confidence interval" in parse(with_ci).text
    assert 'stroke-width="1.5"' not in without


def test_reference_line_is_dashed_and_named(selection, parse):
    svg = bar_chart(selection, chart_id="r", reference=ReferenceLine(0.2249, "0.8 × Male"))
    assert svg.count('stroke-dasharray="4 3"') == 2  # the line and its legend swatch
    assert "0.8 × Male" in parse(svg).text
    assert "stroke-dasharray" not in bar_chart(selection, chart_id="r")


def test_groups_not_compared_are_hatched_and_labelled(parse):
    metric = _metric(
        GroupValue("big", 100, 0.5),
        GroupValue("tiny", 3, 0.9, status=GroupStatus.SMALL, note="3 rows"),
        GroupValue("none", 0, None, status=GroupStatus.UNDEFINED),
    )
    svg = bar_chart(metric, chart_id="h")
    assert _bars(svg) == [BLUE, "url(#h-hatch)"]
    text = parse(svg).text
    assert "tiny (small)" in text
    assert "none (undefined)" in text
    assert "no value" in text
    assert 'id="h-hatch"' in svg
    assert "not compared" in text


def test_negative_values_extend_left_of_zero():
    metric = _metric(GroupValue("down", 10, -0.5), GroupValue("up", 10, 1.5))
    svg = bar_chart(metric, chart_id="n")
    xs = [
        float(x) for x in re.findall(r'<rect x="([^"]*)" y="[^"]*" width="[^"]*" height="14"', svg)
    ]
    widths = [
        float(w) for w in re.findall(r'<rect x="[^"]*" y="[^"]*" width="([^"]*)" height="14"', svg)
    ]
    zero = xs[1]  # the positive bar starts at zero
    assert xs[0] + widths[0] == pytest.approx(zero)
    assert widths[1] == pytest.approx(3 * widths[0])


def _widths(svg: str) -> list[float]:
    pattern = r'<rect x="[^"]*" y="[^"]*" width="([^"]*)" height="14"'
    return [float(w) for w in re.findall(pattern, svg)]


def test_rates_get_the_whole_unit_axis_and_small_differences_an_axis_that_fits_them():
    rates = bar_chart(_metric(GroupValue("a", 10, 0.3), GroupValue("b", 10, 0.6)), chart_id="r")
    drops = bar_chart(
        _metric(GroupValue("a", 10, 0.008), GroupValue("b", 10, 0.011)),
        chart_id="d",
        reference=ReferenceLine(0.02, "threshold 0.02"),
    )
    # 0.6 on a 0..1 axis, 0.011 on a 0..0.02 axis (steps of 0.005): bars keep
    # proportion to their values, both from zero
    rate_a, rate_b = _widths(rates)
    drop_a, drop_b = _widths(drops)
    assert rate_b == pytest.approx(2 * rate_a, rel=1e-3)
    assert drop_b == pytest.approx(0.011 / 0.008 * drop_a, rel=1e-3)
    assert drop_b / rate_b == pytest.approx((0.011 / 0.02) / 0.6, rel=1e-3)
    assert ">0.02<" in drops and ">1<" in rates and ">1<" not in drops


def test_all_zero_values_still_get_an_axis():
    svg = bar_chart(_metric(GroupValue("a", 10, 0.0), GroupValue("b", 10, 0.0)), chart_id="z")
    assert ">1<" in svg


def test_labels_are_escaped_and_ids_sanitised(parse):
    hostile = '<script>alert(1)</script>" onmouseover="x'
    metric = dataclasses.replace(_metric(GroupValue(hostile, 5, 0.5)), metric="<img src=x>")
    svg = bar_chart(metric, chart_id='x" onload="y')
    page = parse(svg)
    assert page.tags("script") == []
    assert page.tags("img") == []
    assert not [n for _, a in page.elements for n in a if n.startswith("on")]
    assert "<script>alert(1)</script>" in page.text
    assert 'id="x--onload--y-hatch"' in svg


def test_long_labels_are_shortened_with_the_full_label_as_tooltip(parse):
    label = "race=Native Hawaiian or Other Pacific Islander, sex=Female"
    page = parse(bar_chart(_metric(GroupValue(label, 40, 0.3)), chart_id="l"))
    assert label in page.text  # in the <title> tooltip
    assert any(chunk.endswith("…") for chunk in page.chunks)


def test_ungrouped_metric_has_no_chart():
    assert bar_chart(dataclasses.replace(_metric(), groups=()), chart_id="s") == ""


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda: format_number(0.31234), "0.312"),
        (lambda: format_number(-0.0001), "-0.0001"),
        (lambda: format_number(1e-5), "1e-05"),
        (lambda: format_number(-0.0), "0.000"),
        (lambda: format_number(1234.5), "1,234.500"),
        (lambda: format_number(12345), "12,345"),
        (lambda: format_number(None), "—"),
        (lambda: format_number(float("nan")), "—"),
        (lambda: format_count(1234567), "1,234,567"),
        (lambda: format_threshold(0.8), "0.8"),
        (lambda: format_threshold(1e-5), "1e-05"),
        (lambda: format_threshold(0.0), "0"),
        (lambda: format_threshold(1.0), "1"),
        (lambda: format_threshold(0.05), "0.05"),
        (lambda: format_interval(0.31, 0.3, 0.32), "0.310 (0.300–0.320)"),
        (lambda: format_interval(0.31, None, 0.32), "0.310"),
    ],
)
def test_number_formats(call, expected):
    assert call() == expected
