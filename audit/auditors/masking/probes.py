"""Output leakage: send a policy's probe prompts to a text model and scan its answers for PII.

The model is an OpenAI-compatible chat endpoint (one request per prompt), or a model
served over MLflow (``/invocations``) or the Open Inference Protocol v2 that returns
text: the prompts go as one column, one row per prompt, through the same
:class:`~audit.adapters.http.adapter.HttpAdapter` as tabular models, and its text
output (the predictions' labels) is read as the answers.

The answers are scanned by the same recognizers as the data (as one free-text column,
one cell per answer), so a leak is found exactly as a raw value in a table would be.
Only masked matches leave this module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from audit.adapters.http.adapter import http_adapter
from audit.adapters.http.openai_chat import chat_client
from audit.adapters.http.transport import safe_url
from audit.auditors.masking.config import MODEL_ENDPOINT, ProbeConfig, probe_protocol
from audit.auditors.masking.ner import NerEngine
from audit.auditors.masking.patterns import Recognizer
from audit.auditors.masking.redact import mask_sample
from audit.auditors.masking.scanner import scan_column
from audit.errors import AuditError

__all__ = ["Leak", "ProbeRun", "run_probes"]

CompleteFn = Callable[[Sequence[str]], list[str]]

ERR_NOT_CHAT = (
    "probes.endpoint is 'model', but the audited model is not a chat endpoint "
    "(its adapter has no complete(prompts) method); give the model's URL instead"
)
ERR_NO_MODEL = "probes.endpoint is 'model', but this audit has no model"
ERR_NO_TEXT = "the model returned no text for the prompts (scores only)"
ERR_NOT_TEXT = "the model returned {kind} values, not text, for the prompts"


@dataclass(frozen=True)
class Leak:
    """One entity found in the answer to one prompt (masked; never the raw value)."""

    prompt: int
    """Position of the prompt in ``probes.prompts`` (0 is the first)."""
    entity: str
    masked: str
    recognizers: str


@dataclass
class ProbeRun:
    """What probing found, or why it could not run."""

    endpoint: str
    """Where the prompts went, without credentials, and by which protocol."""
    sent: int = 0
    leaks: list[Leak] = field(default_factory=list)
    error: str | None = None


def _model_complete(model: object | None) -> CompleteFn | str:
    if model is None:
        return ERR_NO_MODEL
    complete = getattr(model, "complete", None)
    return complete if callable(complete) else ERR_NOT_CHAT


def _answers(probes: ProbeConfig, model: object | None, prompts: Sequence[str]) -> list[str]:
    """The answers to ``prompts``; raises :class:`AuditError` (or ``ValueError``) on failure."""
    protocol = probe_protocol(probes)
    if probes.endpoint == MODEL_ENDPOINT:
        complete = _model_complete(model)
        if isinstance(complete, str):
            raise ValueError(complete)
        answers = list(complete(prompts))
    elif protocol in ("mlflow", "oip-v2"):
        answers = _served_answers(probes, prompts)
    else:
        with chat_client(
            probes.endpoint,
            model=probes.model,
            timeout=probes.timeout,
            max_retries=probes.max_retries,
            max_prompts=probes.max_prompts,
            max_tokens=probes.max_tokens,
            default_token=False,  # the policy chose this URL: it gets no credentials
        ) as client:
            answers = client.complete(prompts)
    if len(answers) != len(prompts):
        raise ValueError(f"{len(prompts)} prompts sent but {len(answers)} answers returned")
    return [a if isinstance(a, str) else str(a) for a in answers]


def _served_answers(probes: ProbeConfig, prompts: Sequence[str]) -> list[str]:
    """The text a model served over MLflow or OIP v2 returns for ``prompts``, in one batch."""
    with http_adapter(
        probes.endpoint,
        batch_size=len(prompts),
        timeout=probes.timeout,
        max_retries=probes.max_retries,
        output_name=probes.output_name,
        # a text model has no probabilities to ask for: the output named, else its own
        outputs=(probes.output_name,) if probes.output_name is not None else (),
        default_token=False,  # the policy chose this URL: it gets no credentials
    ) as adapter:
        predictions = adapter.predict_batch(pd.DataFrame({probes.input_column: list(prompts)}))
    if predictions.labels is None:
        raise ValueError(ERR_NO_TEXT)
    labels = np.asarray(predictions.labels)
    if labels.dtype != object:
        kind = "boolean" if labels.dtype.kind == "b" else "numeric"
        raise ValueError(ERR_NOT_TEXT.format(kind=kind))
    return [str(v) for v in labels.tolist()]


def _where(probes: ProbeConfig) -> str:
    if probes.endpoint == MODEL_ENDPOINT:
        return "the audited model"
    return f"{safe_url(probes.endpoint)} ({probe_protocol(probes)})"


def run_probes(
    probes: ProbeConfig,
    model: object | None,
    recognizers: Sequence[Recognizer],
    *,
    max_chars: int,
    ner: NerEngine | None = None,
) -> ProbeRun:
    """Send the probe prompts and scan the answers.

    Parameters
    ----------
    probes : ProbeConfig
        Endpoint, prompts and limits.
    model : object or None
        The audited model, used when ``probes.endpoint`` is ``"model"``.
    recognizers : sequence of Recognizer
        What to look for in the answers.
    max_chars : int
        Longer answers are scanned up to this many characters.
    ner : NerEngine, optional
        A spaCy pipeline that also looks for person names in the answers.

    Returns
    -------
    ProbeRun
        Masked leaks per prompt and entity; ``error`` holds a one-line reason when the
        endpoint could not be used (nothing raises).
    """
    where = _where(probes)
    prompts = list(probes.prompts[: probes.max_prompts])
    try:
        answers = _answers(probes, model, prompts)
    except (AuditError, ValueError) as exc:
        reason = " ".join(str(exc).split())
        return ProbeRun(endpoint=where, error=f"probes not answered: {reason}")
    run = ProbeRun(endpoint=where, sent=len(prompts))
    scan = scan_column(
        "answer", pd.Series(answers, dtype=object), recognizers, max_chars=max_chars, ner=ner
    )
    for entity, hits in sorted(scan.hits.items()):
        named = ", ".join(sorted(hits.recognizers))
        for row, text in zip(hits.rows.tolist(), hits.texts.to_pylist(), strict=True):
            run.leaks.append(Leak(int(row), entity, mask_sample(text), named))
    run.leaks.sort(key=lambda leak: (leak.prompt, leak.entity))
    return run
