"""Line charts (LineChart): the points they carry, gaps, escaped text, in the HTML and JSON."""

import dataclasses
import json
import re

import pytest

from audit.core.measurements import LineChart, LineSeries
from audit.reporting import render_html, result_to_dict
from audit.reporting.charts import line_chart

HOSTILE = '<script>alert(1)</script>" onmouseover="x'
CHART = LineChart(
    title=f"Accuracy against epsilon {HOSTILE}",
    x_labels=("ε=0.5", "ε=1", "non-private"),
    series=(
        LineSeries(name="sex=Female", values=(0.80, 0.84, 0.86)),
        LineSeries(name=HOSTILE, values=(0.70, None, 0.78)),
    ),
    y_label="holdout accuracy",
)


def test_every_point_is_drawn_and_gaps_break_lines(parse):
    svg = str(line_chart(CHART, chart_id="c1"))
    page = parse(svg)
    polylines = page.tags("polyline")
    # the complete series is one line of three points; the gapped one has no segment
    assert [len(p["points"].split()) for p in polylines] == [3]
    markers = page.tags("circle") + page.tags("rect") + page.tags("polygon")
    assert len(markers) >= 5  # 3 + 2 points, legend swatches add more
    label = page.tags("svg")[0]["aria-label"]
    assert "sex=Female: ε=0.5 0.800, ε=1 0.840, non-private 0.860" in label
    assert "ε=0.5 0.700, non-private 0.780" in label


def test_text_is_escaped(parse):
    page = parse(str(line_chart(CHART, chart_id="c2")))
    assert page.tags("script") == []
    assert all(not name.startswith("on") for _, attrs in page.elements for name in attrs)
    assert "<script>alert(1)</script>" in page.text


def test_the_axis_spans_the_data_not_zero():
    svg = str(line_chart(CHART, chart_id="c3"))
    ticks = [float(t) for t in re.findall(r'class="chart-tick">([0-9.]+)<', svg)]
    assert min(ticks) >= 0.6
    assert max(ticks) <= 0.9


def test_invalid_charts_are_refused():
    with pytest.raises(ValueError, match="2 values for 3 positions"):
        LineChart(title="t", x_labels=("a", "b", "c"), series=(LineSeries("s", (1.0, 2.0)),))
    with pytest.raises(ValueError, match="finite"):
        LineChart(title="t", x_labels=("a",), series=(LineSeries("s", (float("inf"),)),))


def test_line_charts_reach_the_html_and_json_reports(sample_result, parse):
    output = dataclasses.replace(sample_result.outputs[0], charts=(CHART,))
    result = dataclasses.replace(sample_result, outputs=(output, *sample_result.outputs[1:]))
    document = json.loads(json.dumps(result_to_dict(result)))
    chart = document["auditors"][0]["charts"][0]
    assert chart["kind"] == "line"
    assert chart["series"][1]["values"] == [0.70, None, 0.78]
    page = parse(render_html(result))
    assert any((a.get("aria-label") or "").startswith("Line chart:") for a in page.tags("svg"))
