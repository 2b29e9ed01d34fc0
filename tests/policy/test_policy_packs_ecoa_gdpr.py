"""The ECOA / Regulation B and GDPR masking packs: load, bind, explain, and audit real data.

The GDPR pack is run, data only, on the masking auditor's labeled Faker table, masked
properly and with the usual mistakes; the ECOA pack on UCI Adult with scikit-learn
pipelines that do and do not read the sensitive column.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from audit import run_audit
from audit.auditors.explanations import ExplanationsConfig
from audit.auditors.masking.config import MaskingConfig
from audit.cli.main import main
from audit.core.findings import Severity, Verdict
from audit.policy import Comparison, list_packs, load_policy, validate_auditor_settings
from audit.policy.bind import bind_auditors

REPO = Path(__file__).resolve().parents[2]
ADULT = REPO / "examples" / "data" / "adult.csv"
KEY = b"a key kept apart from the data, as Art. 4(5) asks"

ECOA = {
    "ecoa-prohibited-basis-reliance": ("sensitive_attribution_share", "at_most", 0.0, "blocking"),
    "ecoa-proxy-reliance": ("proxy_attribution_share", "at_most", 0.2, "advisory"),
    "ecoa-approval-rate-ratio": ("selection_rate", "ratio_to_max", 0.8, "advisory"),
    "ecoa-adverse-action-reasons-stable": ("attribution_stability", "at_least", 0.8, "advisory"),
    "ecoa-adverse-action-reasons-established": (
        "share_of_adverse_decisions_with_reasons",
        "at_least",
        1.0,
        "advisory",
    ),
}
GDPR = {
    "gdpr-no-unmasked-personal-data": ("unmasked_pii_cells", "at_most", 0.0, "blocking"),
    "gdpr-no-personal-data-in-free-text": ("free_text_pii_cells", "at_most", 0.0, "blocking"),
    "gdpr-no-unkeyed-hashes": ("unsalted_hash_cells", "at_most", 0.0, "blocking"),
    "gdpr-masking-rules-obeyed": ("masking_rule_violations", "at_most", 0.0, "blocking"),
    "gdpr-k-anonymity-indicator": ("k_anonymity", "at_least", 5.0, "advisory"),
}
PACK_RULES = ["gdpr-ssn-dropped", "gdpr-card-last-4", "gdpr-email-keyed-hash"]


def _shape(policy):
    return {
        r.id: (r.metric, r.compare.value, r.threshold, r.severity.value)
        for r in policy.requirements
    }


def _verdicts(result):
    return {f.requirement_id: f.verdict for f in result.findings}


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- the packs as files


def test_both_packs_are_listed_and_load_with_their_requirements():
    packs = list_packs()
    assert {"ecoa-reg-b", "gdpr-masking"} <= set(packs)
    assert _shape(load_policy("ecoa-reg-b").policy) == ECOA
    assert _shape(load_policy("gdpr-masking").policy) == GDPR


@pytest.mark.parametrize("pack", ["ecoa-reg-b", "gdpr-masking"])
def test_packs_bind_to_the_installed_auditors(pack):
    loaded = load_policy(pack)
    bound = {auditor.name: config for auditor, config in bind_auditors(loaded)}
    expected = {"ecoa-reg-b": {"explanations", "fairness"}, "gdpr-masking": {"masking"}}[pack]
    assert set(bound) == expected
    text = (REPO / "policies" / f"{pack}.yaml").read_text(encoding="utf-8")
    assert text.splitlines()[0] == "# yaml-language-server: $schema=./schema.json"
    assert "NOT measured" in text


def test_ecoa_pack_citations_and_settings():
    loaded = load_policy("ecoa-reg-b")
    by_id = {r.id: r for r in loaded.policy.requirements}
    reliance = by_id["ecoa-prohibited-basis-reliance"]
    assert "§ 1002.4(a)" in reliance.citation and "§ 1002.6(b)(1)" in reliance.citation
    assert "15 U.S.C. § 1691(a)" in reliance.citation
    assert "set no number" in reliance.description
    assert "comment 6(a)-2" in by_id["ecoa-proxy-reliance"].citation
    assert "§ 1002.6(a)" in by_id["ecoa-proxy-reliance"].citation
    reasons = by_id["ecoa-adverse-action-reasons-stable"].citation
    for cited in ("§ 1002.9(a)(2)", "(b)(2)", "9(b)(2)-1", "9(b)(2)-4", "Circulars 2022-03"):
        assert cited in reasons
    # the four-fifths benchmark is not presented as a Regulation B rule
    ratio = by_id["ecoa-approval-rate-ratio"]
    assert "1607.4(D)" in ratio.citation and "screen" in ratio.citation
    assert "Neither ECOA nor Regulation B" in ratio.description
    config = validate_auditor_settings(loaded, "explanations", ExplanationsConfig)
    assert config.top_k == 4  # comment 9(b)(2)-4: more than four reasons rarely help
    assert config.compare_with == "auto" and config.repeats >= 2  # stability is measured


def test_gdpr_pack_citations_and_entity_rules():
    loaded = load_policy("gdpr-masking")
    by_id = {r.id: r for r in loaded.policy.requirements}
    assert "Art. 4(5)" in by_id["gdpr-no-unkeyed-hashes"].citation
    assert "Art. 32(1)(a)" in by_id["gdpr-no-unmasked-personal-data"].citation
    assert "Art. 25(1)" in by_id["gdpr-no-unmasked-personal-data"].citation
    assert "Art. 5(1)(c)" in by_id["gdpr-no-unmasked-personal-data"].citation
    k = by_id["gdpr-k-anonymity-indicator"]
    assert "Recital 26" in k.citation and "05/2014" in k.citation
    assert k.severity is Severity.ADVISORY and k.compare is Comparison.AT_LEAST
    config = validate_auditor_settings(loaded, "masking", MaskingConfig)
    rules = {r.id: r for r in config.rules}
    assert list(rules) == PACK_RULES
    assert all(not r.columns and r.entity for r in config.rules)  # entity-only defaults
    assert (rules["gdpr-ssn-dropped"].entity, rules["gdpr-ssn-dropped"].treatment) == (
        "US_SSN",
        "drop",
    )
    assert rules["gdpr-card-last-4"].keep_last == 4
    assert rules["gdpr-email-keyed-hash"].treatment == "hmac"
    assert config.quasi_identifiers == () and config.k_target == 5


def test_extending_gdpr_pack_replaces_the_rules_list_and_keeps_other_settings(tmp_path):
    only_qi = _write(
        tmp_path,
        "qi.yaml",
        'name: qi\nversion: "1"\nextends: gdpr-masking\n'
        "auditors:\n  masking:\n    quasi_identifiers: [zip, sex]\n",
    )
    config = validate_auditor_settings(load_policy(only_qi), "masking", MaskingConfig)
    assert [r.id for r in config.rules] == PACK_RULES
    assert config.quasi_identifiers == ("zip", "sex") and config.k_target == 5

    own_rules = _write(
        tmp_path,
        "rules.yaml",
        'name: rules\nversion: "1"\nextends: gdpr-masking\n'
        "auditors:\n  masking:\n    rules:\n"
        "      - {id: email-hmac, columns: [email], treatment: hmac}\n",
    )
    config = validate_auditor_settings(load_policy(own_rules), "masking", MaskingConfig)
    # A list is one setting: the child's list replaces the pack's, as the pack documents.
    assert [r.id for r in config.rules] == ["email-hmac"]
    assert len(load_policy(own_rules).policy.requirements) == len(GDPR)


def test_cli_lists_and_explains_the_packs(capsys):
    assert main(["policy", "packs"]) == 0
    listed = capsys.readouterr().out
    assert "ecoa-reg-b" in listed and "gdpr-masking" in listed

    assert main(["policy", "explain", "ecoa-reg-b", "--sensitive", "sex,race"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ecoa-reg-b 1.1\n")
    assert (
        "BLOCKING — For sex and race, the sensitive attribution share must be at most 0 "
        "(15 U.S.C. § 1691(a)(1); 12 CFR § 1002.4(a)"
    ) in out
    assert "ADVISORY — For every group of sex, race and their combinations, the selection " in out
    assert "not installed" not in out

    assert main(["policy", "explain", "gdpr-masking"]) == 0
    out = capsys.readouterr().out
    assert "gdpr-no-unkeyed-hashes: Hashed identifiers use a key, never a plain hash" in out
    assert (
        "the unsalted hash cells must be at most 0, a threshold of this policy's choice "
        "(Regulation (EU) 2016/679, Art. 4(5)" in out
    )
    assert "citation unverified" in out  # WP216's section numbers were not checked
    assert "STATEMENT — hmac-key-kept-separately" in out
    assert out.count("BLOCKING —") == 4 and out.count("ADVISORY —") == 1
    assert "not installed" not in out


# ---------------------------------------------------------------- GDPR, data only


@pytest.fixture(scope="module")
def labeled():
    pytest.importorskip("faker")
    from audit.auditors.masking.synthetic import labeled_table

    return labeled_table(rows=400, seed=4321)


@pytest.fixture(scope="module")
def clean(labeled):
    """E-mails under a keyed HMAC, SSNs, names, phones, IBANs, IPs, dates of birth and
    notes dropped, cards masked to the last four digits, zip to one digit, birth year to
    the decade; rows in classes under 5 suppressed."""
    raw = labeled.data
    out = pd.DataFrame(
        {
            "email": [hmac.new(KEY, e.encode(), "sha256").hexdigest() for e in raw["email"]],
            "card_number": ["*" * (len(c) - 4) + c[-4:] for c in raw["card_number"]],
            "zip": [z[:1] + "**" for z in raw["zip"]],
            "birth_year": (raw["birth_year"] // 10 * 10).astype(str),
            "sex": raw["sex"],
            "amount": raw["amount"],
            "product_code": raw["product_code"],
        }
    )
    sizes = out.groupby(["zip", "birth_year", "sex"])["sex"].transform("size")
    return out[sizes >= 5].reset_index(drop=True)


@pytest.fixture(scope="module")
def leaky(labeled):
    """Plain SHA-256 e-mails, SSNs and cards left in, raw zip codes, notes as they were."""
    raw = labeled.data
    out = raw.copy()
    out["email"] = [hashlib.sha256(e.encode()).hexdigest() for e in raw["email"]]
    out.loc[0, "notes"] = f"Forwarded to {raw.loc[0, 'email']} by mistake."
    return out


@pytest.fixture
def extending_policy(tmp_path):
    """A delivery policy on top of the pack: its own column rules, the pack's entity rules
    repeated (a child's list replaces the parent's), and the quasi-identifiers."""
    return _write(
        tmp_path,
        "delivery.yaml",
        """\
name: customer-extract-gdpr
version: "1.0"
extends: gdpr-masking
auditors:
  masking:
    rules:
      - {id: gdpr-ssn-dropped, entity: US_SSN, treatment: drop}
      - {id: gdpr-card-last-4, entity: CREDIT_CARD, treatment: mask, keep_last: 4}
      - {id: gdpr-email-keyed-hash, entity: EMAIL_ADDRESS, treatment: hmac}
      - {id: email-hmac, columns: [email], treatment: hmac}
      - {id: card-last4, columns: [card_number], treatment: mask, keep_last: 4}
      - {id: zip-1-digit, columns: [zip], treatment: generalize, level: digits, digits: 1}
    quasi_identifiers: [zip, birth_year, sex]
""",
    )


def test_gdpr_clean_delivery_passes(clean, extending_policy):
    result = run_audit(data=clean, policy=extending_policy)
    assert _verdicts(result) == dict.fromkeys(GDPR, Verdict.PASS), [
        f.summary for f in result.findings
    ]
    assert result.passed


def test_gdpr_leaky_delivery_fails_every_blocking_requirement(leaky, extending_policy):
    result = run_audit(data=leaky, policy=extending_policy)
    assert _verdicts(result) == dict.fromkeys(GDPR, Verdict.FAIL), [
        f.summary for f in result.findings
    ]
    assert not result.passed
    (output,) = result.outputs
    (rules,) = output.find("masking_rule_violations")
    violated = {g.group for g in rules.groups if g.value}
    # the pack's entity rules catch raw SSNs, cards and e-mails anywhere
    assert {"rule=gdpr-ssn-dropped", "rule=gdpr-card-last-4", "rule=email-hmac"} <= violated
    (unsalted,) = output.find("unsalted_hash_cells")
    # A plain hash is recognised when its input is found in the data: the one e-mail
    # left in the notes unmasks its hash; the others cannot be told from keyed digests.
    assert unsalted.value == 1


def test_gdpr_pack_alone_cannot_establish_what_it_was_not_told(clean):
    # Without quasi-identifiers k-anonymity is unmeasured, and without columns declared
    # hashed no value was checked for being a plain hash: neither may pass.
    result = run_audit(data=clean, policy="gdpr-masking")
    by_id = {f.requirement_id: f for f in result.findings}
    k = by_id["gdpr-k-anonymity-indicator"]
    assert k.verdict is Verdict.INCONCLUSIVE
    assert any("names no quasi_identifiers" in r for r in k.reasons), k.reasons
    hashes = by_id["gdpr-no-unkeyed-hashes"]
    assert hashes.verdict is Verdict.INCONCLUSIVE
    assert any("no column present in the data is governed" in r for r in hashes.reasons)
    unestablished = {"gdpr-k-anonymity-indicator", "gdpr-no-unkeyed-hashes"}
    others = {i: f.verdict for i, f in by_id.items() if i not in unestablished}
    assert others == dict.fromkeys(others, Verdict.PASS)
    assert not result.passed  # a blocking requirement that cannot be established fails


# ---------------------------------------------------------------- ECOA on UCI Adult

CATEGORICAL = ["workclass", "education", "marital-status", "occupation", "race", "sex"]
NUMERIC = ["age", "education-num", "capital-gain", "hours-per-week"]


@pytest.fixture(scope="module")
def adult():
    return pd.read_csv(ADULT, skipinitialspace=True)


def _pipeline(adult, categorical):
    train = adult.sample(n=3000, random_state=11)
    encode = ColumnTransformer(
        [
            ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
            ("numeric", StandardScaler(), NUMERIC),
        ]
    )
    model = Pipeline([("encode", encode), ("classify", LogisticRegression(max_iter=1000))])
    return model.fit(train[categorical + NUMERIC], train["income"])


@pytest.fixture
def ecoa_policy(tmp_path):
    """The pack, with fewer explained rows and samples so that the test stays fast."""
    return _write(
        tmp_path,
        "lender.yaml",
        """\
name: lender-ecoa
version: "1.0"
extends: ecoa-reg-b
auditors:
  explanations:
    n_rows: 80
    n_samples: 8
    min_group_rows: 15
    adverse_per_group: 2
  fairness:
    bootstrap: 0
""",
    )


@pytest.mark.parametrize("reads_sex", [True, False], ids=["reads-sex", "without-sex"])
def test_ecoa_pack_on_adult(adult, ecoa_policy, reads_sex):
    categorical = CATEGORICAL if reads_sex else [c for c in CATEGORICAL if c != "sex"]
    features = categorical + NUMERIC
    data = adult.sample(n=600, random_state=21).reset_index(drop=True)
    result = run_audit(
        model=_pipeline(adult, categorical),
        data=data,
        policy=ecoa_policy,
        target="income",
        positive_label=">50K",
        sensitive=["sex"],
        features=features,
    )
    by_id = {f.requirement_id: f for f in result.findings}
    assert set(by_id) == set(ECOA)
    reliance = by_id["ecoa-prohibited-basis-reliance"]
    if reads_sex:
        assert reliance.verdict is Verdict.FAIL and reliance.measured > 0
        assert not result.passed
    else:
        assert reliance.verdict is Verdict.PASS and reliance.measured == 0
    for advisory in ("ecoa-proxy-reliance", "ecoa-approval-rate-ratio"):
        assert by_id[advisory].verdict in (Verdict.PASS, Verdict.FAIL), by_id[advisory].reasons
    stability = by_id["ecoa-adverse-action-reasons-stable"]
    assert stability.verdict in (Verdict.PASS, Verdict.FAIL), stability.reasons
    assert 0.0 < stability.measured <= 1.0
    explanations = next(o for o in result.outputs if o.auditor == "explanations")
    reasons = next(t for t in explanations.tables if t.title.startswith("Most adverse"))
    assert "Principal reasons (up to 4)" in reasons.columns
    assert {row[0] for row in reasons.rows} == {"sex=Female", "sex=Male"}
