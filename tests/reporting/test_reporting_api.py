"""The public surface of audit.reporting is exactly these names."""

from __future__ import annotations

import audit.reporting as reporting


def test_all_is_the_public_api():
    assert sorted(reporting.__all__) == [
        "render_html",
        "result_to_dict",
        "write_atomic",
        "write_html",
        "write_json",
    ]
    for name in reporting.__all__:
        assert callable(getattr(reporting, name))
        assert getattr(reporting, name).__doc__
