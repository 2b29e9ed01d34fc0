"""The :class:`ChatDecisionAdapter`: an LLM behind ``/v1/chat/completions`` as the decision-maker.

Each row becomes one prompt (:class:`~audit.adapters.http.chat_decision.PromptTemplate`),
sent ``samples`` times; each answer is read by a
:class:`~audit.adapters.http.chat_decision.DecisionRule` into 1 (positive), 0, or
*unparseable*.  A row's decision is the majority of its parsed answers (a tie, or
no parsed answer, leaves it without one); its score, when ``top_logprobs`` is set,
is the mean P(positive) over its answers.

Unparseable rows
    A row without a decision (unparseable or truncated answers, or a tie between
    them) is never given a class.  By default the batch holding it fails with an
    :class:`~audit.errors.EndpointError` that counts the reasons (never quoting the
    answers, which may hold personal data), so the audit ends with exit code 2
    instead of concluding on fewer rows than asked.  With ``max_unanswered`` > 0
    such rows are marked unanswered instead (``Predictions.unanswered``, NaN labels
    and scores): the engine leaves them out of the audit while their share of the
    table is within ``max_unanswered``, and stops otherwise
    (:func:`audit.scoring.leave_out_unanswered`); :meth:`describe` counts them by
    reason.  With ``--cache-dir`` the batches answered are kept.

Consistency
    With ``samples`` k > 1, the share of rows whose k answers all agree is
    reported (``usage.consistency``); ``min_consistency`` makes a batch below it fail.

Cost
    Requests (retries included), prompt and completion tokens (from ``usage``),
    the model names and ``system_fingerprint`` values answered are counted under
    ``usage`` in :meth:`~ChatDecisionAdapter.describe`, which the report shows.
    ``max_requests`` and ``budget_tokens`` stop before spending more
    (:mod:`~audit.adapters.http.guard`).

Cached decisions
    :meth:`~ChatDecisionAdapter.predict_recorded` gives, with each batch, who answered
    it (:class:`~audit.core.answers.AnswerRecord`), which the prediction cache keeps;
    a batch read back from it is handed to :meth:`~ChatDecisionAdapter.add_cached`.
    ``usage.models`` and ``usage.system_fingerprints`` then name every model behind the
    decisions, fresh or cached, while ``requests`` and the token counts stay what this
    run spent; ``usage.from_cache`` says what the cached batches recorded when they were
    first scored (``None`` when none was read).

Requests for one batch are sent one after the other; the runner keeps
``concurrency`` batches in flight (:mod:`audit.scoring`).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from audit.adapters.http.chat_decision import (
    ChatAnswer,
    DecisionRule,
    ParsedDecision,
    PromptTemplate,
    TokenCapField,
    chat_request,
    label_probability,
    parse_decision,
    read_answer,
)
from audit.adapters.http.declared import select_columns
from audit.adapters.http.guard import RequestGuard, estimate_tokens
from audit.adapters.http.openai_chat import ChatClient
from audit.adapters.http.templating import row_values
from audit.adapters.http.transport import HttpTransport, safe_url
from audit.core.answers import AnswerRecord, CachedAnswers
from audit.core.closing import Closing
from audit.core.protocols import Predictions
from audit.core.provenance import utc_now
from audit.errors import EndpointError, UsageError

__all__ = ["ChatDecisionAdapter", "majority"]


def majority(decisions: Sequence[int | None]) -> int | None:
    """The decision most of the parsed answers give; ``None`` on a tie or with none parsed.

    >>> majority([1, 0, 1]), majority([1, 0]), majority([None, 0])
    (1, None, 0)
    """
    counts = Counter(d for d in decisions if d is not None)
    if not counts or counts[1] == counts[0]:
        return None
    return 1 if counts[1] > counts[0] else 0


class _Usage:
    """Counters shared by the threads scoring batches."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.rows = 0
        self.answers = 0
        self.consistent = 0
        self.unparseable: Counter[str] = Counter()
        self.unanswered: Counter[str] = Counter()
        self.models: set[str] = set()
        self.fingerprints: set[str] = set()
        self.cached = CachedAnswers()


class ChatDecisionAdapter(Closing):
    """An OpenAI-compatible chat model deciding on each row; see the module docstring.

    Parameters
    ----------
    url:
        The ``.../v1/chat/completions`` URL.
    model:
        The ``model`` field of each request.
    template, rule:
        How prompts are rendered and answers read.
    transport:
        Timeouts, retries, credentials; a default :class:`HttpTransport` when left out.
    temperature, seed, max_tokens:
        Sent with each request (each only when set).
    max_tokens_field:
        The field ``max_tokens`` is sent as: ``"max_tokens"`` or
        ``"max_completion_tokens"`` (which OpenAI's reasoning models require).
    top_logprobs:
        Ask for this many top tokens per position and score rows from them; ``None``:
        no scores, decisions only.
    structured:
        Send a ``response_format`` JSON schema when the rule reads a JSON field.
    samples:
        Answers asked per row.
    min_consistency:
        With ``samples`` > 1, fail a batch where a smaller share of rows got k equal answers.
    max_unanswered:
        The largest share of the table's rows that may get no decision and be left
        out of the audit; 0: any such row stops it (see the module docstring).
    batch_size, concurrency:
        Rows per :meth:`predict_batch` call, and batches the runner keeps in flight.
    input_columns:
        Columns given to the templates; ``None``: the audit's features.
    max_requests, budget_tokens:
        Spending limits (see :class:`~audit.adapters.http.guard.RequestGuard`).

    Raises
    ------
    UsageError
        If a count is not a positive int, or ``min_consistency`` or ``max_unanswered``
        is outside [0, 1].
    """

    def __init__(
        self,
        url: str,
        *,
        model: str,
        template: PromptTemplate,
        rule: DecisionRule,
        transport: HttpTransport | None = None,
        temperature: float | None = 0.0,
        seed: int | None = None,
        max_tokens: int | None = 64,
        max_tokens_field: TokenCapField = "max_tokens",
        top_logprobs: int | None = None,
        structured: bool = True,
        samples: int = 1,
        min_consistency: float | None = None,
        max_unanswered: float = 0.0,
        batch_size: int = 8,
        concurrency: int = 4,
        input_columns: Sequence[str] | None = None,
        max_requests: int | None = None,
        budget_tokens: int | None = None,
    ) -> None:
        for name, value in (("samples", samples), ("batch_size", batch_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"{name} must be an int >= 1; got {value!r} instead.")
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise UsageError(f"concurrency must be an int >= 1; got {concurrency!r} instead.")
        if min_consistency is not None and not 0.0 <= min_consistency <= 1.0:
            raise UsageError(f"min_consistency must be in [0, 1]; got {min_consistency!r}.")
        if isinstance(max_unanswered, bool) or not (
            isinstance(max_unanswered, int | float) and 0.0 <= max_unanswered <= 1.0
        ):
            raise UsageError(f"max_unanswered must be in [0, 1]; got {max_unanswered!r}.")
        self.url = url
        self.model = model
        self.template = template
        self.rule = rule
        self.transport = transport if transport is not None else HttpTransport()
        self.temperature = temperature
        self.seed = seed
        self.max_tokens = max_tokens
        self.max_tokens_field: TokenCapField = max_tokens_field
        self.top_logprobs = top_logprobs
        self.structured = structured
        self.samples = samples
        self.min_consistency = min_consistency
        self.max_unanswered = float(max_unanswered)
        self.batch_size = batch_size
        self.concurrency = concurrency
        self._input_columns = None if input_columns is None else list(input_columns)
        self._usage = _Usage()
        self.guard = RequestGuard(
            max_requests=max_requests,
            budget_tokens=budget_tokens,
            sent=lambda: self.transport.requests_sent,
            progress=lambda: f"{self._usage.rows:,} rows answered before the stop",
        )

    @property
    def input_columns(self) -> Sequence[str] | None:
        """Columns given to the templates, or ``None`` for the audit's feature columns."""
        return self._input_columns

    def __repr__(self) -> str:
        return f"ChatDecisionAdapter({safe_url(self.url)!r}, model={self.model!r})"

    def close(self) -> None:
        """Close the transport's connections."""
        self.transport.close()

    def ask(self, messages: Sequence[Mapping[str, str]]) -> tuple[ParsedDecision, float | None]:
        """Send one prompt once: its parsed decision and P(positive) (``None`` without logprobs).

        Raises
        ------
        EndpointError
            If the request fails or the answer has the wrong shape.
        SpendingLimitReached
            If a request or token limit would be passed.
        """
        parsed, score, _ = self._ask(messages)
        return parsed, score

    def _ask(
        self, messages: Sequence[Mapping[str, str]]
    ) -> tuple[ParsedDecision, float | None, ChatAnswer]:
        body = chat_request(
            self.model,
            messages,
            rule=self.rule,
            temperature=self.temperature,
            seed=self.seed,
            max_tokens=self.max_tokens,
            top_logprobs=self.top_logprobs,
            structured=self.structured,
            max_tokens_field=self.max_tokens_field,
        )
        text = "".join(m["content"] for m in messages)
        estimate = self.guard.reserve(tokens=estimate_tokens(text, self.max_tokens))
        spent: int | None = None
        try:
            answer = read_answer(self.transport.post_json(self.url, body, rows=1))
            if answer.prompt_tokens is not None and answer.completion_tokens is not None:
                spent = answer.prompt_tokens + answer.completion_tokens
        except EndpointError as exc:
            raise EndpointError(f"{safe_url(self.url)}: {exc}") from None
        finally:
            self.guard.settle(estimated=estimate, spent=spent)
        parsed = parse_decision(answer, self.rule)
        with self._usage.lock:
            self._usage.answers += 1
            self._usage.prompt_tokens += answer.prompt_tokens or 0
            self._usage.completion_tokens += answer.completion_tokens or 0
            self._usage.models.update([answer.model] if answer.model else [])
            self._usage.fingerprints.update(
                [answer.system_fingerprint] if answer.system_fingerprint else []
            )
            if parsed.decision is None and parsed.reason is not None:
                self._usage.unparseable[parsed.reason] += 1
        score = None
        if self.top_logprobs is not None and parsed.decision is not None:
            score = label_probability(answer.logprobs, parsed.offset, self.rule)
            if score is None:
                raise EndpointError(
                    f"{safe_url(self.url)}: the answer carries no logprobs for the decision "
                    "token; the server may not return them: leave out 'score: logprobs'"
                )
        return parsed, score, answer

    def complete(self, prompts: Sequence[str]) -> list[str]:
        """Send each prompt as one plain user message; the answers' texts.

        For a policy's probe prompts (``probes.endpoint: model``): the same endpoint,
        model and credentials as the decisions, without the decision format.

        Raises
        ------
        EndpointError
            If a request fails or an answer has the wrong shape.
        """
        client = ChatClient(
            self.url,
            model=self.model,
            transport=self.transport,
            max_prompts=max(len(prompts), 1),
            temperature=self.temperature or 0.0,
            max_tokens=self.max_tokens,
        )
        return client.complete(prompts)  # the transport stays open: it is this adapter's

    def predict_batch(self, rows: pd.DataFrame) -> Predictions:
        """Decide every row (see the module docstring).

        Raises
        ------
        DataError
            If a column is missing, a value cannot be carried, or a template fails.
        EndpointError
            If a request fails, a row gets no decision, or consistency is too low.
        SpendingLimitReached
            If a request or token limit would be passed.
        """
        return self.predict_recorded(rows)[0]

    def predict_recorded(self, rows: pd.DataFrame) -> tuple[Predictions, AnswerRecord]:
        """:meth:`predict_batch`, and who answered: for the prediction cache to keep.

        Raises
        ------
        DataError, EndpointError, SpendingLimitReached
            As :meth:`predict_batch`.
        """
        return self._decide(row_values(select_columns(rows, self._input_columns)), None)

    def add_cached(self, record: AnswerRecord | None) -> None:
        """Count a batch read from the prediction cache, with who answered it when recorded."""
        self._usage.cached.add(record)

    def decide(
        self,
        rows: Sequence[Mapping[str, Any]],
        *,
        replace: Sequence[Mapping[str, Any] | None] | None = None,
    ) -> Predictions:
        """Decide rows given as dicts of JSON values, each with some fields replaced first.

        This is :meth:`predict_batch` for callers that change the prompt's fields: a
        counterfactual (another name) or an ablation (a neutral text), e.g.
        ``adapter.decide([row, row], replace=[None, {"name": "Emily"}])``.

        Raises
        ------
        DataError
            If a template fails on a row.
        EndpointError
            If a request fails, a row gets no decision, or consistency is too low.
        SpendingLimitReached
            If a request or token limit would be passed.
        """
        return self._decide(rows, replace)[0]

    def _decide(
        self,
        rows: Sequence[Mapping[str, Any]],
        replace: Sequence[Mapping[str, Any] | None] | None,
    ) -> tuple[Predictions, AnswerRecord]:
        changes = list(replace) if replace is not None else [None] * len(rows)
        if len(changes) != len(rows):
            raise UsageError(f"replace has {len(changes)} entries for {len(rows)} rows")
        labels: list[int | None] = []
        scores: list[float] = []
        why: Counter[str] = Counter()
        agreeing = tied = 0
        read: list[ChatAnswer] = []
        for row, change in zip(rows, changes, strict=True):
            messages = self.template.render(row, replace=change)
            asked = [self._ask(messages) for _ in range(self.samples)]
            read.extend(answer for _, _, answer in asked)
            answers = [(parsed, score) for parsed, score, _ in asked]
            decisions = [parsed.decision for parsed, _ in answers]
            labels.append(majority(decisions))
            tie = labels[-1] is None and any(d is not None for d in decisions)
            tied += int(tie)
            agreeing += int(None not in decisions and len(set(decisions)) == 1)
            found = [score for _, score in answers if score is not None]
            scores.append(float(np.mean(found)) if found and not tie else float("nan"))
            if labels[-1] is None:
                reasons = Counter(parsed.reason or "no decision" for parsed, _ in answers)
                why["tied answers" if tie else reasons.most_common(1)[0][0]] += 1
        with self._usage.lock:
            self._usage.rows += len(labels)
            self._usage.consistent += agreeing
            self._usage.unanswered.update(why)
        self._check(labels, agreeing, tied)
        unanswered = np.asarray([label is None for label in labels], dtype=np.bool_)
        score_array = np.asarray(scores, dtype=np.float64)
        if not unanswered.any():
            predictions = Predictions(
                labels=np.asarray(labels, dtype=np.int64),
                scores=score_array if self.top_logprobs is not None else None,
            )
        else:
            predictions = Predictions(  # only with max_unanswered > 0: NaN, never a class
                labels=np.asarray([np.nan if x is None else x for x in labels], dtype=np.float64),
                scores=score_array if self.top_logprobs is not None else None,
                unanswered=unanswered,
            )
        return predictions, _record(read, len(labels))

    def unanswered_reasons(self) -> dict[str, int]:
        """Rows that got no decision so far, by reason (the most common among their answers)."""
        with self._usage.lock:
            return dict(sorted(self._usage.unanswered.items()))

    def _check(self, labels: Sequence[int | None], agreeing: int, tied: int) -> None:
        where = safe_url(self.url)
        missing = sum(label is None for label in labels)
        if missing and not self.max_unanswered:
            with self._usage.lock:
                reasons = "; ".join(f"{n} {why}" for why, n in self._usage.unparseable.items())
            raise EndpointError(
                f"{where}: {missing} of {len(labels)} rows in a batch got no decision "
                f"({tied} with tied answers; unparseable answers so far: {reasons or 'none'}); "
                "an unparseable answer is never given a class, so the audit stops: fix the "
                "prompt, the decision rule or max_tokens"
                + (" (use an odd number of samples)" if tied else "")
            )
        if self.samples > 1 and self.min_consistency is not None and labels:
            share = agreeing / len(labels)
            if share < self.min_consistency:
                raise EndpointError(
                    f"{where}: the answers changed between calls: {agreeing} of {len(labels)} "
                    f"rows in a batch got {self.samples} equal answers ({share:.0%}), below "
                    f"min_consistency {self.min_consistency:.0%}"
                )

    def usage(self) -> dict[str, Any]:
        """Requests, tokens, answers, unparseable answers, consistency, models seen.

        The counts are this run's; ``models`` and ``system_fingerprints`` also name those
        that answered the batches read from the cache, which ``from_cache`` describes
        (see the module docstring).
        """
        cached = self._usage.cached
        with self._usage.lock:
            u = self._usage
            consistency = u.consistent / u.rows if self.samples > 1 and u.rows else None
            return {
                "requests": self.transport.requests_sent,
                "prompt_tokens": u.prompt_tokens,
                "completion_tokens": u.completion_tokens,
                "rows_answered": u.rows,
                "answers": u.answers,
                "unparseable_answers": sum(u.unparseable.values()),
                "unparseable_reasons": dict(sorted(u.unparseable.items())),
                "consistency": consistency,
                "models": sorted(u.models | cached.models()),
                "system_fingerprints": sorted(u.fingerprints | cached.system_fingerprints()),
                "from_cache": cached.describe(),
            }

    def _unanswered(self) -> dict[str, Any]:
        reasons = self.unanswered_reasons()
        if not self.max_unanswered:
            treatment = "none allowed: a row without a decision stops the audit"
        else:
            treatment = (
                f"left out of the audit, never given a class, while at most "
                f"{self.max_unanswered:.1%} of the rows (max_unanswered)"
            )
        return {"count": sum(reasons.values()), "reasons": reasons, "treatment": treatment}

    def _identity(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "template_sha256": self.template.sha256,
            "decision": {
                "field": self.rule.field,
                "regex": self.rule.regex,
                "positive": list(self.rule.positive),
                "negative": list(self.rule.negative),
                "structured_output": self.structured and self.rule.field is not None,
            },
            "temperature": self.temperature,
            "seed": self.seed,
            "max_tokens": self.max_tokens,
            "max_tokens_field": self.max_tokens_field,
            "top_logprobs": self.top_logprobs,
            "samples": self.samples,
        }

    def describe(self) -> dict[str, Any]:
        """Kind, URL, model, templates and their SHA-256, decision rule, sampling, usage."""
        score = (
            f"P(positive label) from the logprobs of the decision token (top {self.top_logprobs})"
            if self.top_logprobs is not None
            else "none: decisions only (logprobs not asked for)"
        )
        return {
            "kind": "chat",
            "location": safe_url(self.url),
            **self._identity(),
            "system_prompt": self.template.system,
            "prompt_template": self.template.prompt,
            "prompt_fields": list(self.template.fields),
            "score": score,
            "aggregate": "majority of the parsed answers; a tie is no decision"
            if self.samples > 1
            else "one answer per row",
            "batch_size": self.batch_size,
            **self.transport.describe(),
            "concurrency": self.concurrency,
            "limits": self.guard.describe(),
            "usage": self.usage(),
            "unanswered_rows": self._unanswered(),
            **({"input_columns": self._input_columns} if self._input_columns else {}),
        }

    def fingerprint(self) -> str:
        """SHA-256 of the URL (without credentials), model, templates, rule and sampling."""
        identity = {"kind": "chat", "url": safe_url(self.url), **self._identity()}
        identity["input_columns"] = self._input_columns
        encoded = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(encoded.encode()).hexdigest()


def _record(answers: Sequence[ChatAnswer], rows: int) -> AnswerRecord:
    """Who gave ``answers`` (the answers to one batch of ``rows`` rows), and their tokens."""
    return AnswerRecord(
        rows=rows,
        scored_at=utc_now(),
        models=tuple(sorted({a.model for a in answers if a.model})),
        system_fingerprints=tuple(
            sorted({a.system_fingerprint for a in answers if a.system_fingerprint})
        ),
        answers=len(answers),
        prompt_tokens=sum(a.prompt_tokens or 0 for a in answers),
        completion_tokens=sum(a.completion_tokens or 0 for a in answers),
    )
