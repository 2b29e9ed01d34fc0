"""Hostile strings stay text, and the document loads nothing from anywhere."""

from __future__ import annotations

import re

from audit.reporting import render_html

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def test_hostile_strings_are_escaped(hostile_result, hostile_strings, parse):
    document = render_html(hostile_result)
    page = parse(document)
    assert page.tags("script") == []
    assert page.tags("img") == []
    on_attributes = [
        name for _, attrs in page.elements for name in attrs if name.lower().startswith("on")
    ]
    assert on_attributes == []
    for hostile in hostile_strings:
        assert hostile in page.text  # still readable, as text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in document
    assert "&lt;img src=x onerror=y&gt;" in document
    assert "<script" not in document.lower()


def test_hostile_strings_in_attributes_stay_inside_them(hostile_result, parse):
    page = parse(render_html(hostile_result))
    for _, attrs in page.elements:
        assert "onmouseover" not in attrs
        assert "onerror" not in attrs
    labels = [a["aria-label"] for a in page.tags("svg") if a.get("role") == "img"]
    assert labels
    assert all("<script>alert(1)</script>" in label for label in labels)


def test_no_external_resources(sample_result, hostile_result, parse):
    for result in (sample_result, hostile_result):
        document = render_html(result)
        page = parse(document)
        assert page.attribute_values("src") == []
        hrefs = page.attribute_values("href")
        assert hrefs
        assert all(h.startswith("#") for h in hrefs)
        ids = set(page.attribute_values("id"))
        assert {h[1:] for h in hrefs} <= ids  # every anchor lands somewhere
        assert page.tags("link") == []
        assert page.tags("iframe") == []
        assert page.tags("object") == []
        assert "@import" not in document
        assert re.findall(r"url\((?!#)", document) == []
    assert re.search(r"https?:|//[a-z]", render_html(sample_result), flags=re.I) is None


def test_content_security_policy_forbids_network(sample_result, parse):
    page = parse(render_html(sample_result))
    metas = [m for m in page.tags("meta") if m.get("http-equiv") == "Content-Security-Policy"]
    assert [m["content"] for m in metas] == [CSP]


def test_ids_are_unique(sample_result, parse):
    ids = parse(render_html(sample_result)).attribute_values("id")
    assert len(ids) == len(set(ids))
