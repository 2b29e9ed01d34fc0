"""An audit in a real Jupyter kernel (nbclient): the result displays as a compact summary."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

REPO = Path(__file__).resolve().parents[2]
CELLS = [
    f"import sys; sys.path.insert(0, {str(REPO)!r})",
    """
import numpy as np, pandas as pd
from audit import run_audit
rng = np.random.default_rng(0)
data = pd.DataFrame({"sex": rng.choice(["F", "M"], 2000), "x": rng.normal(size=2000)})
data["y"] = (data["x"] > 0).astype(int)
result = run_audit(model=lambda frame: (frame["x"] > 0.1).astype(int), data=data,
                   policy="four-fifths", target="y", positive_label=1, sensitive=["sex"],
                   features=["x"])
result
""",
    "result.raise_for_verdict()",
    """
biased = run_audit(model=lambda f: ((f["x"] > 0) & (f["sex"] == "M")).astype(int), data=data,
                   policy="four-fifths", target="y", positive_label=1, sensitive=["sex"],
                   features=["x", "sex"])
biased.raise_for_verdict()
""",
]


@pytest.mark.slow
def test_the_result_shows_as_a_compact_html_summary_in_a_notebook():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    client = nbclient.NotebookClient(
        notebook, timeout=300, kernel_name="python3", allow_errors=True
    )
    client.execute()
    (shown,) = [o for o in notebook.cells[1].outputs if o.output_type == "execute_result"]
    html = shown.data["text/html"]
    assert 'class="maas-audit-summary"' in html
    assert "four-fifths" in html.lower() and "<table" in html
    assert len(html) < 20_000  # a summary, not the whole report
    # raise_for_verdict is quiet on a passing audit and raises AuditFailed on a failing one
    assert not [o for o in notebook.cells[2].outputs if o.output_type == "error"]
    (raised,) = [o for o in notebook.cells[3].outputs if o.output_type == "error"]
    assert raised.ename == "AuditFailed" and "four-fifths" in raised.evalue
