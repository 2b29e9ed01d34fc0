"""The written report in a real Chromium: no console errors, no network, the essentials visible."""

from __future__ import annotations

import pytest

from audit.reporting import write_html

pytestmark = pytest.mark.browser


def test_report_opens_cleanly_in_chromium(browser_page, sample_result, tmp_path):
    path = write_html(sample_result, tmp_path / "report.html")
    url = path.resolve().as_uri()
    errors: list[str] = []
    requests: list[str] = []
    browser_page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    browser_page.on("pageerror", lambda e: errors.append(str(e)))
    browser_page.on("request", lambda r: requests.append(r.url))

    browser_page.goto(url, wait_until="load")

    assert errors == []
    assert requests == [url]
    heading = browser_page.get_by_role("heading", name="Executive summary")
    assert heading.is_visible()
    verdict = browser_page.locator(".overall .badge")
    assert verdict.is_visible()
    assert verdict.inner_text().strip().endswith("FAIL")
    charts = browser_page.locator("svg[role=img]")
    assert charts.count() >= 1
    assert charts.first.is_visible()
    box = charts.first.bounding_box()
    assert box is not None
    assert box["width"] > 300
    assert box["height"] > 60

    shot = tmp_path / "report.png"
    browser_page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_print_layout_shows_verdicts_as_text(browser_page, sample_result, tmp_path):
    path = write_html(sample_result, tmp_path / "report.html")
    browser_page.emulate_media(media="print")
    browser_page.goto(path.resolve().as_uri(), wait_until="load")
    badge = browser_page.locator(".overall .badge")
    assert badge.evaluate("e => getComputedStyle(e).color") == "rgb(0, 0, 0)"
    assert badge.inner_text().strip().endswith("FAIL")
    assert not browser_page.locator("nav.toc").is_visible()


def test_the_findings_table_fits_a_laptop_screen(browser_page, ll144_result, tmp_path):
    # LL144's benchmark rows ("No significant difference", "alpha = 0.05 benchmark") used to
    # widen their cells past the page, and the findings' own text scrolled out of view
    path = write_html(ll144_result, tmp_path / "report.html")
    browser_page.set_viewport_size({"width": 1280, "height": 900})
    browser_page.goto(path.resolve().as_uri(), wait_until="load")
    wrap = browser_page.locator("table.findings").locator("xpath=..")
    width, scrolled = wrap.evaluate("e => [e.clientWidth, e.scrollWidth]")
    assert scrolled <= width
    assert browser_page.locator("table.findings .badge-benchmark").count() > 0
