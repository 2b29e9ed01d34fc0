"""Proxies are scored on the rows whose sensitive value is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from audit.auditors.explanations.proxies import score_proxies


def _proxy_score(data: pd.DataFrame):
    (found,) = score_proxies(data, ["sex"], ["proxy"], auc_threshold=0.75, max_rows=20_000, seed=0)
    return found


def test_missing_sensitive_values_do_not_hide_a_proxy(synthetic):
    # The planted proxy agrees with sex on 90% of rows: its AUC is about 0.9.
    known = synthetic["sex"] == "F"
    expected = roc_auc_score(known, synthetic["proxy"] == "a")
    clean = _proxy_score(synthetic)
    assert abs(clean.probe_auc - expected) < 0.02 and clean.is_proxy
    # A third of the rows lose their sex: counted as a class of its own, "missing" would
    # be unpredictable from the proxy and pull the averaged AUC to about 0.75.
    holes = synthetic.copy()
    holes.loc[np.arange(len(holes)) % 3 == 0, "sex"] = None
    rest = holes["sex"].notna()
    found = _proxy_score(holes)
    assert abs(found.probe_auc - roc_auc_score(known[rest], holes["proxy"][rest] == "a")) < 0.03
    assert found.is_proxy


def test_a_sensitive_column_without_values_finds_no_proxy_and_does_not_fail(synthetic):
    empty = synthetic.assign(sex=None)
    found = _proxy_score(empty)
    assert found.probe_auc is None and not found.is_proxy
    assert found.mutual_information == 0.0 and found.normalised_mi is None


def test_a_number_zero_in_most_rows_is_a_proxy_when_its_other_values_mark_a_group():
    # 8% of the rows belong to group "yes" and only they have a non-zero amount: the
    # amount recovers the group exactly, though it is 0 in 92% of rows.
    rng = np.random.default_rng(5)
    n = 2000
    member = rng.random(n) < 0.08
    amount = np.where(member, rng.uniform(100, 5000, size=n).round(), 0.0)
    data = pd.DataFrame({"group": np.where(member, "yes", "no"), "amount": amount})
    assert data["amount"].nunique() > 20
    (found,) = score_proxies(
        data, ["group"], ["amount"], auc_threshold=0.75, max_rows=20_000, seed=0
    )
    assert found.probe_auc > 0.99 and found.is_proxy
    assert found.normalised_mi > 0.99
