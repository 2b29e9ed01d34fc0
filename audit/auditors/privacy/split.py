"""The audit rows cut into a seeded training split and a holdout, and the data's hash."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["Split", "data_sha256", "holdout_size", "split_rows"]

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class Split:
    """Row positions of the training split (members) and of the holdout (non-members).

    Attributes
    ----------
    train, holdout:
        Sorted row positions.
    holdout_unseen:
        Whether the audited model never saw the holdout's rows: ``True`` when its
        membership is known and the holdout holds none of its training rows, ``False``
        when it holds some, ``None`` when its membership is not known.
    """

    train: IntArray
    holdout: IntArray
    holdout_unseen: bool | None = None


def holdout_size(n_rows: int, *, holdout_fraction: float, max_rows: int) -> int:
    """Rows of the holdout :func:`split_rows` plans, before membership can shrink it.

    >>> holdout_size(10, holdout_fraction=0.3, max_rows=100)
    3
    """
    return max(1, round(min(n_rows, max_rows) * holdout_fraction))


def split_rows(
    n_rows: int,
    *,
    holdout_fraction: float,
    max_rows: int,
    seed: int,
    audited_members: npt.NDArray[np.bool_] | None = None,
) -> Split:
    """A seeded random split of ``range(n_rows)``, first sampled down to ``max_rows``.

    With ``audited_members`` (true on the rows the audited model was trained on), the
    holdout is drawn from the other rows only, so that utility on it is utility on rows
    the audited model never saw; when there are fewer of them than the holdout's share,
    the holdout is all of them.  With fewer than two (the attack needs two non-members),
    the split is as without membership and :attr:`Split.holdout_unseen` is ``False``.

    Examples
    --------
    >>> split = split_rows(10, holdout_fraction=0.3, max_rows=100, seed=0)
    >>> len(split.train), len(split.holdout), split.holdout_unseen
    (7, 3, None)
    >>> member = np.arange(10) < 8
    >>> split = split_rows(10, holdout_fraction=0.3, max_rows=100, seed=0, audited_members=member)
    >>> split.holdout.tolist(), split.holdout_unseen
    ([8, 9], True)
    """
    rng = np.random.default_rng(np.random.SeedSequence([abs(int(seed)), 3]))
    order = rng.permutation(n_rows)[: min(n_rows, max_rows)]
    n_holdout = holdout_size(n_rows, holdout_fraction=holdout_fraction, max_rows=max_rows)
    unseen: bool | None = None
    if audited_members is not None:
        member = np.asarray(audited_members, dtype=bool)[order]
        unseen = int((~member).sum()) >= 2
        if unseen:
            # non-members first, each side in its seeded order: the holdout takes the first
            order = np.concatenate([order[~member], order[member]])
            n_holdout = min(n_holdout, int((~member).sum()))
    return Split(
        train=np.sort(order[n_holdout:]).astype(np.int64),
        holdout=np.sort(order[:n_holdout]).astype(np.int64),
        holdout_unseen=unseen,
    )


def data_sha256(frame: pd.DataFrame) -> str:
    """SHA-256 (hex) of a frame's column names and values, row order included."""
    digest = hashlib.sha256("\0".join(str(c) for c in frame.columns).encode())
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy(dtype=np.uint64)
    digest.update(hashed.tobytes())
    return digest.hexdigest()
