"""What the packs say about the law, read against the primary texts (review of 2026-12-05).

Each test pins a statement a pack makes to the words of the text it cites, as quoted in
docs/citations.md and docs/jurisdictions/, so that a pack cannot again claim more than the
text says, mark unchecked wording as checked, or miss a change in the law found since.
"""

from __future__ import annotations

from pathlib import Path

from audit.policy import load_policy, pack_path

REPO = Path(__file__).resolve().parents[2]


def _requirement(pack: str, requirement_id: str):
    """Return one requirement of a shipped pack by its id."""
    (found,) = [r for r in load_policy(pack).policy.requirements if r.id == requirement_id]
    return found


def test_eu_pack_states_the_dates_of_regulation_2026_1744():
    # Art. 113 as amended by Regulation (EU) 2026/1744: Chapter III, Sections 1-3 apply from
    # 2 December 2027 (Annex III) and 2 August 2028 (Annex I), not from 2 August 2026.
    policy = load_policy("eu-ai-act-high-risk").policy
    assert "2026/1744" in policy.description
    assert "2 December 2027" in policy.description and "2 August 2028" in policy.description
    header = pack_path("eu-ai-act-high-risk").read_text(encoding="utf-8")
    assert "Article 4a" in header  # the amendment replaced Article 10(5)
    assert "proposals) are not reflected" not in header


def test_eu_pack_does_not_make_per_group_performance_unconditional():
    # Art. 13(3)(b)(v): "when appropriate, its performance regarding specific persons or
    # groups of persons on which the system is intended to be used".
    citation = _requirement("eu-ai-act-high-risk", "eu-art13-accuracy-stated-per-group").citation
    assert "when appropriate" in citation
    policy = load_policy("eu-ai-act-high-risk").policy
    assert "instructions for use must state under Article 13(3)(b)" not in policy.description


def test_colorado_adverse_outcome_citation_names_the_paragraph_and_its_words():
    # § 6-1-1704(3): "WITHIN THIRTY DAYS AFTER MAKING THE DECISION: (a) A PLAIN LANGUAGE
    # DESCRIPTION OF THE CONSEQUENTIAL DECISION AND THE ROLE THE COVERED ADMT PLAYED ...".
    for rid in ("co-adverse-outcome-reasons", "co-adverse-outcome-reasons-stable"):
        r = _requirement("colorado-sb26-189", rid)
        assert "§ 6-1-1704(3)(a)" in r.citation and "within thirty days" in r.citation
        assert r.citation_verified is True
    # § 6-1-1707(1)'s wording was not read: it stays unverified.
    assert _requirement("colorado-sb26-189", "co-selection-rate-ratio").citation_verified is False


def test_colorado_stay_is_quoted_from_the_order_not_the_fiscal_note():
    page = (REPO / "docs" / "jurisdictions" / "colorado.md").read_text(encoding="utf-8")
    assert "replacing or amending SB24-205 enacted during this legislative session" in page
    assert "1:26-cv-01515" in page


def test_cppa_pack_states_when_the_admt_article_binds():
    # § 7200(b): ADMT in use before 1 January 2027 must comply "no later than January 1, 2027".
    policy = load_policy("california-cppa-admt").policy
    assert "§ 7200(b)" in policy.description and "1 January 2027" in policy.description


def test_title_vii_citation_says_in_connection_with_what():
    # § 2000e-2(l) binds "a respondent, in connection with the selection or referral of
    # applicants or candidates for employment or promotion".
    r = _requirement("title-vii-hiring", "title-vii-protected-column-reliance")
    assert "selection or referral of applicants or candidates" in r.citation
    header = pack_path("title-vii-hiring").read_text(encoding="utf-8")
    assert "opening words of the subsection" not in header


def test_four_fifths_pack_states_the_2026_status_of_the_guidelines():
    policy = load_policy("four-fifths").policy
    assert "June 2026" in policy.description and "part 1607" in policy.description
    header = pack_path("four-fifths").read_text(encoding="utf-8")
    assert "RIN 3046-AB43" in header
