"""Metric names in words: acronyms in capitals, k-anonymity hyphenated, first letter raised."""

from __future__ import annotations

import pytest

from audit.core.wording import humanize, sentence_case


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("selection_rate", "selection rate"),
        ("dp_attack_auc", "DP attack AUC"),
        ("rmse_increase_by_group", "RMSE increase by group"),
        ("pii_columns", "PII columns"),
        ("k_anonymity", "k-anonymity"),
        ("l_diversity", "l-diversity"),
        ("classes_below_k", "classes below k"),
        ("top_k_agreement_across_groups", "top k agreement across groups"),
        ("  _accuracy_drop_ ", "accuracy drop"),
    ],
)
def test_humanize(name: str, words: str) -> None:
    assert humanize(name) == words


def test_sentence_case_keeps_acronyms() -> None:
    assert sentence_case("AUC drop by sex") == "AUC drop by sex"
    assert sentence_case("attack advantage") == "Attack advantage"
    assert sentence_case("") == ""
    assert "AUC drop".capitalize() == "Auc drop"  # what it replaces
