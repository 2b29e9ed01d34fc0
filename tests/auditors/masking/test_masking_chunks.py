"""The masking auditor chunk by chunk: tallies of any chunking merge to the whole table's.

``tally`` over slices of a table (each indexed by its rows' positions, as the engines
hand them out), merged in any order, then ``finish``, must give exactly what ``run``
gives on the whole table: metrics, evidence tables (first rows and masked examples
included) and warnings.
"""

import hashlib
import itertools
import random

import pandas as pd
import pytest

from audit.auditors.masking import MaskingAuditor, MaskingConfig
from audit.core.context import AuditContext, ColumnRoles
from audit.policy import load_policy

RULES = {
    "rules": [
        {"id": "email-hmac", "columns": ["email"], "treatment": "hmac", "linkable": True},
        {
            "id": "token-unlinkable",
            "columns": ["token"],
            "treatment": "tokenize",
            "linkable": False,
        },
        {"id": "ssn-dropped", "columns": ["ssn"], "entity": "US_SSN", "treatment": "drop"},
        {"id": "card-last4", "columns": ["card_number"], "treatment": "mask", "keep_last": 4},
        {"id": "zip-3", "columns": ["zip"], "treatment": "generalize", "level": "digits"},
        {"id": "phones-redacted", "entity": "PHONE_NUMBER", "treatment": "redact"},
    ],
    "quasi_identifiers": ["zip", "birth_year", "sex"],
    "sensitive_attribute": "sex",
    "k_target": 3,
    "samples": 5,
}


def _cut(frame: pd.DataFrame, cuts: list[int]) -> list[pd.DataFrame]:
    return [frame.iloc[a:b] for a, b in itertools.pairwise(cuts) if b > a]


def _merged(auditor, config, parts, rng):
    tallies = [auditor.tally(AuditContext(data=part), config) for part in parts]
    rng.shuffle(tallies)
    while len(tallies) > 1:  # merge in a random tree, as Dask may
        i = rng.randrange(len(tallies) - 1)
        tallies[i : i + 2] = [tallies[i].merge(tallies[i + 1])]
    return auditor.finish(tallies[0], config, roles=ColumnRoles("", (), ()), seed=0)


def _same(chunked, whole):
    assert chunked.metrics == whole.metrics
    assert chunked.tables == whole.tables
    assert chunked.warnings == whole.warnings
    assert chunked.method == whole.method


@pytest.fixture(scope="module")
def table(leaky):
    """The leaky delivery, with repeated tokens, a plain hash whose e-mail sits in a later
    row's note, and SHA-256 hashes repeated across the table."""
    frame = leaky.copy()
    n = len(frame)
    frame["token"] = [f"tok_{i % (n // 3)}" for i in range(n)]
    emails = list(frame["email"])
    frame.loc[n - 1, "notes"] = f"write to {leaky.loc[0, 'notes'].split()[2]} please"
    frame["email"] = emails[: n // 2] + emails[: n - n // 2]  # every hash twice
    return frame


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_any_chunking_gives_the_whole_tables_output(table, seed):
    rng = random.Random(seed)
    config = MaskingConfig.model_validate(RULES)
    auditor = MaskingAuditor()
    whole = auditor.run(AuditContext(data=table), config)
    cuts = sorted(
        {0, len(table), *(rng.randrange(1, len(table)) for _ in range(rng.randint(1, 9)))}
    )
    _same(_merged(auditor, config, _cut(table, cuts), rng), whole)


def test_a_value_hashed_in_one_chunk_and_raw_in_another_is_caught():
    emails = [f"person{i}@example.com" for i in range(40)]
    frame = pd.DataFrame(
        {
            "email": [hashlib.sha256(e.encode()).hexdigest() for e in emails] + [""] * 40,
            "notes": [""] * 40 + [f"mail from {e}" for e in emails],
        }
    )
    config = MaskingConfig(rules=[{"id": "h", "columns": ["email"], "treatment": "hmac"}])
    auditor = MaskingAuditor()
    chunked = _merged(auditor, config, _cut(frame, [0, 40, 80]), random.Random(0))
    (unsalted,) = chunked.find("unsalted_hash_cells")
    assert unsalted.value == 40
    _same(chunked, auditor.run(AuditContext(data=frame), config))


def test_the_example_policy_gives_the_same_findings_in_chunks(leaky, policy_path):
    config = MaskingConfig.model_validate(load_policy(policy_path).policy.auditors["masking"])
    auditor = MaskingAuditor()
    whole = auditor.run(AuditContext(data=leaky), config)
    _same(_merged(auditor, config, _cut(leaky, [0, 100, 101, 450, 800]), random.Random(3)), whole)


def test_past_max_hash_values_the_hash_checks_are_not_verifiable():
    frame = pd.DataFrame({"token": [f"t{i}" for i in range(30)]})
    config = MaskingConfig(
        rules=[{"id": "t", "columns": ["token"], "treatment": "tokenize", "linkable": False}],
        max_hash_values=10,
    )
    chunked = _merged(MaskingAuditor(), config, _cut(frame, [0, 10, 20, 30]), random.Random(0))
    (rule,) = chunked.find("rule_violations")
    assert rule.value is None and "max_hash_values" in rule.reason
