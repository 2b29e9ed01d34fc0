"""Bad input gives reasons, never crashes."""

import pandas as pd
import pytest

from audit import run_audit
from audit.auditors.masking import MaskingAuditor, MaskingConfig
from audit.auditors.masking.config import CustomPattern
from audit.core.context import AuditContext
from audit.errors import DataError, PolicyError


def _run(frame, **config):
    return MaskingAuditor().run(AuditContext(data=frame), MaskingConfig(**config))


def test_binary_junk_and_mixed_types_are_scanned_as_text():
    frame = pd.DataFrame(
        {"blob": [b"\xff\xfe\x00junk", "mail jane@example.com", 42, None, "\udcff bad"]}
    )
    output = _run(frame)
    assert output.find("unmasked_pii_cells")[0].value == 1
    assert any("bytes or non-text" in w for w in output.warnings)


def test_huge_cells_are_scanned_up_to_the_limit():
    frame = pd.DataFrame({"text": ["x" * 200_000 + " jane@example.com", "jane@example.com"]})
    output = _run(frame, max_cell_chars=1_000)
    assert output.find("unmasked_pii_cells")[0].value == 1
    assert any("longer than 1000" in w for w in output.warnings)


def test_empty_table_gives_reasons():
    output = _run(pd.DataFrame({"email": pd.Series([], dtype=object)}))
    data_metrics = [m for m in output.metrics if m.metric != "output_pii_findings"]
    assert all(m.value is None and m.reason == "the data has no rows" for m in data_metrics)
    (probes,) = output.find("output_pii_findings")  # probes need no data, only a policy
    assert probes.value is None and "no probes" in probes.reason


def test_non_utf8_csv_is_a_one_line_data_error(tmp_path, policy_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("name,city\nJos\xe9,M\xfcnchen\n".encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8"):
        run_audit(data=path, policy=policy_path)


def test_config_errors_say_what_is_wrong():
    with pytest.raises(ValueError, match="not a valid RE2 pattern"):
        CustomPattern(name="X", regex=r"(?<=a)b")
    with pytest.raises(ValueError, match="unknown entity 'PASSPORT'"):
        MaskingConfig(rules=[{"id": "p", "entity": "PASSPORT", "treatment": "drop"}])
    with pytest.raises(ValueError, match="duplicate rule id 'a'"):
        MaskingConfig(rules=[{"id": "a", "columns": ["x"], "treatment": "drop"}] * 2)
    with pytest.raises(ValueError, match="names neither columns nor an entity"):
        MaskingConfig(rules=[{"id": "a", "treatment": "drop"}])


def test_bad_settings_in_a_policy_name_the_line(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(
        "name: p\nversion: '1'\nauditors:\n  masking:\n    k_target: 0\nrequirements:\n"
        "  - {id: k, title: k, citation: c, auditor: masking, metric: k_anonymity,"
        " compare: at_least, threshold: 5}\n"
    )
    with pytest.raises(PolicyError, match="k_target"):
        run_audit(data=pd.DataFrame({"a": [1]}), policy=path)
