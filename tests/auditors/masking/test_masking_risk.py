"""k-anonymity and l-diversity."""

import itertools

import numpy as np
import pandas as pd

from audit.auditors.masking import MaskingAuditor, MaskingConfig
from audit.auditors.masking.risk import measure_risk
from audit.core.context import AuditContext


def test_k_l_and_rows_at_risk():
    frame = pd.DataFrame(
        {
            "zip": ["941"] * 5 + ["100"] * 2,
            "sex": ["F"] * 7,
            "diagnosis": ["flu", "flu", "cold", "flu", "flu", "flu", "flu"],
        }
    )
    risk = measure_risk(frame, ["zip", "sex"], "diagnosis", k_target=5, l_target=2)
    assert (risk.k, risk.l, risk.classes, risk.classes_below_k) == (2, 1, 2, 1)
    assert risk.rows_at_risk == 2
    assert dict((b, (c, r)) for b, c, r in risk.histogram)["2"] == (1, 2)


def test_missing_values_form_their_own_class():
    frame = pd.DataFrame({"zip": ["941", None, None], "sex": ["F", "F", "F"]})
    risk = measure_risk(frame, ["zip", "sex"], None, k_target=2, l_target=1)
    assert (risk.k, risk.l, risk.rows_at_risk) == (1, None, 1)


def test_missing_quasi_identifier_is_a_reason_not_a_crash():
    config = MaskingConfig(quasi_identifiers=["zip", "age"])
    output = MaskingAuditor().run(AuditContext(data=pd.DataFrame({"zip": ["1"]})), config)
    (k,) = output.find("k_anonymity")
    assert k.value is None and "'age'" in k.reason


def test_missing_or_blank_sensitive_values_are_not_counted_as_values():
    """By hand: class (941, F) holds {flu, missing, blank} -> l = 1; class (100, M) holds
    {cold, flu} -> l = 2; class (200, F) holds only missing -> l = 0.  So l = 0, and the
    rows of the first and third classes (3 + 2) are below l = 2."""
    frame = pd.DataFrame(
        {
            "zip": ["941", "941", "941", "100", "100", "200", "200"],
            "sex": ["F", "F", "F", "M", "M", "F", "F"],
            "diagnosis": ["flu", None, "  ", "cold", "flu", None, float("nan")],
        }
    )
    risk = measure_risk(frame, ["zip", "sex"], "diagnosis", k_target=1, l_target=2)
    assert (risk.k, risk.l, risk.rows_at_risk) == (2, 0, 5)
    two = measure_risk(frame.iloc[:5], ["zip", "sex"], "diagnosis", k_target=1, l_target=2)
    assert (two.l, two.rows_at_risk) == (1, 3)  # {flu, missing} is l = 1, not 2


def test_blank_quasi_identifiers_are_values_apart_from_missing():
    frame = pd.DataFrame({"zip": ["", "", None, None, "941"], "sex": ["F"] * 5})
    risk = measure_risk(frame, ["zip", "sex"], None, k_target=2, l_target=1)
    assert (risk.classes, risk.k, risk.rows_at_risk) == (3, 1, 1)


def test_k_and_l_agree_with_a_pandas_groupby_on_random_tables():
    """The bincount path against an independent groupby over the same values as text."""
    rng = np.random.default_rng(4)
    for _ in range(20):
        n = int(rng.integers(1, 400))
        frame = pd.DataFrame(
            {
                "a": rng.choice(["x", "y", "", None], n),
                "b": rng.integers(0, int(rng.integers(1, 40)), n),
                "c": rng.choice([1.5, 2.0, np.nan], n),
                "s": rng.choice(["flu", "cold", " ", None, "hiv"], n),
            }
        )
        risk = measure_risk(frame, ["a", "b", "c"], "s", k_target=3, l_target=2)
        keys = [frame[c].astype("string").fillna("<missing>") for c in ("a", "b", "c")]
        sizes = frame.groupby(keys).size()
        known = frame["s"].where(frame["s"].fillna("").str.strip() != "")
        distinct = known.groupby(keys).nunique().reindex(sizes.index, fill_value=0)
        at_risk = sizes[(sizes < 3) | (distinct < 2)].sum()
        assert (risk.k, risk.l, risk.classes) == (sizes.min(), distinct.min(), len(sizes))
        assert risk.rows_at_risk == at_risk


def test_tallies_of_chunks_merge_to_the_whole_tables_classes():
    from audit.auditors.masking.risk import risk_of, tally_classes

    rng = np.random.default_rng(9)
    frame = pd.DataFrame(
        {
            "zip": rng.choice(["941", "100", "", None], 500),
            "year": rng.integers(1950, 1960, 500),
            "dx": rng.choice(["flu", "cold", None, ""], 500),
        }
    )
    whole = measure_risk(frame, ["zip", "year"], "dx", k_target=4, l_target=2)
    cuts = [0, 7, 130, 131, 400, 500]
    tallies = [
        tally_classes(frame.iloc[a:b], ["zip", "year"], "dx") for a, b in itertools.pairwise(cuts)
    ]
    merged = tallies[3].merge(tallies[0]).merge(tallies[4].merge(tallies[1])).merge(tallies[2])
    assert risk_of(merged, k_target=4, l_target=2) == whole
