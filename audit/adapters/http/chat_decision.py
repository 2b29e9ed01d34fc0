"""Codec of an LLM that decides: prompts from rows, decisions and scores from answers; no I/O.

Prompt
    :class:`PromptTemplate` renders a system prompt and a user prompt (sandboxed
    Jinja2, see :mod:`~audit.adapters.http.templating`) from one row: each column
    is a name in the template (``{{ age }}``), and ``row`` holds them all
    (``{{ row["education-num"] }}``).  :meth:`PromptTemplate.render` can replace
    some fields first, which is how a counterfactual (a changed name) or an
    ablation (a neutral text) is built from the same row.

Request
    :func:`chat_request` builds the ``/v1/chat/completions`` body: temperature,
    seed, ``max_tokens`` (or ``max_completion_tokens``), ``logprobs``/``top_logprobs``
    when a score is wanted, and
    a ``response_format`` whose JSON schema allows only the decision field with the
    declared labels (structured output), when the rule reads a JSON field.

Decision
    :func:`parse_decision` reads the answer's text by a :class:`DecisionRule`: a
    JSON field, a regular expression, or the whole text; the words found are
    matched (case and surrounding quotes and punctuation ignored) against the
    rule's positive and negative labels, giving 1 or 0.  Anything else, any answer
    cut short (``finish_reason: "length"``) or withheld (``"content_filter"``), and
    any refusal (``message.refusal``), is *unparseable*: it is given a reason,
    never a class.

Score
    :func:`label_probability` reads ``logprobs.content`` at the token where the
    decision word starts: P(positive) = p+ / (p+ + p-) over the top tokens that
    begin a positive (p+) or a negative (p-) label; when only one side is among
    them, the chosen label's own probability (or its complement) is used.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import jinja2

from audit.adapters.http.templating import (
    compile_template,
    render_text,
    sha256_text,
    template_names,
)
from audit.errors import EndpointError, ModelSpecError

__all__ = [
    "ChatAnswer",
    "DecisionRule",
    "ParsedDecision",
    "PromptTemplate",
    "TokenCapField",
    "chat_request",
    "label_probability",
    "parse_decision",
    "read_answer",
]

TokenCapField = Literal["max_tokens", "max_completion_tokens"]
"""The request field that caps an answer's tokens."""

_FENCE = re.compile(r"^\s*```(?:json)?\s*(?P<body>.*?)\s*```\s*$", re.DOTALL)
_TRIM = " \t\r\n\"'`.,;:!?*()[]{}"


def _normal(text: str) -> str:
    return text.strip(_TRIM).casefold()


@dataclass(frozen=True)
class DecisionRule:
    """How an answer's text becomes a decision.

    Attributes
    ----------
    positive, negative:
        The words meaning the favourable decision (1) and the other (0).
    field:
        Read this field of the answer parsed as a JSON object (structured output).
    regex:
        Otherwise, search this pattern; its first group (or the whole match) is the word.
    """

    positive: tuple[str, ...]
    negative: tuple[str, ...]
    field: str | None = None
    regex: str | None = None
    _pattern: re.Pattern[str] | None = dataclasses.field(
        default=None, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if not self.positive or not self.negative:
            raise ModelSpecError("decision: name at least one positive and one negative label")
        overlap = {_normal(w) for w in self.positive} & {_normal(w) for w in self.negative}
        if overlap:
            raise ModelSpecError(f"decision: {sorted(overlap)} are both positive and negative")
        if self.field is not None and self.regex is not None:
            raise ModelSpecError("decision: give 'field' or 'regex', not both")
        if self.regex is not None:
            try:
                pattern = re.compile(self.regex)
            except re.error as exc:
                raise ModelSpecError(f"decision.regex: {exc}") from None
            object.__setattr__(self, "_pattern", pattern)

    @property
    def labels(self) -> tuple[str, ...]:
        """Every label word, positive first."""
        return (*self.positive, *self.negative)

    def classify(self, word: str) -> int | None:
        """1 for a positive word, 0 for a negative one, ``None`` for anything else."""
        normal = _normal(word)
        if normal in {_normal(w) for w in self.positive}:
            return 1
        if normal in {_normal(w) for w in self.negative}:
            return 0
        return None


@dataclass(frozen=True)
class ParsedDecision:
    """One answer read: the decision (1, 0, or ``None``), why not, and where the word starts."""

    decision: int | None
    reason: str | None = None
    offset: int | None = None


@dataclass(frozen=True)
class ChatAnswer:
    """The parts of a chat completion answer the audit reads."""

    content: str
    finish_reason: str | None
    logprobs: list[Any] | None
    prompt_tokens: int | None
    completion_tokens: int | None
    model: str | None
    system_fingerprint: str | None
    refusal: str | None = None


@dataclass(frozen=True)
class PromptTemplate:
    """The system and user prompt templates of an LLM decision-maker.

    Raises
    ------
    ModelSpecError
        If a template's syntax is wrong.
    """

    prompt: str
    system: str | None = None
    _compiled: tuple[jinja2.Template | None, jinja2.Template] = dataclasses.field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        system = None if self.system is None else compile_template(self.system, what="system")
        object.__setattr__(
            self, "_compiled", (system, compile_template(self.prompt, what="prompt"))
        )

    @property
    def sha256(self) -> str:
        """SHA-256 of the system and user templates together (recorded in provenance)."""
        return sha256_text(json.dumps([self.system, self.prompt]))

    @property
    def fields(self) -> tuple[str, ...]:
        """The names the templates use (besides ``row``), sorted: the prompt's fields."""
        names: set[str] = set()
        for text in (self.system, self.prompt):
            if text is not None:
                names |= template_names(text)
        return tuple(sorted(names - {"row"}))

    def render(
        self, row: Mapping[str, Any], *, replace: Mapping[str, Any] | None = None
    ) -> list[dict[str, str]]:
        """The chat messages for ``row``, with the fields in ``replace`` changed first.

        Raises
        ------
        DataError
            If a template names a field the row lacks, or fails.
        """
        values = {**row, **(replace or {})}
        context = {**values, "row": values}
        system, prompt = self._compiled
        messages = []
        if system is not None:
            messages.append(
                {"role": "system", "content": render_text(system, context, what="system")}
            )
        messages.append({"role": "user", "content": render_text(prompt, context, what="prompt")})
        return messages


def chat_request(
    model: str,
    messages: Sequence[Mapping[str, str]],
    *,
    rule: DecisionRule,
    temperature: float | None,
    seed: int | None,
    max_tokens: int | None,
    top_logprobs: int | None,
    structured: bool,
    max_tokens_field: TokenCapField = "max_tokens",
) -> dict[str, Any]:
    """The ``/v1/chat/completions`` body (see the module docstring).

    ``temperature`` and ``seed`` are left out when ``None`` (reasoning models refuse
    a temperature); the cap on the answer's tokens is sent as ``max_tokens_field``:
    ``max_tokens``, which most OpenAI-compatible servers read, or
    ``max_completion_tokens``, which OpenAI's reasoning models require instead.
    """
    body: dict[str, Any] = {"model": model, "messages": [dict(m) for m in messages]}
    if temperature is not None:
        body["temperature"] = temperature
    if seed is not None:
        body["seed"] = seed
    if max_tokens is not None:
        body[max_tokens_field] = max_tokens
    if top_logprobs is not None:
        body["logprobs"] = True
        body["top_logprobs"] = top_logprobs
    if structured and rule.field is not None:
        schema = {
            "type": "object",
            "properties": {rule.field: {"type": "string", "enum": list(rule.labels)}},
            "required": [rule.field],
            "additionalProperties": False,
        }
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "decision", "strict": True, "schema": schema},
        }
    return body


def _count(usage: Any, name: str) -> int | None:
    value = usage.get(name) if isinstance(usage, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def read_answer(body: Any) -> ChatAnswer:
    """The content, finish reason, logprobs, usage and model identity of an answer.

    Raises
    ------
    EndpointError
        If the answer lacks ``choices[0].message``; never quotes the content.
    """
    choices = body.get("choices") if isinstance(body, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise EndpointError("the answer has no 'choices' list")
    choice = choices[0]
    message = choice.get("message")
    if not isinstance(message, dict):
        raise EndpointError("choices[0] has no 'message' object")
    content = message.get("content")
    if content is not None and not isinstance(content, str):
        raise EndpointError(f"choices[0].message.content is {type(content).__name__}, not text")
    logprobs = choice.get("logprobs")
    tokens = logprobs.get("content") if isinstance(logprobs, dict) else None
    usage = body.get("usage")
    fingerprint = body.get("system_fingerprint")
    refusal = message.get("refusal")
    return ChatAnswer(
        content=content or "",
        finish_reason=reason if isinstance(reason := choice.get("finish_reason"), str) else None,
        logprobs=tokens if isinstance(tokens, list) else None,
        prompt_tokens=_count(usage, "prompt_tokens"),
        completion_tokens=_count(usage, "completion_tokens"),
        model=body.get("model") if isinstance(body.get("model"), str) else None,
        system_fingerprint=fingerprint if isinstance(fingerprint, str) else None,
        refusal=refusal if isinstance(refusal, str) and refusal.strip() else None,
    )


def parse_decision(answer: ChatAnswer, rule: DecisionRule) -> ParsedDecision:
    """Read the decision from an answer by ``rule``; unparseable answers get a reason.

    >>> rule = DecisionRule(positive=("approve",), negative=("reject",), field="decision")
    >>> text = '{"decision": "Approve"}'
    >>> parse_decision(ChatAnswer(text, "stop", None, None, None, None, None), rule)
    ParsedDecision(decision=1, reason=None, offset=14)
    """
    text = answer.content
    if answer.refusal is not None:
        return ParsedDecision(None, "the model refused (message.refusal)")
    if answer.finish_reason == "length":
        return ParsedDecision(None, "truncated (finish_reason 'length'): raise max_tokens")
    if answer.finish_reason == "content_filter":
        return ParsedDecision(None, "withheld by a content filter (finish_reason 'content_filter')")
    if not text.strip():
        return ParsedDecision(None, "empty answer")
    if rule.field is not None:
        return _parse_field(text, rule)
    if rule._pattern is not None:
        match = rule._pattern.search(text)
        if match is None:
            return ParsedDecision(None, "the decision pattern matches nothing")
        group = 1 if match.re.groups else 0
        word, offset = match.group(group) or "", match.start(group)
    else:
        word, offset = text, len(text) - len(text.lstrip(_TRIM))
    decision = rule.classify(word)
    if decision is None:
        return ParsedDecision(None, "the decision is not one of the labels")
    return ParsedDecision(decision, offset=offset)


def _parse_field(text: str, rule: DecisionRule) -> ParsedDecision:
    fenced = _FENCE.match(text)
    source = fenced.group("body") if fenced else text
    try:
        value = json.loads(source)
    except ValueError:
        return ParsedDecision(None, "the answer is not JSON")
    if not isinstance(value, dict):
        return ParsedDecision(None, "the answer is not a JSON object")
    if rule.field not in value:
        return ParsedDecision(None, f"the answer has no field {rule.field!r}")
    word = value[rule.field]
    if not isinstance(word, str):
        return ParsedDecision(None, f"field {rule.field!r} is not text")
    decision = rule.classify(word)
    if decision is None:
        return ParsedDecision(None, f"field {rule.field!r} is not one of the labels")
    key = text.find(json.dumps(rule.field))
    offset = text.find(word, key + 1 if key >= 0 else 0)
    return ParsedDecision(decision, offset=offset if offset >= 0 else None)


def _side(token: Any, rule: DecisionRule) -> int | None:
    text = _normal(token) if isinstance(token, str) else ""
    if not text:
        return None
    positive = any(_normal(w).startswith(text) for w in rule.positive)
    negative = any(_normal(w).startswith(text) for w in rule.negative)
    return None if positive == negative else int(positive)


def label_probability(
    tokens: Sequence[Any] | None, offset: int | None, rule: DecisionRule
) -> float | None:
    """P(positive) from the logprobs of the token where the decision starts; ``None`` if unknown.

    >>> rule = DecisionRule(positive=("yes",), negative=("no",))
    >>> top = [{"token": "Yes", "logprob": math.log(0.6)}, {"token": "No", "logprob": math.log(0.3)}]
    >>> round(label_probability([{"token": "Yes", "logprob": math.log(0.6), "top_logprobs": top}], 0, rule), 6)
    0.666667
    """  # noqa: E501
    if not tokens or offset is None:
        return None
    start = 0
    for token in tokens:
        text = token.get("token") if isinstance(token, dict) else None
        if not isinstance(text, str):
            return None
        if start <= offset < start + max(len(text), 1) or start > offset:
            return _probability(token, rule)
        start += len(text)
    return None


def _probability(token: Mapping[str, Any], rule: DecisionRule) -> float | None:
    entries = token.get("top_logprobs") or [token]
    mass = [0.0, 0.0]
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("logprob"), int | float):
            continue
        side = _side(entry.get("token"), rule)
        if side is not None:
            mass[side] += math.exp(float(entry["logprob"]))
    negative, positive = mass
    if positive > 0 and negative > 0:
        return positive / (positive + negative)
    if positive > 0:
        return min(positive, 1.0)
    if negative > 0:
        return max(1.0 - negative, 0.0)
    return None
