"""The chat decision adapter against the stand-in LLM, whose behaviour is planted and known."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from audit.adapters.config import load_config_model
from audit.adapters.http import HttpTransport
from audit.adapters.http.chat_adapter import ChatDecisionAdapter
from audit.adapters.http.chat_decision import DecisionRule, PromptTemplate
from audit.adapters.http.guard import SpendingLimitReached
from audit.adapters.http.templating import row_values
from audit.cache import PredictionCache
from audit.core.context import ColumnRoles
from audit.errors import EndpointError, UsageError
from audit.scoring import score_batches
from audit.testing.llm import Screener, StandInLLM, prompt_fields, serve_screener

from .conftest import ADULT

PROMPT = """Applicant
age: {{ age }}
education-num: {{ row["education-num"] }}
hours-per-week: {{ row["hours-per-week"] }}
sex: {{ sex }}
Reply with JSON."""
JSON_RULE = DecisionRule(positive=("approve",), negative=("reject",), field="decision")
FEATURES = ["age", "education-num", "hours-per-week", "sex"]


@pytest.fixture(scope="module")
def applicants() -> pd.DataFrame:
    return pd.read_csv(ADULT, nrows=120, usecols=[*FEATURES, "income"])


def adapter(llm: StandInLLM, **settings: object) -> ChatDecisionAdapter:
    options: dict = {"template": PromptTemplate(PROMPT), "rule": JSON_RULE}
    options.update(settings)
    transport = options.pop("transport", HttpTransport(max_retries=0, sleep=lambda _: None))
    return ChatDecisionAdapter(llm.url, model="standin", transport=transport, **options)


def planted(llm: StandInLLM, chat: ChatDecisionAdapter, rows: pd.DataFrame) -> pd.DataFrame:
    """The stand-in's planted decision and P(approve) for each row, from its own rule."""
    out = []
    for row in row_values(rows[FEATURES]):
        fields = prompt_fields(chat.template.render(row)[-1]["content"])
        out.append((int(llm.screener.decide(fields)[0]), llm.screener.p_approve(fields)))
    return pd.DataFrame(out, columns=["decision", "p"])


@pytest.fixture
def biased() -> Iterator[StandInLLM]:
    with serve_screener(Screener(flip_rate=0.5)) as llm:
        yield llm


def test_decisions_and_logprob_scores_are_the_planted_ones(
    biased: StandInLLM, applicants: pd.DataFrame
) -> None:
    with adapter(biased, top_logprobs=5) as chat:
        predictions = chat.predict_batch(applicants[FEATURES])
        truth = planted(biased, chat, applicants)
        usage = chat.usage()
    assert predictions.labels is not None and predictions.scores is not None
    np.testing.assert_array_equal(predictions.labels, truth["decision"])
    np.testing.assert_allclose(predictions.scores, truth["p"], rtol=1e-12)
    assert 0 < truth["decision"].mean() < 1
    assert usage["requests"] == biased.requests == len(applicants)
    assert usage["system_fingerprints"] == ["fp_standin_1"]
    body = biased.bodies[0]
    assert body["response_format"]["type"] == "json_schema"
    assert body["logprobs"] is True and body["top_logprobs"] == 5


def test_usage_adds_up_the_servers_token_counts(
    biased: StandInLLM, applicants: pd.DataFrame
) -> None:
    rows = applicants[FEATURES].head(10)
    with adapter(biased) as chat:
        chat.predict_batch(rows)
        usage = chat.usage()
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] == 10 * 6
    assert usage["answers"] == 10 and usage["unparseable_answers"] == 0


@pytest.mark.parametrize(
    ("screener", "reason"),
    [
        (Screener(off_format=0.2), "the answer is not JSON"),
        (Screener(truncate=0.2), "truncated"),
    ],
)
def test_unparseable_answers_stop_the_batch_with_a_count(
    screener: Screener, reason: str, applicants: pd.DataFrame
) -> None:
    with serve_screener(screener) as llm, adapter(llm) as chat:
        with pytest.raises(EndpointError) as caught:
            chat.predict_batch(applicants[FEATURES].head(40))
        usage = chat.usage()
    message = str(caught.value)
    assert "\n" not in message
    assert "got no decision" in message and reason in message
    assert usage["unparseable_answers"] > 0
    assert "approve" not in message and "Female" not in message  # answers are never quoted


def test_max_tokens_too_small_truncates_and_says_so(
    biased: StandInLLM, applicants: pd.DataFrame
) -> None:
    with adapter(biased, max_tokens=3) as chat, pytest.raises(EndpointError, match="max_tokens"):
        chat.predict_batch(applicants[FEATURES].head(3))


def test_rate_limits_are_retried_then_reported(applicants: pd.DataFrame) -> None:
    rows = applicants[FEATURES].head(4)
    with serve_screener(Screener(rate_limit=2)) as llm:
        patient = HttpTransport(max_retries=3, sleep=lambda _: None)
        with adapter(llm, transport=patient) as chat:
            assert len(chat.predict_batch(rows)) == 4
            assert chat.usage()["requests"] == 6 == llm.requests
    with (
        serve_screener(Screener(rate_limit=5)) as llm,
        adapter(llm) as chat,
        pytest.raises(EndpointError, match="HTTP 429"),
    ):
        chat.predict_batch(rows)


def test_answers_that_change_between_calls_show_in_consistency(
    applicants: pd.DataFrame,
) -> None:
    rows = applicants[FEATURES]
    screener = Screener(flaky=0.25)
    with serve_screener(screener) as llm, adapter(llm, samples=3) as chat:
        chat.predict_batch(rows)
        fields = [prompt_fields(chat.template.render(r)[-1]["content"]) for r in row_values(rows)]
        consistency = chat.usage()["consistency"]
    flaky_share = np.mean([screener.fault(f, "flaky") for f in fields])
    assert 0 < flaky_share < 1
    assert consistency == pytest.approx(1 - flaky_share)
    with (
        serve_screener(screener) as llm,
        adapter(llm, samples=3, min_consistency=0.99, batch_size=len(rows)) as chat,
        pytest.raises(EndpointError, match="changed between calls"),
    ):
        chat.predict_batch(rows)


def test_request_limit_stops_before_spending(biased: StandInLLM, applicants: pd.DataFrame) -> None:
    with (
        adapter(biased, max_requests=10) as chat,
        pytest.raises(SpendingLimitReached) as caught,
    ):
        chat.predict_batch(applicants[FEATURES].head(25))
    assert biased.requests == 10
    assert "stopped before request 11" in str(caught.value)
    assert "--cache-dir" in str(caught.value)


def test_token_budget_stops_before_spending(biased: StandInLLM, applicants: pd.DataFrame) -> None:
    with adapter(biased, max_tokens=16, budget_tokens=300) as chat:
        with pytest.raises(SpendingLimitReached, match="token budget"):
            chat.predict_batch(applicants[FEATURES].head(25))
        spent = chat.guard.tokens_spent
        assert spent <= 300
    assert 0 < biased.requests < 25


def test_a_rerun_with_the_cache_sends_no_request(
    biased: StandInLLM, applicants: pd.DataFrame, tmp_path
) -> None:
    roles = ColumnRoles(target="income", features=tuple(FEATURES), sensitive=("sex",))
    cache = PredictionCache(tmp_path)
    with (
        adapter(biased, batch_size=8, max_requests=40) as chat,
        pytest.raises(SpendingLimitReached),
    ):
        score_batches(chat, applicants, roles, cache=cache)
    first = biased.requests
    assert first <= 40
    with adapter(biased, batch_size=8) as chat:
        resumed, report = score_batches(chat, applicants, roles, cache=cache)
    assert report.batches_cached >= 1  # batches answered before the stop are kept
    assert biased.requests - first == len(applicants) - 8 * report.batches_cached
    before = biased.requests
    with adapter(biased, batch_size=8) as chat:
        again, report = score_batches(chat, applicants, roles, cache=cache)
        assert chat.usage()["requests"] == 0
    assert biased.requests == before and report.batches_scored == 0
    assert resumed.labels is not None and again.labels is not None
    np.testing.assert_array_equal(resumed.labels, again.labels)


def test_fingerprint_follows_the_template_not_the_limits(biased: StandInLLM) -> None:
    with adapter(biased) as a, adapter(biased, max_requests=5) as b:
        assert a.fingerprint() == b.fingerprint()
    other = PromptTemplate(PROMPT + " ")
    with adapter(biased) as a, adapter(biased, template=other) as b:
        assert a.fingerprint() != b.fingerprint()


def test_decide_with_a_changed_cue_shows_the_planted_flip_rate(
    biased: StandInLLM, applicants: pd.DataFrame
) -> None:
    rows = row_values(applicants[FEATURES])
    n = len(rows)
    with adapter(biased, batch_size=n) as chat:
        male = chat.decide(rows, replace=[{"sex": "Male"}] * n).labels
        female = chat.decide(rows, replace=[{"sex": "Female"}] * n).labels
        with pytest.raises(UsageError, match="replace has 1 entries for 2 rows"):
            chat.decide(rows[:2], replace=[None])
    assert male is not None and female is not None
    assert not ((female == 1) & (male == 0)).any()  # the bias only ever rejects
    merited = int(male.sum())
    flipped = int(((male == 1) & (female == 0)).sum())
    assert merited >= 30
    # the cue flips each merited applicant with probability 0.5 (the planted rate)
    assert binomtest(flipped, merited, 0.5).pvalue > 0.001


def test_tied_samples_are_no_decision(applicants: pd.DataFrame) -> None:
    # every answer of a flaky prompt alternates, so two samples always tie
    with (
        serve_screener(Screener(flaky=1.0)) as llm,
        adapter(llm, samples=2) as chat,
        pytest.raises(EndpointError, match=r"8 of 8 rows .* \(8 with tied answers; unparseable"),
    ):
        chat.predict_batch(applicants[FEATURES].head(8))


def test_a_config_with_max_completion_tokens_sends_it_and_the_stand_in_obeys(
    tmp_path: Path, applicants: pd.DataFrame
) -> None:
    with serve_screener(Screener()) as llm:
        config = tmp_path / "reasoning.yaml"
        config.write_text(
            f"kind: chat\nurl: {llm.url}\nmodel: m\nprompt: |\n  education-num: "
            '{{ row["education-num"] }}\ndecision: {field: decision, positive: approve, '
            "negative: reject}\ntemperature: null\nmax_completion_tokens: 2\n",
            encoding="utf-8",
        )
        with load_config_model(config) as chat, pytest.raises(EndpointError, match="truncated"):
            chat.predict_batch(applicants[["education-num"]].head(1))
        body = llm.bodies[0]
    assert body["max_completion_tokens"] == 2
    assert "max_tokens" not in body and "temperature" not in body


def test_refusals_are_counted_by_reason_and_never_given_a_class(
    applicants: pd.DataFrame,
) -> None:
    with serve_screener(Screener(refuse=0.3)) as llm, adapter(llm, max_unanswered=1.0) as chat:
        predictions = chat.predict_batch(applicants[FEATURES])
        reasons = chat.unanswered_reasons()
    assert predictions.unanswered is not None
    refused = int(predictions.unanswered.sum())
    assert reasons == {"the model refused (message.refusal)": refused}
    assert binomtest(refused, len(applicants), 0.3).pvalue > 0.001
    assert (
        predictions.labels is not None
        and np.isnan(predictions.labels[predictions.unanswered]).all()
    )
