"""p-values in sentences: three decimals, never across the level they are judged by."""

from __future__ import annotations

import pytest

from audit.core.readings import decimals_apart, p_value_text


@pytest.mark.parametrize(
    ("p_value", "level", "shown"),
    [
        (0.0312, None, "p = 0.031"),
        (0.00002, None, "p < 0.001"),
        (0.0009999, None, "p < 0.001"),
        (0.001, None, "p = 0.001"),
        (1.0, 0.05, "p = 1.000"),
        (0.0497, 0.05, "p = 0.0497"),  # 0.050 would read as not below 0.05
        (0.05003, 0.05, "p = 0.050"),  # on the level: not significant, as the words say
        (0.0104, 0.01, "p = 0.010"),  # rounds onto the level from above: still not below it
        (0.00996, 0.01, "p = 0.00996"),
        (0.0004, 0.0005, "p = 0.0004"),  # below 0.001 with a smaller level: the value itself
        (0.00049, 0.0005, "p = 0.00049"),
        (2e-9, 1e-8, "p = 2.0e-09"),
        (0.0, 0.0005, "p = 0.000"),
    ],
)
def test_the_shown_value_is_on_the_same_side_of_the_level(
    p_value: float, level: float | None, shown: str
) -> None:
    text = p_value_text(p_value, level)
    assert text == shown
    if level is not None and text.startswith("p = "):
        assert (float(text[4:]) < level) == (p_value < level)


@pytest.mark.parametrize(
    ("value", "threshold", "decimals", "apart"),
    [
        (0.7996, 0.8, 3, 4),  # 0.800 would read as the threshold
        (0.79996, 0.8, 2, 5),
        (0.71, 0.8, 3, 3),
        (0.8 - 1e-12, 0.8, 3, 9),  # closer than 1e-9: as far as it goes
        (1.2004, 1.2, 2, 4),  # a maximum exceeded
    ],
)
def test_decimals_apart_tell_a_value_from_its_threshold(
    value: float, threshold: float, decimals: int, apart: int
) -> None:
    assert decimals_apart(value, threshold, decimals) == apart
    if apart < 9:
        assert f"{value:.{apart}f}" != f"{threshold:.{apart}f}"
