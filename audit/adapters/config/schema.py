"""The schema of model config files: ``kind: rest`` and ``kind: chat`` (pydantic, closed).

Every field is documented here; :mod:`~audit.adapters.config.loader` turns
validation errors into ``file:line:column: field: message`` lines.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

__all__ = ["ChatConfig", "DecisionConfig", "EnvName", "RestConfig"]

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _env_name(value: str) -> str:
    if not _ENV_NAME.match(value):  # never echo the value: it may be the secret itself
        raise PydanticCustomError(
            "env_name",
            "expected the name of the environment variable holding the header's value "
            "(letters, digits and '_'), not the value itself",
        )
    return value


EnvName = Annotated[str, AfterValidator(_env_name)]
"""The name of an environment variable."""

Words = str | list[Annotated[str, StringConstraints(min_length=1)]]


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Served(_Closed):
    """Settings every served model has."""

    url: Annotated[str, StringConstraints(min_length=1)] = Field(
        description="Where requests are POSTed (http or https)."
    )
    headers: dict[str, EnvName] = Field(
        default_factory=dict,
        description="Header name -> the environment variable holding its whole value, e.g. "
        "Authorization: OPENAI_AUTH with OPENAI_AUTH='Bearer sk-...'. Values are never shown.",
    )
    timeout: float | None = Field(None, gt=0, description="Seconds per request (default 30).")
    max_retries: int | None = Field(
        None, ge=0, description="Retries on 429, 5xx and connection errors (default 3)."
    )
    concurrency: int = Field(4, ge=1, description="Batches in flight at once.")
    batch_size: int | None = Field(None, ge=1, description="Rows per batch.")
    input_columns: list[str] | None = Field(
        None, description="Columns given to the templates (default: the audit's features)."
    )


class RestConfig(_Served):
    """A JSON endpoint: a body template, and JMESPath expressions into the answer."""

    kind: Literal["rest"]
    preset: str | None = Field(
        None, description="Start from a preset: kserve-v1, tf-serving, torchserve, bentoml."
    )
    method: Literal["POST"] = Field("POST", description="POST only.")
    mode: Literal["row", "batch"] = Field(
        "batch", description="One request per batch of rows, or one per row."
    )
    body: str | None = Field(None, description="Jinja2 template producing the JSON body.")
    input_name: Annotated[str, StringConstraints(min_length=1)] | None = Field(
        None,
        description="The body template's input_name; preset bentoml puts the rows under it: "
        "the name of the BentoML API method's DataFrame parameter (df for "
        "'def predict(self, df: pd.DataFrame)').",
    )
    labels: str | None = Field(None, description="JMESPath of the labels in the answer.")
    scores: str | None = Field(None, description="JMESPath of the positive-class scores.")
    positive_label: str | int | float | bool | None = Field(
        None, description="The endpoint's favourable label; labels equal to it become 1."
    )
    negative_label: str | int | float | bool | list[str | int | float | bool] | None = Field(
        None,
        description="The endpoint's other label(s), which become 0; required with "
        "positive_label. Any other label is refused, never counted as negative.",
    )


class DecisionConfig(_Closed):
    """How an LLM's answer becomes a decision."""

    positive: Words = Field(description="Word(s) meaning the favourable decision.")
    negative: Words = Field(description="Word(s) meaning the other decision.")
    field: str | None = Field(None, description="Read this field of a JSON answer.")
    regex: str | None = Field(
        None, description="Else search this pattern; group 1 (or the match) is the word."
    )
    structured_output: bool = Field(
        True, description="Send a response_format JSON schema when 'field' is set."
    )


class ChatConfig(_Served):
    """An OpenAI-compatible /v1/chat/completions model deciding on each row."""

    kind: Literal["chat"]
    model: Annotated[str, StringConstraints(min_length=1)] = Field(
        description="The model name sent with each request."
    )
    system: str | None = Field(None, description="System prompt (a Jinja2 template).")
    prompt: Annotated[str, StringConstraints(min_length=1)] = Field(
        description="User prompt, a Jinja2 template rendered from each row's columns."
    )
    decision: DecisionConfig
    score: Literal["none", "logprobs"] = Field(
        "none", description="logprobs: P(positive) from the decision token's logprobs."
    )
    top_logprobs: int = Field(5, ge=1, le=20, description="Top tokens asked per position.")
    temperature: float | None = Field(
        0.0, ge=0, description="Sent with each request; null: not sent (reasoning models)."
    )
    seed: int | None = None
    max_tokens: int | None = Field(64, ge=1, description="Cap on each answer's tokens.")
    max_completion_tokens: int | None = Field(
        None,
        ge=1,
        description="Cap on each answer's tokens, sent as max_completion_tokens instead of "
        "max_tokens (OpenAI's reasoning models refuse max_tokens); not with max_tokens.",
    )
    samples: int = Field(1, ge=1, description="Answers asked per row; the majority decides.")
    min_consistency: float | None = Field(
        None, ge=0, le=1, description="With samples > 1: least share of rows with equal answers."
    )
    max_unanswered: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Largest share of rows without a decision (unparseable, truncated or tied "
        "answers) left out of the audit, never given a class; 0: any such row stops it.",
    )

    @model_validator(mode="after")
    def _one_token_cap(self) -> ChatConfig:
        if self.max_completion_tokens is not None and "max_tokens" in self.model_fields_set:
            raise PydanticCustomError(
                "token_cap", "give max_tokens or max_completion_tokens, not both"
            )
        return self
