"""Loading model config files (``--model config.yaml``) into adapters, with exact error messages.

A model config declares a served model instead of coding an adapter::

    kind: chat                               # or: rest
    url: http://127.0.0.1:8000/v1
    model: screening-model
    headers: {Authorization: OPENAI_AUTH}    # header -> environment variable
    prompt: |
      Applicant: age {{ age }}, education {{ education }} ...
    decision: {field: decision, positive: approve, negative: reject}

Files are read as the policy loader reads policies (safe YAML, 1 MiB at most, no
aliases or tags, duplicate keys refused), and every problem is a
:class:`ModelConfigError` whose message reads
``screening.yaml:7:3: decision.positive: field required``.
Credentials are only read from the environment variables the file names, when
the adapter is built; their values are never shown.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from audit.adapters.config.presets import PRESETS
from audit.adapters.config.schema import ChatConfig, RestConfig
from audit.adapters.http.chat_adapter import ChatDecisionAdapter
from audit.adapters.http.chat_decision import DecisionRule, PromptTemplate
from audit.adapters.http.declared import RestAdapter
from audit.adapters.http.openai_chat import chat_url
from audit.adapters.http.rest import RestCodec
from audit.adapters.http.transport import HttpTransport, safe_url
from audit.errors import ModelSpecError, PolicyError
from audit.yaml_marks import (  # the YAML-with-line-marks reader policies use
    FieldPath,
    _Mark,
    _nearest,
    _parse_yaml,
    _position,
    _read_file,
    _translate,
)

__all__ = [
    "FieldLocations",
    "ModelConfig",
    "ModelConfigError",
    "build_adapter",
    "load_model_config",
]

ModelConfig = RestConfig | ChatConfig
"""A validated model config."""

_KINDS: dict[str, type[BaseModel]] = {"rest": RestConfig, "chat": ChatConfig}
_WORDING = (
    ("in policy files", "in model config files"),
    ("a policy needs", "a model config needs"),
)


class ModelConfigError(ModelSpecError):
    """A model config file is wrong; the message is the first problem, ``errors`` lists them."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors: tuple[str, ...] = tuple(errors)
        """Every problem found, each a ``file:line:column: field: message`` line."""
        super().__init__(self.errors[0])


def _reworded(exc: PolicyError) -> ModelConfigError:
    lines = getattr(exc, "errors", (str(exc),))
    out = []
    for line in lines:
        for old, new in _WORDING:
            line = line.replace(old, new)
        if "a policy must be a mapping" in line:
            line = line.split("a policy must be")[0] + "a model config must be a mapping of fields"
        out.append(line.replace("name, version and requirements", "kind and url"))
    return ModelConfigError(out)


class FieldLocations:
    """Where each field of a config file is, for messages (``file:line:column``)."""

    def __init__(self, display: str, marks: Mapping[FieldPath, _Mark]) -> None:
        self.display = display
        self.marks = marks

    def at(self, path: FieldPath) -> str:
        """``file:line:column`` of ``path``, or of its nearest enclosing field."""
        found = _nearest(self.marks, path)
        position = _position(self.marks[found]) if found is not None else "1:1"
        return f"{self.display}:{position}"

    def error(self, path: FieldPath, message: str) -> ModelConfigError:
        """A :class:`ModelConfigError` about the field at ``path``."""
        field = ".".join(str(p) for p in path)
        return ModelConfigError([f"{self.at(path)}: {field}: {message}" if field else message])


def load_model_config(path: str | os.PathLike[str]) -> tuple[ModelConfig, FieldLocations]:
    """Read and validate a model config file; the config and its field positions.

    Raises
    ------
    ModelConfigError
        If the file cannot be read, is not safe YAML, or fails the schema; the
        message starts with ``file:line:column``.
    """
    display = os.fspath(path)
    try:
        data, marks = _parse_yaml(_read_file(Path(path), display), display)
    except PolicyError as exc:
        raise _reworded(exc) from None
    where = FieldLocations(display, marks)
    kind = data.get("kind")
    if kind not in _KINDS:
        got = "nothing" if kind is None else repr(kind)
        raise where.error(("kind",), f"expected 'rest' or 'chat', got {got}")
    preset = data.get("preset")
    if kind == "rest" and preset is not None:
        if preset not in PRESETS:
            known = ", ".join(PRESETS)
            raise where.error(("preset",), f"unknown preset {preset!r}; presets are: {known}")
        data = {**PRESETS[preset], **data}
    model = _KINDS[kind]
    try:
        config = model.model_validate(data)
    except ValidationError as exc:

        def locate(loc: FieldPath) -> tuple[str, _Mark | None]:
            return where.at(loc), marks.get(loc)

        raise ModelConfigError(_translate(exc, model, (), locate)) from None
    assert isinstance(config, RestConfig | ChatConfig)  # one of _KINDS' models
    return config, where


def _placed(exc: ModelSpecError, where: FieldLocations) -> ModelConfigError:
    """``exc`` (worded ``field.path: message`` by the codecs) at its field's position."""
    field, _, message = str(exc).partition(": ")
    return where.error(tuple(field.split(".")), message)


def _transport(config: ModelConfig, options: Mapping[str, Any]) -> HttpTransport:
    settings: dict[str, Any] = {}
    timeout = options.get("timeout") or config.timeout
    retries = options.get("max_retries")
    retries = config.max_retries if retries is None else retries
    if timeout is not None:
        settings["timeout"] = timeout
    if retries is not None:
        settings["max_retries"] = retries
    headers = {**config.headers, **dict(options.get("header_env") or {})}
    # a model config is an endpoint the user named, so MAAS_AUDIT_TOKEN may be sent to it
    return HttpTransport(header_env=headers, default_token=True, **settings)


def _check_url(config: ModelConfig, where: FieldLocations) -> str:
    url = config.url
    if not url.lower().startswith(("http://", "https://")):
        raise where.error(("url",), f"expected an http(s):// URL, got {safe_url(url)!r}")
    return chat_url(url) if isinstance(config, ChatConfig) else url


def build_adapter(
    config: ModelConfig, where: FieldLocations | None = None, **options: Any
) -> RestAdapter | ChatDecisionAdapter:
    """The adapter a validated config declares.

    ``options`` are the command line's: ``batch_size``, ``timeout``, ``max_retries``
    and ``header_env`` override the file's; ``max_requests`` and ``budget`` (tokens)
    set the spending limits.

    Raises
    ------
    ModelConfigError
        If a template, expression or decision rule is wrong (with its position).
    UsageError
        If a credential variable is unset or a limit is out of range.
    """
    where = where if where is not None else FieldLocations("<config>", {})
    url = _check_url(config, where)
    batch_size = options.get("batch_size") or config.batch_size
    if isinstance(config, RestConfig):
        return _rest(config, where, url, batch_size, options)
    chat_batch = 8 if batch_size is None else int(batch_size)
    try:
        template = PromptTemplate(prompt=config.prompt, system=config.system)
    except ModelSpecError as exc:
        raise _placed(exc, where) from None
    words = [config.decision.positive, config.decision.negative]
    positive, negative = (tuple([w] if isinstance(w, str) else w) for w in words)
    try:
        rule = DecisionRule(
            positive=positive,
            negative=negative,
            field=config.decision.field,
            regex=config.decision.regex,
        )
    except ModelSpecError as exc:
        raise _placed(exc, where) from None
    return ChatDecisionAdapter(
        url,
        model=config.model,
        template=template,
        rule=rule,
        transport=_transport(config, options),
        temperature=config.temperature,
        seed=config.seed,
        max_tokens=config.max_completion_tokens or config.max_tokens,
        max_tokens_field="max_tokens"
        if config.max_completion_tokens is None
        else "max_completion_tokens",
        top_logprobs=config.top_logprobs if config.score == "logprobs" else None,
        structured=config.decision.structured_output,
        samples=config.samples,
        min_consistency=config.min_consistency,
        max_unanswered=config.max_unanswered,
        batch_size=chat_batch,
        concurrency=config.concurrency,
        input_columns=config.input_columns,
        max_requests=options.get("max_requests"),
        budget_tokens=options.get("budget"),
    )


def _rest(
    config: RestConfig, where: FieldLocations, url: str, batch_size: int | None, options: Any
) -> RestAdapter:
    if config.body is None:
        raise where.error(("body",), "field required (or name a preset)")
    if config.labels is None and config.scores is None:
        raise where.error(("labels",), "give 'labels', 'scores' or both (or name a preset)")
    if options.get("budget") is not None:
        raise ModelSpecError("--budget counts LLM tokens; a 'kind: rest' model has none")
    try:
        codec = RestCodec(
            body=config.body,
            labels=config.labels,
            scores=config.scores,
            mode=config.mode,
            positive_label=config.positive_label,
            negative_label=config.negative_label,
            input_name=config.input_name,
        )
    except ModelSpecError as exc:
        raise _placed(exc, where) from None
    return RestAdapter(
        url,
        codec=codec,
        transport=_transport(config, options),
        batch_size=batch_size or 100,
        concurrency=config.concurrency,
        input_columns=config.input_columns,
        max_requests=options.get("max_requests"),
        preset=config.preset,
    )
