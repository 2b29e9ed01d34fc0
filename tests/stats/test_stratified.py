"""Cochran-Mantel-Haenszel, the common odds ratio and Breslow-Day: closed forms and a
published worked example."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import chi2, chi2_contingency

from audit.stats import mantel_haenszel

# Lung cancer and smoking in eight Chinese cities (Agresti, An Introduction to
# Categorical Data Analysis, Table 3.3; from Liu, 1992): per city, smokers
# [cases, controls], then non-smokers [cases, controls].
CHINA = np.array(
    [
        [[126, 100], [35, 61]],
        [[908, 688], [497, 807]],
        [[913, 747], [336, 598]],
        [[235, 172], [58, 121]],
        [[402, 308], [121, 215]],
        [[182, 156], [72, 98]],
        [[60, 99], [11, 43]],
        [[104, 89], [21, 36]],
    ]
)


def test_published_sas_values_of_the_chinese_smoking_data():
    # SAS PROC FREQ output of Stanford ED257's handout for this table:
    # CMH 280.138; Mantel-Haenszel common odds ratio 2.174; Breslow-Day 5.200, p 0.636.
    result = mantel_haenszel(CHINA)
    assert round(result.cmh_statistic, 3) == 280.138
    assert round(result.common_odds_ratio, 3) == 2.174
    assert round(result.breslow_day_statistic, 3) == 5.200
    assert round(result.breslow_day_p_value, 3) == 0.636
    assert result.strata_used == 8 and result.strata_left_out == 0


def _cmh(tables):
    a, b, c, d = (tables[:, i, j].astype(float) for i, j in ((0, 0), (0, 1), (1, 0), (1, 1)))
    t = a + b + c + d
    expected = (a + b) * (a + c) / t
    variance = (a + b) * (c + d) * (a + c) * (b + d) / (t * t * (t - 1))
    return (a - expected).sum() ** 2 / variance.sum()


def _breslow_day(tables, odds_ratio):
    total = 0.0
    for (a, b), (c, d) in tables.astype(float):
        rows1, cols1, t = a + b, a + c, a + b + c + d
        # expected a under the common odds ratio: the root of a quadratic in the margins
        q_a = 1 - odds_ratio
        q_b = (t - rows1 - cols1) + odds_ratio * (rows1 + cols1)
        q_c = -odds_ratio * rows1 * cols1
        roots = [(-q_b + s * math.sqrt(q_b * q_b - 4 * q_a * q_c)) / (2 * q_a) for s in (1, -1)]
        low, high = max(0.0, rows1 + cols1 - t), min(rows1, cols1)
        e = next(r for r in roots if low <= r <= high)
        variance = 1 / (1 / e + 1 / (rows1 - e) + 1 / (cols1 - e) + 1 / (t - rows1 - cols1 + e))
        total += (a - e) ** 2 / variance
    return total


def test_statistics_equal_their_closed_forms():
    result = mantel_haenszel(CHINA, confidence_level=0.9)
    a, b, c, d = (CHINA[:, i, j].astype(float) for i, j in ((0, 0), (0, 1), (1, 0), (1, 1)))
    t = a + b + c + d
    mh = (a * d / t).sum() / (b * c / t).sum()
    assert result.common_odds_ratio == pytest.approx(mh, abs=1e-9)
    statistic = _cmh(CHINA)
    assert result.cmh_statistic == pytest.approx(statistic, abs=1e-9)
    assert result.cmh_p_value == pytest.approx(chi2.sf(statistic, 1), abs=1e-12)
    bd = _breslow_day(CHINA, mh)
    assert result.breslow_day_statistic == pytest.approx(bd, abs=1e-9)
    assert result.breslow_day_p_value == pytest.approx(chi2.sf(bd, len(CHINA) - 1), abs=1e-9)
    assert result.odds_ratio_low < mh < result.odds_ratio_high


def test_robins_breslow_greenland_interval():
    result = mantel_haenszel(CHINA, confidence_level=0.95)
    a, b, c, d = (CHINA[:, i, j].astype(float) for i, j in ((0, 0), (0, 1), (1, 0), (1, 1)))
    t = a + b + c + d
    p, q, r, s = (a + d) / t, (b + c) / t, a * d / t, b * c / t
    variance = (
        (p * r).sum() / (2 * r.sum() ** 2)
        + (p * s + q * r).sum() / (2 * r.sum() * s.sum())
        + (q * s).sum() / (2 * s.sum() ** 2)
    )
    log_or = math.log(r.sum() / s.sum())
    half = 1.959963984540054 * math.sqrt(variance)
    assert result.odds_ratio_low == pytest.approx(math.exp(log_or - half), abs=1e-9)
    assert result.odds_ratio_high == pytest.approx(math.exp(log_or + half), abs=1e-9)


def test_strata_without_information_are_left_out_and_counted():
    tables = np.concatenate([CHINA, [[[0, 5], [0, 7]], [[3, 0], [4, 0]], [[0, 0], [2, 3]]]])
    result = mantel_haenszel(tables)
    assert result.strata_left_out == 3
    assert result.cmh_statistic == pytest.approx(mantel_haenszel(CHINA).cmh_statistic, abs=1e-9)


def test_no_informative_stratum_gives_none():
    assert mantel_haenszel([[[0, 5], [0, 7]]]) is None


def test_wrong_shape_is_refused():
    with pytest.raises(ValueError, match="shape"):
        mantel_haenszel(np.zeros((3, 2, 3)))


def test_breslow_day_is_undefined_with_one_stratum():
    table = [[10, 20], [20, 10]]
    result = mantel_haenszel([table])
    assert result.strata_used == 1
    assert math.isnan(result.breslow_day_statistic)
    assert math.isnan(result.breslow_day_p_value)
    # one stratum: CMH is Pearson's chi-squared scaled by (n - 1) / n, and the MH ratio is ad/bc
    pearson = chi2_contingency(table, correction=False).statistic
    assert result.cmh_statistic == pytest.approx(pearson * 59 / 60, rel=1e-12)
    assert result.common_odds_ratio == pytest.approx(10 * 10 / (20 * 20), rel=1e-12)
