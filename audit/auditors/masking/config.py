"""Settings of the masking auditor (a policy's ``auditors.masking`` block).

A policy states, per column or per kind of personal data (*entity*), the treatment the
delivered data must show, the quasi-identifiers whose combinations must not single
people out, and extra patterns to detect:

>>> config = MaskingConfig.model_validate({
...     "rules": [
...         {"id": "email-hmac", "columns": ["email"], "treatment": "hmac"},
...         {"id": "ssn-dropped", "entity": "US_SSN", "treatment": "drop"},
...     ],
...     "quasi_identifiers": ["zip", "birth_year", "sex"],
...     "k_target": 5,
... })
>>> [rule.treatment for rule in config.rules]
['hmac', 'drop']
"""

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from audit.auditors.masking.entities import Entity
from audit.auditors.masking.regex import compile_pattern

__all__ = [
    "MODEL_ENDPOINT",
    "ERR_PROBE_CREDENTIALS",
    "CustomPattern",
    "MaskingConfig",
    "MaskingRule",
    "ProbeConfig",
    "ProbeProtocol",
    "Treatment",
    "probe_protocol",
]

MODEL_ENDPOINT = "model"
"""``probes.endpoint`` value meaning: the audited model, when it is a chat endpoint."""

Treatment = Literal["drop", "redact", "mask", "hmac", "tokenize", "generalize", "keep"]
"""What a rule requires of the delivered values.

``drop``: the column is absent (or empty); ``redact``: every value is a redaction marker
such as ``[REDACTED]`` or ``***``; ``mask``: at most ``keep_first + keep_last`` characters
stay visible; ``hmac``: values are keyed digests (hex or base64), never a plain hash of a
value found elsewhere; ``tokenize``: values are opaque tokens, unique per row unless
``linkable``; ``generalize``: values are coarsened to ``level``; ``keep``: raw values are
allowed (they count as neither unmasked PII nor violations).  A governed column with no
non-empty cell makes a ``mask``, ``hmac``, ``tokenize`` or ``generalize`` rule not
verifiable: it shows no value of the required form.
"""

GeneralizeLevel = Literal["year", "year_month", "decade", "digits"]

_Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MaskingRule(_Frozen):
    """One required treatment, for named columns or for every column holding an entity."""

    id: _Slug = Field(description="Rule id shown in the report, e.g. 'email-hmac'.")
    columns: tuple[str, ...] = Field(
        (),
        description="Columns the rule governs; with 'entity', also every column found to "
        "hold that entity.",
    )
    entity: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$")] | None = Field(
        None,
        description="Kind of personal data the rule governs wherever it is found: a built-in "
        "entity (EMAIL_ADDRESS, US_SSN, ...) or a custom pattern's name.",
    )
    treatment: Treatment
    keep_first: int = Field(0, ge=0, le=64, description="mask: leading characters kept.")
    keep_last: int = Field(4, ge=0, le=64, description="mask: trailing characters kept.")
    level: GeneralizeLevel = Field(
        "year", description="generalize: 'year', 'year_month', 'decade' or 'digits'."
    )
    digits: int = Field(
        3, ge=0, le=16, description="generalize with level 'digits': digits kept (postcode to 3)."
    )
    linkable: bool = Field(
        True,
        description="tokenize/hmac: false forbids values that repeat across rows, which "
        "let records be linked.",
    )

    @model_validator(mode="after")
    def _targets(self) -> MaskingRule:
        if not self.columns and self.entity is None:
            raise ValueError(f"rule '{self.id}' names neither columns nor an entity")
        return self


class CustomPattern(_Frozen):
    """A pattern the policy adds to the detectors, e.g. an internal customer number."""

    name: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$", max_length=64)] = Field(
        description="Entity name, upper case, e.g. 'CUSTOMER_ID'."
    )
    regex: str = Field(description="An RE2 regular expression (no look-around, no back-refs).")
    score: float = Field(0.8, gt=0.0, le=1.0, description="Confidence given to a match.")

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str) -> str:
        problem = compile_pattern(value)
        if problem is not None:
            raise ValueError(problem)
        return value


ERR_PROBE_CREDENTIALS = (
    "probes.header_env names environment variables ({names}): a policy may not send "
    "credentials, and chooses where probes go; credentials reach only endpoints named on "
    "the command line or in a model config. To probe an endpoint that needs them, give it "
    "as the audited model, with credentials you choose, and set probes.endpoint: model"
)
"""Why a policy's ``probes.header_env`` is refused."""

ProbeProtocol = Literal["auto", "openai-chat", "mlflow", "oip-v2"]
"""How probes reach the model; ``auto`` tells it from the URL (see :func:`probe_protocol`)."""


class ProbeConfig(_Frozen):
    """Prompts sent to a text-generating model, whose answers are scanned for PII."""

    endpoint: str = Field(
        description="URL of the text model: an OpenAI-compatible chat endpoint (base URL or "
        "'.../v1/chat/completions'), an MLflow scoring server ('.../invocations') or an Open "
        "Inference Protocol v2 model ('.../v2/models/<name>[/infer]'); or 'model' for the "
        "audited model when it is a chat endpoint."
    )
    protocol: ProbeProtocol = Field(
        "auto",
        description="'openai-chat', 'mlflow' or 'oip-v2'; 'auto' reads it from the URL: "
        "'.../invocations' is MLflow, '.../v2/models/...' is OIP v2, anything else chat.",
    )
    input_column: str = Field(
        "prompt",
        min_length=1,
        description="MLflow and OIP v2: the column (input tensor) the prompts are sent in, "
        "one row per prompt; the model's text output (its labels) is read as the answers.",
    )
    output_name: str | None = Field(
        None, min_length=1, description="OIP v2: the output holding the text, if several."
    )
    model: str = Field(
        "default", min_length=1, description="Chat only: the 'model' field of requests."
    )
    prompts: tuple[Annotated[str, Field(min_length=1, max_length=8_000)], ...] = Field(
        min_length=1, description="Probe prompts, sent one per request, in order."
    )
    header_env: dict[str, str] = Field(
        default_factory=dict,
        description="Refused when set: a policy may not choose which environment variables "
        "are sent, nor where. Probes carry no credentials; to probe an endpoint that needs "
        "them, give it as the audited model with your credentials and set endpoint: model.",
    )
    max_prompts: int = Field(50, ge=1, le=1_000, description="Most prompts sent.")
    max_tokens: int = Field(256, ge=1, le=32_768, description="max_tokens of each request.")
    timeout: float = Field(30.0, gt=0, le=600, description="Seconds per request.")
    max_retries: int = Field(2, ge=0, le=10, description="Retries per request.")

    @field_validator("endpoint")
    @classmethod
    def _url(cls, value: str) -> str:
        if value != MODEL_ENDPOINT and not value.startswith(("http://", "https://")):
            raise ValueError(f"probes.endpoint must be an http(s) URL or '{MODEL_ENDPOINT}'")
        return value

    @field_validator("header_env")
    @classmethod
    def _no_credentials(cls, value: dict[str, str]) -> dict[str, str]:
        if value:
            raise ValueError(ERR_PROBE_CREDENTIALS.format(names=", ".join(sorted(value.values()))))
        return value

    @model_validator(mode="after")
    def _protocol_needs_url(self) -> ProbeConfig:
        if self.endpoint == MODEL_ENDPOINT and self.protocol in ("mlflow", "oip-v2"):
            raise ValueError(
                f"probes.protocol '{self.protocol}' needs the model's URL as probes.endpoint"
            )
        return self


def probe_protocol(probes: ProbeConfig) -> str:
    """The protocol probes speak: the one set, else read from the endpoint's URL.

    >>> probe_protocol(ProbeConfig(endpoint="http://h:5000/invocations", prompts=["hi"]))
    'mlflow'
    >>> probe_protocol(ProbeConfig(endpoint="http://h/v2/models/gpt/infer", prompts=["hi"]))
    'oip-v2'
    >>> probe_protocol(ProbeConfig(endpoint="http://h:8000/v1", prompts=["hi"]))
    'openai-chat'
    """
    if probes.protocol != "auto":
        return probes.protocol
    path = urlsplit(probes.endpoint).path.rstrip("/")
    if path.endswith("/invocations"):
        return "mlflow"
    if re.search(r"/v2/models/[^/]+", path):
        return "oip-v2"
    return "openai-chat"


class MaskingConfig(_Frozen):
    """What the masking auditor checks, and how hard it looks."""

    rules: tuple[MaskingRule, ...] = Field((), description="Required treatments.")
    quasi_identifiers: tuple[str, ...] = Field(
        (), description="Columns whose value combinations form the equivalence classes."
    )
    sensitive_attribute: str | None = Field(
        None, description="Column whose distinct values per class give the l-diversity."
    )
    k_target: int = Field(
        5, ge=1, description="Rows in classes smaller than this count as rows at risk."
    )
    l_target: int = Field(
        2, ge=1, description="Rows in classes with fewer distinct sensitive values are at risk."
    )
    custom_patterns: tuple[CustomPattern, ...] = Field((), description="Extra detectors.")
    entities: tuple[Entity, ...] | None = Field(
        None, description="Entities to detect (default: all built-in ones)."
    )
    skip_columns: tuple[str, ...] = Field((), description="Columns never scanned.")
    column_share: float = Field(
        0.5,
        gt=0.0,
        le=1.0,
        description="A column 'holds' an entity when at least this share of its non-empty "
        "cells match it.",
    )
    max_cell_chars: int = Field(
        10_000, ge=64, description="Longer cells are scanned up to this many characters."
    )
    samples: int = Field(3, ge=0, le=20, description="Masked examples per evidence row.")
    probes: ProbeConfig | None = Field(
        None, description="Output leakage: prompts sent to a chat model, answers scanned."
    )
    ner: bool = Field(
        True,
        description="Also find person names with a spaCy pipeline when one is installed "
        "(never downloaded); false keeps to the pattern fallback.",
    )
    ner_model: str | None = Field(
        None,
        min_length=1,
        description="The spaCy pipeline for person names: an installed package (e.g. "
        "'en_core_web_sm') or a directory written by nlp.to_disk; default: the first "
        "installed en_core_web_* package.",
    )
    ner_max_values: int = Field(
        50_000,
        ge=1,
        description="Most distinct values of one column run through the spaCy pipeline.",
    )
    max_hash_values: int = Field(
        2_000_000,
        ge=1,
        description="Chunked and Dask engines: most distinct values kept per hashed column, "
        "and most distinct PII values kept, to find repeats and plain hashes across chunks "
        "(about 100 bytes each); past it the hashed columns' rules are not verifiable.",
    )

    @field_validator("rules")
    @classmethod
    def _unique(cls, value: tuple[MaskingRule, ...]) -> tuple[MaskingRule, ...]:
        seen: set[str] = set()
        for rule in value:
            if rule.id in seen:
                raise ValueError(f"duplicate rule id '{rule.id}'")
            seen.add(rule.id)
        return value

    @model_validator(mode="after")
    def _known_entities(self) -> MaskingConfig:
        known = {e.value for e in Entity} | {p.name for p in self.custom_patterns}
        for rule in self.rules:
            if rule.entity is not None and rule.entity not in known:
                raise ValueError(
                    f"rule '{rule.id}': unknown entity '{rule.entity}'; entities are: "
                    + ", ".join(sorted(known))
                )
        return self
