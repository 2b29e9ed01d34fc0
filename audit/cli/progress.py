"""Progress bars on standard error, shown only on a terminal."""

from __future__ import annotations

import sys

from tqdm import tqdm

from audit.core.context import ProgressBar

__all__ = ["terminal_progress"]


class _TqdmBar(ProgressBar):
    def __init__(self, description: str, total: int) -> None:
        self._bar = tqdm(total=total, desc=description, file=sys.stderr, disable=None, leave=False)

    def update(self, n: int = 1) -> None:
        self._bar.update(n)

    def close(self) -> None:
        self._bar.close()


def terminal_progress(description: str, total: int) -> ProgressBar:
    """A tqdm bar on standard error; silent when standard error is not a terminal."""
    return _TqdmBar(description, total)
