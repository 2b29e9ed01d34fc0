"""The LL144 tables against the worked example DCWP published with its rule.

6 RCNY § 5-301 illustrates its 2% exclusion rule with an example bias audit of a tool
that scores applicants for "culture fit": per sex and race/ethnicity category, the number
of applicants, the scoring rate (the share scored above the full sample's median) and the
impact ratio.  These figures come from the rule, not from this project.  The example's
race table continues past the five categories checked here; the rows that complete the
data (36 applicants, 20 above the median) are this test's own, chosen so that the
sample's median splits it in half as the published sex table does (84 of 168 above it)
and no category outscores Hispanic or Latino, the example's reference category.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from audit import AuditResult, run_audit
from audit.reporting.ll144 import ll144_summary

PUBLISHED_SEX = {
    # category: (applicants, scoring rate in %, impact ratio), as printed in the rule
    "Male": (92, 54.3, 1.00),
    "Female": (76, 44.7, 0.82),
}
PUBLISHED_RACE = {
    "Hispanic or Latino": (28, 64.2, 1.00),
    "White (Not Hispanic or Latino)": (40, 37.5, 0.58),
    "Black or African American (Not Hispanic or Latino)": (32, 50.0, 0.78),
    "Native Hawaiian or Pacific Islander (Not Hispanic or Latino)": (8, 62.5, 0.97),
    "Asian (Not Hispanic or Latino)": (24, 41.7, 0.65),
}
ABOVE_MEDIAN = {
    # applicants scored above the median: the published rates times the counts
    "Male": 50,
    "Female": 34,
    "Hispanic or Latino": 18,
    "White (Not Hispanic or Latino)": 15,
    "Black or African American (Not Hispanic or Latino)": 16,
    "Native Hawaiian or Pacific Islander (Not Hispanic or Latino)": 5,
    "Asian (Not Hispanic or Latino)": 10,
}
COMPLETION = "Native American or Alaska Native (Not Hispanic or Latino)", 36, 20


def _applicants() -> pd.DataFrame:
    """168 applicants whose scores reproduce the example's counts above the median."""
    race_counts = {name: row[0] for name, row in PUBLISHED_RACE.items()}
    race_counts[COMPLETION[0]] = COMPLETION[1]
    race_above = {name: ABOVE_MEDIAN[name] for name in PUBLISHED_RACE}
    race_above[COMPLETION[0]] = COMPLETION[2]

    def split(counts: dict[str, int], above: dict[str, int]) -> tuple[list[str], list[str]]:
        high = [name for name, n in above.items() for _ in range(n)]
        low = [name for name, n in counts.items() for _ in range(n - above[name])]
        return high, low

    sex_high, sex_low = split(
        {name: row[0] for name, row in PUBLISHED_SEX.items()},
        {name: ABOVE_MEDIAN[name] for name in PUBLISHED_SEX},
    )
    race_high, race_low = split(race_counts, race_above)
    assert len(sex_high) == len(race_high) == len(sex_low) == len(race_low) == 84
    # 84 distinct scores from 60 up and 84 from 10 to 18.3: the median lies between
    scores = [60.0 + i for i in range(84)] + [10.0 + 0.1 * i for i in range(84)]
    frame = pd.DataFrame({"sex": sex_high + sex_low, "race": race_high + race_low})
    frame["score"] = scores
    frame["decision"] = (frame["score"] > 50).astype(int)
    frame["advanced"] = frame["decision"]
    return frame


@pytest.fixture(scope="module")
def published_audit(tmp_path_factory: pytest.TempPathFactory) -> AuditResult:
    policy = Path(tmp_path_factory.mktemp("policy")) / "scoring.yaml"
    policy.write_text(
        'name: culture-fit\nversion: "1"\nextends: nyc-ll144\n'
        "auditors:\n  fairness:\n    ll144:\n      rate: scoring\n",
        encoding="utf-8",
    )
    return run_audit(
        model="column:decision,score=score",
        data=_applicants(),
        policy=policy,
        target="advanced",
        sensitive=["sex", "race"],
        features=["decision", "score"],
        positive_label=1,
    )


@pytest.fixture(scope="module")
def published_tables(published_audit: AuditResult) -> dict[str, dict[str, dict]]:
    tables = {}
    for table in published_audit.output("fairness").tables:
        if table.title.startswith("LL144 scoring rates by "):
            rows = [dict(zip(table.columns, row, strict=True)) for row in table.rows]
            label = table.title.removeprefix("LL144 scoring rates by ")
            tables[label] = {row["group"].split("=", 1)[1]: row for row in rows}
    return tables


@pytest.mark.parametrize(("label", "published"), [("sex", PUBLISHED_SEX), ("race", PUBLISHED_RACE)])
def test_the_scoring_rates_and_impact_ratios_are_the_rule_s_own(label, published, published_tables):
    table = published_tables[label]
    for category, (applicants, rate_percent, ratio) in published.items():
        row = table[category]
        assert row["rows"] == applicants
        # the rule prints 18 of 28 (64.29%) as 64.2%: rates are held to a tenth of a point
        assert 100 * row["scoring rate"] == pytest.approx(rate_percent, abs=0.1)
        assert round(row["impact ratio"], 2) == ratio


def test_the_rule_s_own_category_names_are_eeo1_categories(published_audit):
    # "White (Not Hispanic or Latino)" is how EEO-1 and the rule's examples write the
    # category White; "Native American or Alaska Native" is the examples' wording
    missing = ll144_summary(published_audit).missing
    assert not [line for line in missing if "EEO-1" in line], missing
