import json
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from audit.core.findings import Severity
from audit.policy import Comparison, Policy, Requirement, list_packs, pack_path, policy_json_schema

REPO = Path(__file__).resolve().parents[2]

BASE = {
    "id": "r1",
    "title": "t",
    "citation": "c",
    "auditor": "fairness",
    "metric": "selection_rate",
    "compare": "ratio_to_max",
    "threshold": 0.8,
}


def test_requirement_defaults():
    r = Requirement.model_validate(BASE)
    assert r.compare is Comparison.RATIO_TO_MAX
    assert r.severity is Severity.BLOCKING
    assert r.group_by == "all"
    assert r.description == ""


def test_group_by_list_becomes_tuple():
    assert Requirement.model_validate({**BASE, "group_by": ["sex", "race"]}).group_by == (
        "sex",
        "race",
    )


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"id": "Bad Id"}, "string_pattern_mismatch"),
        ({"citation": ""}, "string_too_short"),
        ({"threshold": "0.8"}, "float_type"),
        ({"threshold": True}, "float_type"),
        ({"threshold": float("nan")}, "finite_number"),
        ({"threshold": 0.0}, "ratio_to_max threshold must be in (0, 1]"),
        ({"threshold": 1.2}, "ratio_to_max threshold must be in (0, 1]"),
        ({"compare": "max_difference", "threshold": -0.1}, "max_difference threshold must be >= 0"),
        ({"compare": "bigger"}, "enum"),
        ({"severity": "fatal"}, "enum"),
        ({"group_by": "every"}, "expected 'each', 'intersection', 'all'"),
        ({"group_by": []}, "must not be empty"),
        ({"group_by": ["sex", "sex"]}, "listed twice"),
        ({"treshold": 0.8}, "extra_forbidden"),
    ],
)
def test_requirement_rejects(change, fragment):
    with pytest.raises(ValidationError) as info:
        Requirement.model_validate({**BASE, **change})
    assert fragment in str(info.value) or fragment in {e["type"] for e in info.value.errors()}


@pytest.mark.parametrize(
    ("compare", "threshold"),
    [("ratio_to_max", 1.0), ("max_difference", 0.0), ("at_most", -3.0), ("at_least", 42.0)],
)
def test_requirement_accepts_thresholds(compare, threshold):
    assert Requirement.model_validate({**BASE, "compare": compare, "threshold": threshold})


def test_policy_needs_requirements_unless_extending():
    with pytest.raises(ValidationError, match="at least one requirement"):
        Policy(name="p", version="1")
    assert Policy(name="p", version="1", extends="four-fifths").requirements == ()


def test_policy_rejects_duplicate_ids():
    with pytest.raises(ValidationError) as info:
        Policy(name="p", version="1", requirements=[BASE, BASE])
    (error,) = info.value.errors()
    assert error["type"] == "duplicate_id"
    assert error["ctx"]["index"] == 1


def test_policy_version_must_be_text():
    with pytest.raises(ValidationError, match=r"string_type|valid string"):
        Policy(name="p", version=1.0, requirements=[BASE])


def test_policy_is_frozen():
    p = Policy(name="p", version="1", requirements=[BASE])
    with pytest.raises(ValidationError):
        p.name = "q"


def test_json_schema_has_dialect_and_no_id():
    schema = policy_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "$id" not in schema
    assert schema["title"] == "maas-audit policy"
    assert schema["description"]
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator.check_schema(schema)


def test_schema_file_in_sync():
    on_disk = json.loads((REPO / "policies" / "schema.json").read_text(encoding="utf-8"))
    assert on_disk == policy_json_schema(), (
        "policies/schema.json is stale; regenerate it from audit.policy.policy_json_schema()"
    )


@pytest.mark.parametrize("pack", ["four-fifths", "nyc-ll144"])
def test_packs_validate_against_json_schema(pack):
    jsonschema = pytest.importorskip("jsonschema")
    data = yaml.safe_load(pack_path(pack).read_text(encoding="utf-8"))
    jsonschema.validate(data, policy_json_schema())


def test_json_schema_rejects_unknown_field():
    jsonschema = pytest.importorskip("jsonschema")
    data = {"name": "p", "version": "1", "requirements": [{**BASE, "treshold": 1}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, policy_json_schema())


def test_shipped_packs_listed():
    assert set(list_packs()) >= {"four-fifths", "nyc-ll144"}
