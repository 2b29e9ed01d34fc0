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


def test_roles_outcomes_and_model_come_together():
    with pytest.raises(ValueError, match="together"):
        AuditContext(data=pd.DataFrame(), model=object())  # type: ignore[arg-type]


def test_a_model_still_needs_a_target(policy_path):
    with pytest.raises(DataError, match="--target"):
        run_audit(model="column:a", data=pd.DataFrame({"a": [1]}), policy=policy_path)
