"""k-anonymity and l-diversity."""

import pandas as pd

from audit.auditors.masking import MaskingAuditor, MaskingConfig
from audit.auditors.masking.risk import measure_risk
from audit.core.context import AuditContext


def test_k_l_and_rows_at_risk():
    frame = pd.DataFrame(
        {
            "zip": ["941"] * 5 + ["100"] * 2,
            "sex": ["F"] * 7,
            "diagnosis": ["flu", "flu", "cold", "flu", "flu", "flu", "flu"],
        }
    )
    risk = measure_risk(frame, ["zip", "sex"], "diagnosis", k_target=5, l_target=2)
    assert (risk.k, risk.l, risk.classes, risk.classes_below_k) == (2, 1, 2, 1)
    assert risk.rows_at_risk == 2
    assert dict((b, (c, r)) for b, c, r in risk.histogram)["2"] == (1, 2)


def test_missing_values_form_their_own_class():
    frame = pd.DataFrame({"zip": ["941", None, None], "sex": ["F", "F", "F"]})
    risk = measure_risk(frame, ["zip", "sex"], None, k_target=2, l_target=1)
    assert (risk.k, risk.l, risk.rows_at_risk) == (1, None, 1)


def test_missing_quasi_identifier_is_a_reason_not_a_crash():
    config = MaskingConfig(quasi_identifiers=["zip", "age"])
    output = MaskingAuditor().run(AuditContext(data=pd.DataFrame({"zip": ["1"]})), config)
    (k,) = output.find("k_anonymity")
    assert k.value is None and "'age'" in k.reason
