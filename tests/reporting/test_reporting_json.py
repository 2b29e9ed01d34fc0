"""The JSON report: stable shape, every number, nothing that is not plain JSON."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from enum import Enum
from pathlib import Path

import numpy as np
import pytest
from pydantic import BaseModel

from audit.core.findings import Finding
from audit.core.measurements import AuditorOutput, EvidenceTable, GroupValue, MetricResult
from audit.core.provenance import Provenance
from audit.core.result import PolicySummary, RequirementSummary
from audit.reporting import result_to_dict, write_json
from audit.reporting.json import SCHEMA, SCHEMA_VERSION, to_jsonable

TOP_KEYS = [
    "schema",
    "schema_version",
    "verdict",
    "passed",
    "policy",
    "findings",
    "auditors",
    "model",
    "data",
    "details",
    "sections",
    "provenance",
]
METRIC_KEYS = [
    "metric",
    "grouping",
    "value",
    "confidence_level",
    "reason",
    "description",
    "groups",
]
GROUP_KEYS = ["group", "count", "value", "ci_low", "ci_high", "status", "note"]
AUDITOR_KEYS = [
    "auditor",
    "method",
    "limitations",
    "warnings",
    "failure",
    "config",
    "metrics",
    "tables",
    "charts",
]


def _walk(value):
    yield value
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str)
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def test_top_level_shape_is_stable(sample_result):
    report = result_to_dict(sample_result)
    assert list(report) == TOP_KEYS
    assert report["schema"] == SCHEMA == "maas-audit/report"
    assert report["schema_version"] == SCHEMA_VERSION == 1
    assert report["verdict"] == "FAIL"
    assert report["passed"] is False
    assert [list(a) for a in report["auditors"]] == [AUDITOR_KEYS]
    assert list(report["auditors"][0]["metrics"][0]) == METRIC_KEYS
    assert list(report["auditors"][0]["metrics"][0]["groups"][0]) == GROUP_KEYS


def test_key_order_is_the_same_on_every_call(sample_result):
    first = json.dumps(result_to_dict(sample_result))
    assert json.dumps(result_to_dict(sample_result)) == first


def test_every_per_group_number_is_present(sample_result):
    metrics = result_to_dict(sample_result)["auditors"][0]["metrics"]
    expected_metrics = sample_result.outputs[0].metrics
    assert sum(len(m.groups) for m in expected_metrics) == 12
    assert len(metrics) == len(expected_metrics)
    for expected, got in zip(expected_metrics, metrics, strict=True):
        assert got["metric"] == expected.metric
        assert got["grouping"] == list(expected.grouping)
        assert got["value"] == expected.value
        assert got["confidence_level"] == expected.confidence_level
        assert len(got["groups"]) == len(expected.groups)
        for group, row in zip(expected.groups, got["groups"], strict=True):
            assert row == {
                "group": group.group,
                "count": group.count,
                "value": group.value,
                "ci_low": group.ci_low,
                "ci_high": group.ci_high,
                "status": group.status.value,
                "note": group.note,
            }


@pytest.mark.parametrize(
    ("cls", "exempt"),
    [
        (Finding, set()),
        (GroupValue, set()),
        (MetricResult, {"auditor"}),  # the auditor entry that holds it names the auditor
        (AuditorOutput, set()),
        (EvidenceTable, set()),
        (RequirementSummary, set()),
        (PolicySummary, set()),
        (Provenance, set()),
    ],
)
def test_every_field_of_the_core_records_is_reported(sample_result, cls, exempt):
    report = result_to_dict(sample_result)
    samples = {
        Finding: report["findings"][0],
        GroupValue: report["auditors"][0]["metrics"][0]["groups"][0],
        MetricResult: report["auditors"][0]["metrics"][0],
        AuditorOutput: report["auditors"][0],
        EvidenceTable: report["auditors"][0]["tables"][0],
        RequirementSummary: report["policy"]["requirements"][0],
        PolicySummary: report["policy"],
        Provenance: report["provenance"],
    }
    fields = {f.name for f in dataclasses.fields(cls)} - exempt
    assert fields <= set(samples[cls])


def test_findings_and_policy_are_complete(sample_result):
    report = result_to_dict(sample_result)
    findings = sample_result.findings
    requirements = sample_result.policy.requirements
    assert [f["requirement_id"] for f in report["findings"]] == [f.requirement_id for f in findings]
    first = report["findings"][0]
    assert first["verdict"] == "FAIL"
    assert first["severity"] == "blocking"
    assert first["blocks"] is True
    assert first["measured"] == findings[0].measured
    assert first["reasons"] == list(findings[0].reasons)
    assert report["findings"][1]["measured"] is None
    assert [r["id"] for r in report["policy"]["requirements"]] == [r.id for r in requirements]
    assert report["provenance"]["command"] == list(sample_result.provenance.command)
    assert report["provenance"]["data_sha256"] == "a" * 64


def test_output_is_plain_json_without_nan(sample_result):
    report = result_to_dict(sample_result)
    for value in _walk(report):
        assert value is None or type(value) in {bool, int, float, str, list, dict}
        if isinstance(value, float):
            assert math.isfinite(value)
    json.dumps(report, allow_nan=False)
    table = report["auditors"][0]["tables"][0]
    assert table["rows"][0] == ["Female", 15218, 0.2001, 0.7118]
    assert table["rows"][2][3] is None  # NaN in the fixture
    assert type(table["rows"][2][1]) is int  # np.int64 in the fixture
    assert report["auditors"][0]["config"]["nested"] == {"seed_offset": 1, "ratio": None}
    assert report["auditors"][0]["config"]["bootstrap"] == 200


def test_write_json_round_trips(tmp_path, sample_result):
    path = write_json(sample_result, tmp_path / "report.json")
    text = path.read_text(encoding="utf-8")
    assert "§" in text  # UTF-8, not \u escapes
    assert text.endswith("}\n")
    assert "NaN" not in text
    assert "Infinity" not in text
    sealed = json.loads(text)
    assert sealed.pop("integrity")["scheme"] == "maas-audit/integrity/v1"  # see test_integrity
    assert sealed == result_to_dict(sample_result)
    assert sample_result.to_dict() == result_to_dict(sample_result)


class _Colour(Enum):
    RED = "red"


class _Settings(BaseModel):
    level: float = 0.95


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (float("nan"), None),
        (float("-inf"), None),
        (np.float32(0.5), 0.5),
        (np.bool_(True), True),
        (np.array([1, 2]), [1, 2]),
        (np.array([np.nan]), [None]),
        (_Colour.RED, "red"),
        ((1, (2,)), [1, [2]]),
        ({"b", "a"}, ["a", "b"]),
        ({1: "x"}, {"1": "x"}),
        (Path("a/b"), "a/b"),
        (dt.date(2024, 5, 1), "2024-05-01"),
        (_Settings(), {"level": 0.95}),
        (object, str(object)),
    ],
)
def test_to_jsonable(value, expected):
    assert to_jsonable(value) == expected
