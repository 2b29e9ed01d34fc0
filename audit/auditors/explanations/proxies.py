"""Proxies: columns that predict a sensitive column, by mutual information and a probe's AUC.

Each candidate column is discretised (categories as they are, numbers in up to ten
quantile bins, missing values as their own bin).  The probe is a cross-fitted
histogram classifier: the sensitive column's distribution in each bin, estimated on
one half of the rows (add-one smoothing), predicts the other half; its AUC (one
versus rest, averaged over the sensitive groups) says how well the column alone
recovers the sensitive attribute.  Rows whose sensitive value is missing (NaN, None,
a blank string) are left out of both measures: a missing value is not a value of the
attribute, and counting it as one more class would pull the averaged AUC towards 0.5
and hide a proxy.  No model call is made.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.metrics import mutual_info_score, roc_auc_score

from audit.auditors.explanations.columns import is_numeric
from audit.core.groups import encode_values

__all__ = ["ProxyScore", "discretise", "score_proxies"]

IntArray = npt.NDArray[np.int64]

_BINS = 10


@dataclass(frozen=True)
class ProxyScore:
    """How much one column tells about one sensitive column."""

    sensitive: str
    column: str
    mutual_information: float
    """In nats."""
    normalised_mi: float | None
    """Mutual information over the sensitive column's entropy (0: nothing, 1: all of it)."""
    probe_auc: float | None
    """Cross-fitted AUC of predicting the sensitive column from this column alone."""
    is_proxy: bool


def discretise(values: pd.Series) -> IntArray:
    """Integer codes: categories, or quantile bins for numbers with many values; NaN last.

    Bins are closed on the right, as :func:`pandas.qcut` makes them; a value held by
    more than a tenth of the rows is an edge of several deciles and ends the bin it is
    in, so the rows above it keep a bin of their own.  (``pandas.qcut`` with duplicate
    edges dropped would merge them: a column that is 0 in 95% of rows would become a
    single bin, and a proxy that is non-zero exactly for a small group would be lost.)

    Examples
    --------
    >>> codes = discretise(pd.Series([0.0] * 95 + list(range(1, 26))))
    >>> set(codes[:95].tolist()), int(codes[95:].min())
    ({0}, 1)
    """
    if is_numeric(values) and values.nunique(dropna=True) > 2 * _BINS:
        numbers = values.astype(float).to_numpy()
        present = numbers[~np.isnan(numbers)]
        inner = np.unique(np.quantile(present, np.arange(1, _BINS) / _BINS))
        codes = np.asarray(np.searchsorted(inner, numbers, side="left"), dtype=np.int64)
        codes[np.isnan(numbers)] = -1
    else:
        codes = np.asarray(pd.factorize(values, use_na_sentinel=True)[0], dtype=np.int64)
    codes = codes.copy()
    codes[codes < 0] = codes.max() + 1 if len(codes) else 0
    return codes


def _probe_auc(feature: IntArray, target: IntArray, seed: int) -> float | None:
    n_bins, n_classes = int(feature.max()) + 1, int(target.max()) + 1
    if n_classes < 2:
        return None
    fold = np.random.default_rng(seed).permutation(len(feature)) % 2
    scores = np.zeros((len(feature), n_classes), dtype=np.float64)
    for k in (0, 1):
        fit, apply = fold != k, fold == k
        table = np.ones((n_bins, n_classes), dtype=np.float64)
        np.add.at(table, (feature[fit], target[fit]), 1.0)
        table /= table.sum(axis=1, keepdims=True)
        scores[apply] = table[feature[apply]]
    present = np.unique(target)
    if len(present) < 2:
        return None
    try:
        if n_classes == 2:
            return float(roc_auc_score(target, scores[:, 1]))
        labels = np.arange(n_classes)
        aucs = [
            roc_auc_score(target == c, scores[:, c])
            for c in labels
            if 0 < (target == c).sum() < len(target)
        ]
        return float(np.mean(aucs)) if aucs else None
    except ValueError:
        return None


def score_proxies(
    data: pd.DataFrame,
    sensitive: Sequence[str],
    candidates: Sequence[str],
    *,
    auc_threshold: float,
    max_rows: int,
    seed: int,
) -> list[ProxyScore]:
    """Score every candidate column against every sensitive column.

    Parameters
    ----------
    data:
        The audited rows; at most ``max_rows`` of them (a seeded sample) are used.
    sensitive:
        Sensitive columns present in ``data``; rows missing a column's value are left
        out when scoring against it.
    candidates:
        Model input columns that are not sensitive.
    auc_threshold:
        Probe AUC from which a column is reported as a proxy.
    max_rows:
        Most rows used.
    seed:
        Seed of the row sample and of the probe's folds.
    """
    if len(data) > max_rows:
        data = data.sample(n=max_rows, random_state=seed)
    out: list[ProxyScore] = []
    for s in sensitive:
        codes, values, _ = encode_values(data[s])  # missing: NaN, None, blank strings
        known = data.loc[codes < len(values)]
        target = discretise(known[s].astype(object))
        counts = np.bincount(target).astype(np.float64)
        p = counts[counts > 0] / counts.sum() if len(target) else counts
        entropy = float(-(p * np.log(p)).sum())
        for column in candidates:
            feature = discretise(known[column])
            mi = float(mutual_info_score(target, feature)) if len(target) else 0.0
            auc = _probe_auc(feature, target, seed) if len(target) else None
            out.append(
                ProxyScore(
                    sensitive=s,
                    column=column,
                    mutual_information=mi,
                    normalised_mi=mi / entropy if entropy > 0 else None,
                    probe_auc=auc,
                    is_proxy=auc is not None and auc >= auc_threshold,
                )
            )
    return out
