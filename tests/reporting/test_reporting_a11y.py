"""Accessibility: the report in a real Chromium, and the palette's contrast on paper."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from audit.reporting import write_html

CSS = Path(__file__).resolve().parents[2] / "audit" / "reporting" / "templates" / "report.css"


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _palette() -> dict[str, str]:
    return dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-f]{6})", CSS.read_text(encoding="utf-8")))


@pytest.mark.parametrize(
    ("fg", "bg"),
    [
        ("ink", "paper"),
        ("muted", "paper"),
        ("muted", "band"),
        ("accent", "paper"),
        ("pass-fg", "pass-bg"),
        ("fail-fg", "fail-bg"),
        ("inc-fg", "inc-bg"),
    ],
)
def test_text_colours_meet_wcag_aa(fg, bg):
    colours = _palette()
    assert _contrast(colours[fg], colours[bg]) >= 4.5


def test_verdict_rules_are_okabe_ito_colour_blind_safe():
    colours = _palette()
    # Okabe & Ito (2008): bluish green, vermillion; distinct under the common colour blindnesses
    assert colours["pass-rule"] == "#009e73"
    assert colours["fail-rule"] == "#d55e00"


@pytest.mark.browser
def test_ll144_report_is_accessible_in_chromium(browser_page, ll144_result, tmp_path):
    page = browser_page
    path = write_html(ll144_result, tmp_path / "report.html")
    url = path.resolve().as_uri()
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))

    page.goto(url, wait_until="load")

    assert errors == []
    assert requests == [url]
    assert page.get_by_role("heading", name="Executive summary").is_visible()
    assert page.get_by_role("heading", name="NYC Local Law 144 summary of results").is_visible()
    assert page.get_by_role("heading", name="Sign-off").is_visible()
    assert page.locator("main").count() == 1 and page.locator("nav[aria-label]").count() == 1
    assert page.locator("html").get_attribute("lang") == "en"

    tables = page.locator("table")
    assert tables.count() > 5
    without_headers = page.evaluate(
        "() => [...document.querySelectorAll('table')]"
        ".filter(t => t.querySelectorAll('th').length === 0).map(t => t.className)"
    )
    assert without_headers == []
    charts = page.locator("svg[role=img]")
    assert charts.count() >= 3
    assert charts.first.is_visible()
    unnamed = page.evaluate(
        "() => [...document.querySelectorAll('svg[role=img]')].filter(s => {"
        " const by = s.getAttribute('aria-labelledby');"
        " const named = by && by.split(' ').every(id => document.getElementById(id)"
        " && document.getElementById(id).textContent.trim());"
        " return !(named || (s.getAttribute('aria-label') || '').trim()"
        " || (s.querySelector('title') && s.querySelector('title').textContent.trim()));"
        "}).length"
    )
    assert unnamed == 0

    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
