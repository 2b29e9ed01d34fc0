"""Attributions of an LLM's decision score to its prompt fields, against the stand-in LLM.

The stand-in (``audit.testing.llm``) decides by a known rule on the ``name: value`` lines
of the prompt and reports P(approve) through logprobs.  Feature ablation's attribution of
field ``f`` for a row is ``p(row) - p(row with f = baseline text)``; both terms are computed
here from the server's own rule (``Screener.p_approve``) on the prompts the template
renders, never from the auditor's numbers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from audit.adapters.callable import CallableAdapter
from audit.adapters.config import load_config_model
from audit.adapters.http.chat_adapter import ChatDecisionAdapter
from audit.adapters.http.templating import row_values
from audit.auditors.explanations import ExplanationsConfig
from audit.auditors.explanations.measure import measure
from audit.auditors.explanations.prompts import (
    NEUTRAL_TEXT,
    PROMPT_LIMITATION,
    baseline_overrides,
    explained_columns,
)
from audit.testing.llm import Screener, StandInLLM, prompt_fields, serve_screener
from tests.conftest import llm_config

from .conftest import make_context, metric, run, table

pytest.importorskip("captum")

REPO = Path(__file__).resolve().parents[3]
ROWS = 150


@pytest.fixture(scope="module")
def applicants() -> pd.DataFrame:
    return pd.read_csv(REPO / "examples" / "data" / "adult.csv", nrows=ROWS)


def chat_model(llm: StandInLLM, folder: Path) -> ChatDecisionAdapter:
    adapter = load_config_model(llm_config(llm, folder))
    assert isinstance(adapter, ChatDecisionAdapter)
    return adapter


@pytest.fixture
def biased(tmp_path: Path) -> Iterator[tuple[StandInLLM, ChatDecisionAdapter]]:
    with serve_screener(Screener(flip_rate=0.3)) as llm, chat_model(llm, tmp_path) as adapter:
        yield llm, adapter


def p_approve(
    adapter: ChatDecisionAdapter, screener: Screener, row: dict[str, Any], **replace: Any
) -> float:
    prompt = adapter.template.render(row, replace=replace)[-1]["content"]
    return screener.p_approve(prompt_fields(prompt))


FEATURES = [
    "age", "workclass", "education", "education-num", "marital-status", "occupation",
    "relationship", "race", "sex", "hours-per-week",
]  # fmt: skip


def test_feature_ablation_of_each_prompt_field_is_the_servers_own_difference(
    biased: tuple[StandInLLM, ChatDecisionAdapter], applicants: pd.DataFrame
) -> None:
    llm, adapter = biased
    context = make_context(
        applicants, adapter, features=FEATURES, sensitive=["sex"], positive_label=1
    )
    columns = explained_columns(adapter, applicants, FEATURES)
    # the template's fields, not every column the model is given
    assert columns == list(adapter.template.fields)
    assert "relationship" not in columns and "sex" in columns
    settings = ExplanationsConfig(
        method="feature_ablation", compare_with="none", n_rows=60, adverse_per_group=0
    )
    before = llm.requests
    measured = measure(context, settings, columns)
    sent = llm.requests - before
    rows = measured.plan.rows()
    given = row_values(applicants.iloc[rows][FEATURES])
    expected = np.array(
        [
            [
                p_approve(adapter, llm.screener, row)
                - p_approve(adapter, llm.screener, row, **{field: NEUTRAL_TEXT})
                for field in columns
            ]
            for row in given
        ]
    )
    np.testing.assert_allclose(measured.explained.primary, expected, rtol=0, atol=1e-9)
    sex = columns.index("sex")
    # the planted rejections of merited women are there to be found, and only on women
    female = np.asarray([row["sex"] == "Female" for row in given])
    assert np.count_nonzero(expected[female, sex]) >= 1
    assert not np.any(expected[~female, sex])
    assert (
        measured.explained.baseline["sex"]
        == f"{NEUTRAL_TEXT} (neutral text of an absent prompt field)"
    )
    # one request per evaluated row (samples: 1), each counted once
    cost = measured.explained.cost
    assert cost.requests == sent == cost.rows
    # rows scored once, then each row with each field ablated, plus the baseline prompt
    n = len(rows)
    assert sent == n + 1 + n + n * len(columns)


def test_baseline_values_say_what_absent_means_for_a_field(
    biased: tuple[StandInLLM, ChatDecisionAdapter], applicants: pd.DataFrame
) -> None:
    llm, adapter = biased
    context = make_context(applicants, adapter, features=FEATURES, sensitive=["sex"])
    columns = list(adapter.template.fields)
    settings = ExplanationsConfig(
        method="feature_ablation",
        compare_with="none",
        n_rows=30,
        adverse_per_group=0,
        baseline_values={"sex": "Male", "education-num": 9},
    )
    measured = measure(context, settings, columns)
    given = row_values(applicants.iloc[measured.plan.rows()][FEATURES])
    for field, value in (("sex", "Male"), ("education-num", 9), ("age", NEUTRAL_TEXT)):
        expected = [
            p_approve(adapter, llm.screener, row)
            - p_approve(adapter, llm.screener, row, **{field: value})
            for row in given
        ]
        got = measured.explained.primary[:, columns.index(field)]
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
    assert measured.explained.baseline["education-num"] == "9 (baseline_values)"


def test_the_sensitive_share_per_group_shows_the_planted_bias(
    biased: tuple[StandInLLM, ChatDecisionAdapter], applicants: pd.DataFrame
) -> None:
    llm, adapter = biased
    context = make_context(applicants, adapter, features=FEATURES, sensitive=["sex"])
    before = llm.requests
    output = run(
        context,
        method="feature_ablation",
        compare_with="none",
        n_rows=ROWS,
        adverse_per_group=0,
        min_group_rows=10,
    )
    share = metric(output, "sensitive_attribution_share", ("sex",))
    assert share.value is not None and share.value > 0.01
    by_group = {g.group: g.value for g in share.groups}
    assert by_group["sex=Male"] == 0.0
    assert by_group["sex=Female"] is not None and by_group["sex=Female"] > share.value
    assert metric(output, "proxy_attribution_share", ("sex",)).value is not None
    cost = table(output, "Cost of the explanations")
    assert cost["HTTP requests"][1] == llm.requests - before
    importance = table(output, "Global importance")
    assert set(importance) == set(adapter.template.fields)
    assert PROMPT_LIMITATION in output.limitations


def test_shapley_values_of_the_fields_add_up_to_the_score_minus_the_empty_prompt(
    biased: tuple[StandInLLM, ChatDecisionAdapter], applicants: pd.DataFrame
) -> None:
    # each sampled permutation telescopes from every field "not stated" to the full prompt
    llm, adapter = biased
    context = make_context(applicants, adapter, features=FEATURES, sensitive=["sex"])
    columns = list(adapter.template.fields)
    settings = ExplanationsConfig(
        method="shapley_value_sampling",
        compare_with="none",
        n_rows=8,
        n_samples=3,
        repeats=1,
        adverse_per_group=0,
        min_group_rows=1,
    )
    measured = measure(context, settings, columns)
    given = row_values(applicants.iloc[measured.plan.rows()][FEATURES])
    empty = dict.fromkeys(columns, NEUTRAL_TEXT)
    expected = [
        p_approve(adapter, llm.screener, row) - p_approve(adapter, llm.screener, row, **empty)
        for row in given
    ]
    # Captum's ShapleyValueSampling sums its attributions in float32 (torch.float): 1e-6
    np.testing.assert_allclose(measured.explained.primary.sum(axis=1), expected, atol=1e-6)


def test_the_prompts_go_out_with_the_adapters_concurrency(
    biased: tuple[StandInLLM, ChatDecisionAdapter],
    applicants: pd.DataFrame,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, adapter = biased
    context = make_context(applicants, adapter, features=FEATURES, sensitive=["sex"])
    lock = threading.Lock()
    state = {"now": 0, "most": 0}
    decide = adapter.predict_batch

    def counted(rows: pd.DataFrame) -> Any:
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        try:
            time.sleep(0.01)  # long enough for the other threads to start theirs
            return decide(rows)
        finally:
            with lock:
                state["now"] -= 1

    monkeypatch.setattr(adapter, "predict_batch", counted)
    run(context, method="feature_ablation", compare_with="none", n_rows=64, adverse_per_group=0)
    assert adapter.concurrency == 8
    assert 1 < state["most"] <= adapter.concurrency


def test_which_baseline_each_field_gets(biased: tuple[StandInLLM, ChatDecisionAdapter]) -> None:
    _, adapter = biased
    fields = list(adapter.template.fields)
    overrides = baseline_overrides(
        adapter, [*fields, "relationship"], {"age": 40}, reference={"sex": "Male"}
    )
    assert overrides["age"] == (40, "baseline_values")
    assert "sex" not in overrides  # the reference row's value stands
    assert "relationship" not in overrides  # not a prompt field: the median or most frequent
    assert overrides["race"] == (NEUTRAL_TEXT, "neutral text of an absent prompt field")
    # a model without a prompt template keeps its baseline, save what baseline_values name
    plain = CallableAdapter(lambda rows: rows["age"] > 40)
    assert baseline_overrides(plain, ["age", "sex"], {"age": 40}) == {
        "age": (40, "baseline_values")
    }
