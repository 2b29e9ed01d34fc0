"""The chat decision codec: prompts from rows, decisions and scores from answers (no I/O)."""

from __future__ import annotations

import math

import pytest

from audit.adapters.http.chat_adapter import majority
from audit.adapters.http.chat_decision import (
    ChatAnswer,
    DecisionRule,
    PromptTemplate,
    chat_request,
    label_probability,
    parse_decision,
    read_answer,
)
from audit.errors import DataError, EndpointError, ModelSpecError

JSON_RULE = DecisionRule(positive=("approve",), negative=("reject", "deny"), field="decision")
REGEX_RULE = DecisionRule(
    positive=("approve",), negative=("reject",), regex=r"\b(approve|reject)\b"
)
WORD_RULE = DecisionRule(positive=("yes",), negative=("no",))


def answer(text: str, finish: str | None = "stop", logprobs: list | None = None) -> ChatAnswer:
    return ChatAnswer(text, finish, logprobs, None, None, None, None)


@pytest.mark.parametrize(
    ("text", "rule", "decision"),
    [
        ('{"decision": "approve"}', JSON_RULE, 1),
        ('{"decision": "DENY"}', JSON_RULE, 0),
        ('```json\n{"decision": "reject", "why": "x"}\n```', JSON_RULE, 0),
        ("After review I would reject them.", REGEX_RULE, 0),
        ("  Yes.", WORD_RULE, 1),
        ('"no"', WORD_RULE, 0),
    ],
)
def test_answers_are_read_as_decisions(text: str, rule: DecisionRule, decision: int) -> None:
    assert parse_decision(answer(text), rule).decision == decision


@pytest.mark.parametrize(
    ("text", "rule", "reason"),
    [
        ("approve", JSON_RULE, "the answer is not JSON"),
        ("[1]", JSON_RULE, "the answer is not a JSON object"),
        ('{"verdict": "approve"}', JSON_RULE, "the answer has no field 'decision'"),
        ('{"decision": true}', JSON_RULE, "field 'decision' is not text"),
        ('{"decision": "maybe"}', JSON_RULE, "field 'decision' is not one of the labels"),
        ("I cannot decide.", REGEX_RULE, "the decision pattern matches nothing"),
        ("Probably yes", WORD_RULE, "the decision is not one of the labels"),
        ("   ", WORD_RULE, "empty answer"),
    ],
)
def test_unparseable_answers_get_a_reason_never_a_class(
    text: str, rule: DecisionRule, reason: str
) -> None:
    parsed = parse_decision(answer(text), rule)
    assert parsed.decision is None
    assert parsed.reason == reason


def test_a_refusal_or_a_filtered_answer_is_unparseable_and_says_why() -> None:
    refused = read_answer(
        {
            "choices": [
                {
                    "message": {"content": None, "refusal": "I can't help with that."},
                    "finish_reason": "stop",
                }
            ]
        }
    )
    assert parse_decision(refused, JSON_RULE).reason == "the model refused (message.refusal)"
    filtered = answer('{"decision": "approve"}', finish="content_filter")
    parsed = parse_decision(filtered, JSON_RULE)
    assert parsed.decision is None and "content_filter" in (parsed.reason or "")


def test_the_token_cap_field_and_temperature_follow_the_settings() -> None:
    messages = [{"role": "user", "content": "x"}]
    settings: dict = {"rule": JSON_RULE, "seed": None, "top_logprobs": None, "structured": False}
    body = chat_request(
        "m", messages, temperature=None, max_tokens=16, max_tokens_field="max_completion_tokens",
        **settings,
    )  # fmt: skip
    assert body == {"model": "m", "messages": messages, "max_completion_tokens": 16}
    body = chat_request("m", messages, temperature=0.0, max_tokens=16, **settings)
    assert body["max_tokens"] == 16 and body["temperature"] == 0.0


def test_a_truncated_answer_is_unparseable_even_when_it_names_a_label() -> None:
    # "approve" may be the start of "approve only if ..." cut short: never trust it
    parsed = parse_decision(answer("approve", finish="length"), WORD_RULE)
    assert parsed.decision is None
    assert parsed.reason is not None and "truncated" in parsed.reason


def test_rule_checks_itself() -> None:
    with pytest.raises(ModelSpecError, match="both positive and negative"):
        DecisionRule(positive=("Yes",), negative=("yes",))
    with pytest.raises(ModelSpecError, match="not both"):
        DecisionRule(positive=("a",), negative=("b",), field="f", regex="a")
    with pytest.raises(ModelSpecError, match=r"decision\.regex"):
        DecisionRule(positive=("a",), negative=("b",), regex="(")


def _token(text: str, top: dict[str, float]) -> dict:
    return {
        "token": text,
        "logprob": math.log(top.get(text, 1.0)),
        "top_logprobs": [{"token": t, "logprob": math.log(p)} for t, p in top.items()],
    }


def test_score_is_the_positive_share_of_the_label_tokens() -> None:
    # closed form: P(approve | a label) = 0.6 / (0.6 + 0.3)
    tokens = [
        _token('{"', {}),
        _token("decision", {}),
        _token('":', {}),
        _token(' "', {}),
        _token("approve", {"approve": 0.6, "reject": 0.3, "maybe": 0.1}),
        _token('"}', {}),
    ]
    text = "".join(t["token"] for t in tokens)
    parsed = parse_decision(answer(text, logprobs=tokens), JSON_RULE)
    assert parsed.decision == 1
    assert label_probability(tokens, parsed.offset, JSON_RULE) == pytest.approx(0.6 / 0.9)


def test_score_falls_back_to_the_chosen_tokens_probability() -> None:
    only_negative = [_token(" no", {" no": 0.8, " perhaps": 0.2})]
    assert label_probability(only_negative, 0, WORD_RULE) == pytest.approx(0.2)
    only_positive = [_token("Yes", {"Yes": 0.7})]
    assert label_probability(only_positive, 0, WORD_RULE) == pytest.approx(0.7)
    assert label_probability(None, 0, WORD_RULE) is None
    assert label_probability([_token("x", {"x": 1.0})], 0, WORD_RULE) is None


def test_majority_and_ties() -> None:
    assert majority([1, 1, 0]) == 1
    assert majority([0, None, 0]) == 0
    assert majority([1, 0]) is None
    assert majority([None, None]) is None


def test_prompt_renders_row_fields_and_replacements() -> None:
    template = PromptTemplate(
        prompt="name: {{ name }}\nhours: {{ row['hours-per-week'] }}\nnote: {{ note }}",
        system="You screen.",
    )
    row = {"name": "Emily", "hours-per-week": 40, "note": None}
    messages = template.render(row)
    assert messages[0] == {"role": "system", "content": "You screen."}
    assert messages[1]["content"] == "name: Emily\nhours: 40\nnote: "
    swapped = template.render(row, replace={"name": "Lakisha"})
    assert swapped[1]["content"].startswith("name: Lakisha\n")
    assert template.fields == ("hours-per-week", "name", "note")
    assert len(template.sha256) == 64
    with pytest.raises(DataError, match="undefined name"):
        template.render({"name": "x"})


def test_template_sandbox_refuses_python_internals() -> None:
    template = PromptTemplate(prompt="{{ name.__class__.__mro__ }}")
    with pytest.raises(DataError):
        template.render({"name": "x"})


def test_request_asks_for_structured_output_and_logprobs() -> None:
    body = chat_request(
        "m",
        [{"role": "user", "content": "hi"}],
        rule=JSON_RULE,
        temperature=0.0,
        seed=3,
        max_tokens=10,
        top_logprobs=5,
        structured=True,
    )
    schema = body["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["decision"]["enum"] == ["approve", "reject", "deny"]
    assert (body["seed"], body["max_tokens"], body["logprobs"], body["top_logprobs"]) == (
        3,
        10,
        True,
        5,
    )
    plain = chat_request(
        "m",
        [],
        rule=REGEX_RULE,
        temperature=0.5,
        seed=None,
        max_tokens=None,
        top_logprobs=None,
        structured=True,
    )
    assert set(plain) == {"model", "messages", "temperature"}


def test_answers_of_the_wrong_shape_are_one_line_errors() -> None:
    with pytest.raises(EndpointError, match="no 'choices'"):
        read_answer({"error": "x"})
    with pytest.raises(EndpointError, match="not text"):
        read_answer({"choices": [{"message": {"content": 3}}]})
    read = read_answer(
        {
            "choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 7, "completion_tokens": 2},
            "system_fingerprint": "fp",
        }
    )
    assert (read.prompt_tokens, read.completion_tokens, read.system_fingerprint) == (7, 2, "fp")
