"""assert_audit_passes: a passing audit returns its result, a failing one lists its findings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audit.testing import assert_audit_passes


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"sex": rng.choice(["F", "M"], 2000), "x": rng.normal(size=2000)})
    frame["y"] = (frame["x"] > 0).astype(int)
    return frame


def _audit(data, model, **extra):
    return assert_audit_passes(
        model=model, data=data, policy="four-fifths", target="y", positive_label=1,
        sensitive=["sex"], features=["x", "sex"], **extra,
    )  # fmt: skip


def test_a_fair_model_passes_and_its_reports_are_written_on_request(data, tmp_path):
    result = _audit(data, lambda f: (f["x"] > 0).astype(int), out=tmp_path)
    assert result.passed
    assert (tmp_path / "report.html").is_file() and (tmp_path / "report.json").is_file()


def test_a_biased_model_fails_the_test_naming_each_finding(data):
    def biased(frame: pd.DataFrame) -> np.ndarray:
        return ((frame["x"] > 0) & (frame["sex"] == "M")).astype(int).to_numpy()

    with pytest.raises(AssertionError) as failed:
        _audit(data, biased)
    message = str(failed.value)
    assert message.startswith("audit verdict FAIL")
    assert "- FAIL four-fifths-selection-rate (blocking)" in message
