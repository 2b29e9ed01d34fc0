"""Helpers for policy tests: small valid policies written to temporary folders."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

REQUIREMENT = """\
  - id: {id}
    title: Selection rates
    citation: 29 CFR 1607.4(D)
    auditor: fairness
    metric: selection_rate
    compare: ratio_to_max
    threshold: {threshold}
"""


def policy_text(
    *ids: str, name: str = "p", threshold: float = 0.8, extends: str | None = None
) -> str:
    head = f'name: {name}\nversion: "1"\n'
    if extends is not None:
        head += f"extends: {extends}\n"
    if not ids:
        return head
    body = "".join(REQUIREMENT.format(id=i, threshold=threshold) for i in ids)
    return head + "requirements:\n" + body


@pytest.fixture(name="policy_text")
def policy_text_fixture() -> Callable[..., str]:
    """The :func:`policy_text` builder."""
    return policy_text


@pytest.fixture
def write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str | bytes], Path]:
    """Write a file under tmp_path (the working directory) and return its relative path."""
    monkeypatch.chdir(tmp_path)

    def _write(name: str, content: str | bytes) -> Path:
        path = Path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return _write
