"""The audit rows cut into a seeded training split and a holdout, and the data's hash."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["Split", "data_sha256", "split_rows"]

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class Split:
    """Row positions of the training split (members) and of the holdout (non-members)."""

    train: IntArray
    holdout: IntArray


def split_rows(n_rows: int, *, holdout_fraction: float, max_rows: int, seed: int) -> Split:
    """A seeded random split of ``range(n_rows)``, first sampled down to ``max_rows``.

    Examples
    --------
    >>> split = split_rows(10, holdout_fraction=0.3, max_rows=100, seed=0)
    >>> len(split.train), len(split.holdout)
    (7, 3)
    """
    rng = np.random.default_rng(np.random.SeedSequence([abs(int(seed)), 3]))
    order = rng.permutation(n_rows)[: min(n_rows, max_rows)]
    n_holdout = max(1, round(len(order) * holdout_fraction))
    return Split(
        train=np.sort(order[n_holdout:]).astype(np.int64),
        holdout=np.sort(order[:n_holdout]).astype(np.int64),
    )


def data_sha256(frame: pd.DataFrame) -> str:
    """SHA-256 (hex) of a frame's column names and values, row order included."""
    digest = hashlib.sha256("\0".join(str(c) for c in frame.columns).encode())
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy(dtype=np.uint64)
    digest.update(hashed.tobytes())
    return digest.hexdigest()
