"""Policies: YAML files of requirements, each citing its source, and how they are judged.

::

    loaded = load_policy("nyc-ll144")          # a shipped pack, or a path to a .yaml file
    config = validate_auditor_settings(loaded, "fairness", FairnessConfig)
    findings = evaluate_policy(loaded.policy, outputs, sensitive=["sex", "race"])

See ``policies/README.md`` for the file format; :func:`policy_json_schema` gives
the JSON Schema editors use.
"""

from __future__ import annotations

from audit.policy.evaluate import evaluate_policy, evaluate_requirement, resolve_groupings
from audit.policy.loader import (
    FieldPath,
    LoadedPolicy,
    PolicyFileError,
    load_policy,
    parse_policy,
    validate_auditor_settings,
)
from audit.policy.packs import list_packs, pack_path
from audit.policy.schema import Comparison, GroupBy, Policy, Requirement, policy_json_schema

__all__ = [
    "Comparison",
    "FieldPath",
    "GroupBy",
    "LoadedPolicy",
    "Policy",
    "PolicyFileError",
    "Requirement",
    "evaluate_policy",
    "evaluate_requirement",
    "list_packs",
    "load_policy",
    "pack_path",
    "parse_policy",
    "policy_json_schema",
    "resolve_groupings",
    "validate_auditor_settings",
]
