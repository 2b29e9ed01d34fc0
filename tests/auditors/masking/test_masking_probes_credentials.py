"""Probes go to a URL the policy chose: they never carry the user's credentials."""

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from audit.auditors.masking.config import ProbeConfig
from audit.auditors.masking.patterns import recognizers_for
from audit.auditors.masking.probes import run_probes
from audit.core.protocols import Predictions
from audit.testing.endpoint import serve_model

TOKEN = "tok-91c2e7-probe-never-sees-it"


def test_a_policy_may_not_name_credential_variables():
    with pytest.raises(ValidationError, match="a policy may not send credentials") as caught:
        ProbeConfig(
            endpoint="http://127.0.0.1:9/v1",
            prompts=["hi"],
            header_env={"X-Env": "MAAS_AUDIT_SIGNING_KEY"},
        )
    assert "MAAS_AUDIT_SIGNING_KEY" in str(caught.value)


def _echo_text(rows: pd.DataFrame) -> Predictions:
    return Predictions(labels=np.asarray(["no personal data here"] * len(rows), dtype=object))


@pytest.mark.parametrize("path", ["/invocations", "/v2/models/model/infer"])
def test_served_probes_carry_no_maas_audit_token(path, monkeypatch):
    # The server wants the token: the probe is refused (401), because none was sent.
    monkeypatch.setenv("MAAS_AUDIT_TOKEN", TOKEN)
    with serve_model(_echo_text, require_token=TOKEN) as served:
        probes = ProbeConfig(endpoint=served.base_url + path, prompts=["hi"], max_retries=0)
        refused = run_probes(probes, None, recognizers_for(None), max_chars=1000)
    with serve_model(_echo_text) as served:
        probes = ProbeConfig(endpoint=served.base_url + path, prompts=["hi"], max_retries=0)
        answered = run_probes(probes, None, recognizers_for(None), max_chars=1000)

    assert refused.error is not None and "HTTP 401" in refused.error
    assert "credential headers sent: none" in refused.error
    assert answered.error is None and answered.sent == 1
