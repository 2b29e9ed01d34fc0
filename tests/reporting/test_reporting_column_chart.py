"""Column charts (BarChart): the numbers they carry, escaped text, in the report and the JSON."""

from __future__ import annotations

import dataclasses

import pytest

from audit.core.measurements import BarChart
from audit.reporting.charts import BLUE, VERMILLION, column_chart
from audit.reporting.html import render_html
from audit.reporting.json import result_to_dict

from .conftest import HOSTILE

CHART = BarChart(
    title="Global importance",
    labels=("marital-status", "sex", "age"),
    values=(0.0950, 0.0310, 0.0584),
    low=(0.0559, 0.0178, None),
    high=(0.0956, 0.0329, None),
    highlighted=("sex",),
    highlight_label="sensitive column or proxy",
    value_label="mean |attribution|",
    caption="Whiskers span the runs.",
)


def test_bars_values_and_ranges_are_drawn(parse):
    svg = column_chart(CHART, chart_id="c1")
    page = parse(svg)
    assert svg.count(f'fill="{BLUE}"') >= 2 and f'fill="{VERMILLION}"' in svg
    assert "0.095 (0.056–0.096)" in page.text
    assert "0.058" in page.text
    assert "sex (*)" in page.text
    (element,) = page.tags("svg")
    assert element["role"] == "img"
    assert "sex (highlighted) 0.031 (0.018–0.033)" in element["aria-label"]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_labels_and_titles_are_escaped(hostile, parse):
    chart = dataclasses.replace(
        CHART, title=hostile, labels=(hostile, "sex", "age"), highlight_label=hostile
    )
    svg = str(column_chart(chart, chart_id=hostile))
    assert "<script" not in svg and "<img" not in svg and 'onmouseover="x' not in svg
    assert not parse(svg).tags("script")


def test_bad_numbers_are_refused():
    with pytest.raises(ValueError, match="must be finite"):
        BarChart(title="t", labels=("a",), values=(float("nan"),))
    with pytest.raises(ValueError, match="2 values for 1 labels"):
        BarChart(title="t", labels=("a",), values=(1.0, 2.0))


def test_charts_reach_the_html_and_json_reports(sample_result):
    output = dataclasses.replace(sample_result.outputs[0], charts=(CHART,))
    result = dataclasses.replace(sample_result, outputs=(output, *sample_result.outputs[1:]))
    html = render_html(result)
    assert "Global importance" in html and "Whiskers span the runs." in html
    assert 'id="auditor-1-chart-1"' in html
    (first, *_) = result_to_dict(result)["auditors"]
    assert first["charts"][0]["values"] == [0.095, 0.031, 0.0584]
    assert first["charts"][0]["low"] == [0.0559, 0.0178, None]
