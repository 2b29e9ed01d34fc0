"""Reliance on sensitive columns and proxies is found where it exists, and only there."""

from __future__ import annotations

import numpy as np

from .conftest import logistic, make_context, metric, rows, run, score_adapter, table

FEATURES = ["x", "z", "colour", "sex", "proxy"]


def _with_sex(rows):
    return logistic(rows["x"].to_numpy() + 1.5 * (rows["sex"] == "F").to_numpy())


def _without_sex(rows):
    return logistic(rows["x"].to_numpy() + 0.5 * rows["z"].to_numpy())


def _through_proxy(rows):
    return logistic(rows["x"].to_numpy() + 1.5 * (rows["proxy"] == "a").to_numpy())


def test_reliance_on_the_sensitive_column_is_detected_only_when_used(synthetic):
    settings = {"n_rows": 80, "repeats": 1, "compare_with": "none", "adverse_per_group": 2}
    uses = run(
        make_context(
            synthetic, score_adapter(_with_sex, "uses sex"), features=FEATURES, sensitive=["sex"]
        ),
        **settings,
    )
    ignores = run(
        make_context(
            synthetic,
            score_adapter(_without_sex, "ignores sex"),
            features=FEATURES,
            sensitive=["sex"],
        ),
        **settings,
    )
    used = metric(uses, "sensitive_attribution_share", ("sex",))
    unused = metric(ignores, "sensitive_attribution_share", ("sex",))
    assert used.value is not None and used.value > 0.2
    # One baseline row: the group holding the baseline's sex gets no attribution on sex,
    # the other group carries it; at_most requirements judge the highest group.
    assert max(g.value for g in used.groups) > 0.4
    assert min(g.value for g in used.groups) < 1e-9
    assert unused.value is not None and unused.value < 1e-9
    assert table(uses, "Global importance")["sex"][5] == "sensitive"


def test_a_planted_proxy_is_found_and_its_share_measured(synthetic):
    settings = {"n_rows": 80, "repeats": 1, "compare_with": "none"}
    output = run(
        make_context(
            synthetic, score_adapter(_through_proxy, "proxy"), features=FEATURES, sensitive=["sex"]
        ),
        **settings,
    )
    proxies = rows(output, "Proxies of sensitive columns")
    (row,) = [r for r in proxies if r[1] == "proxy"]
    assert row[4] > 0.85 and row[5] == "yes"
    assert all(r[5] == "no" for r in proxies if r[1] != "proxy")
    share = metric(output, "proxy_attribution_share", ("sex",))
    assert share.value is not None and share.value > 0.2
    assert "Proxies: proxy." in share.description
    assert metric(output, "sensitive_attribution_share", ("sex",)).value < 1e-9


def test_top_k_agreement_is_measured_per_group(synthetic):
    output = run(
        make_context(
            synthetic,
            score_adapter(_without_sex, "m"),
            features=FEATURES,
            sensitive=["sex", "colour"],
        ),
        n_rows=120,
        repeats=1,
        top_k=2,
    )
    for grouping in (("sex",), ("colour",), ("sex", "colour")):
        agreement = metric(output, "top_k_agreement_across_groups", grouping)
        assert agreement.value == 1.0
        assert {g.group for g in agreement.groups}
    assert np.isfinite(metric(output, "attribution_stability", ()).value)
