"""The runner's data-only path: no model, nothing scored, roles and outcomes absent."""

import pandas as pd
import pytest

from audit import run_audit
from audit.core.context import AuditContext
from audit.errors import DataError


def test_a_data_only_context_says_why_it_has_no_outcomes():
    context = AuditContext(data=pd.DataFrame({"a": [1]}))
    assert not context.has_model
    with pytest.raises(RuntimeError, match="data-only audit"):
        _ = context.outcomes
    with pytest.raises(AttributeError, match="read-only"):
        context.seed = 3


def test_roles_and_outcomes_come_with_a_model():
    with pytest.raises(ValueError, match="together"):
        AuditContext(data=pd.DataFrame(), roles=object(), model=object())  # type: ignore[arg-type]
    context = AuditContext(data=pd.DataFrame(), model=object())  # type: ignore[arg-type]
    assert context.has_model and not context.has_outcomes  # a model that scored nothing


def test_a_model_without_a_target_scores_nothing_in_a_data_only_audit(policy_path):
    # the model is there for the auditors to reach (probes), never to decide the rows
    frame = pd.DataFrame({"a": [1, 0]})
    result = run_audit(model="column:a", data=frame, policy=policy_path)
    assert result.model["scoring"] == "none"
    assert result.model["kind"] == "column"


def test_a_model_audit_still_needs_a_target():
    with pytest.raises(DataError, match="--target"):
        run_audit(model="column:a", data=pd.DataFrame({"a": [1]}), policy="four-fifths")


def test_a_model_without_a_target_runs_on_the_pandas_engine_only(policy_path, tmp_path):
    path = tmp_path / "t.parquet"
    pd.DataFrame({"a": [1, 0]}).to_parquet(path)
    with pytest.raises(DataError, match="pandas engine"):
        run_audit(model="column:a", data=path, policy=policy_path, engine="chunked")
