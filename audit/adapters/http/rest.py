"""Any JSON-over-HTTP model, declared instead of coded: a body template and JMESPath answers.

A :class:`RestCodec` is a pure codec (no I/O), like :mod:`~audit.adapters.http.mlflow`:

Request
    A sandboxed Jinja2 template (see :mod:`~audit.adapters.http.templating`) renders
    the JSON body.  In ``mode="batch"`` one body carries all rows of a batch, and
    the template sees ``rows`` (a list of ``{column: value}``), ``values`` (a list
    of row lists, in ``columns`` order) and ``columns``.  In ``mode="row"`` each row
    gets its own request, and the template sees ``row``, ``values`` and ``columns``.
    ``{"instances": {{ values | tojson }}}`` is KServe v1 / TF Serving's body.  An
    ``input_name`` given to the codec is seen as ``input_name`` too (BentoML's
    ``{{ {input_name: rows} | tojson }}`` puts the rows under an API's parameter).

Answer
    The JMESPath expression ``labels`` picks the labels from the answer (a list of
    one per row in batch mode, one value in row mode), and ``scores`` the
    positive-class probabilities, e.g. ``predictions[*][1]`` for probability pairs
    (each must lie in [0, 1]).  When ``positive_label`` is set, labels equal to it
    become 1 and labels equal to a ``negative_label`` 0, so the endpoint's own
    vocabulary ("approve"/"deny") need not match the data's; any other label is
    refused, never counted as a negative decision.

>>> codec = RestCodec(body='{"instances": {{ values | tojson }}}', labels="predictions")
>>> codec.encode([{"a": 1, "b": "x"}], ["a", "b"])
[{'instances': [[1, 'x']]}]
>>> codec.decode([{"predictions": ["yes"]}], rows=1).labels
array(['yes'], dtype=object)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import jmespath
import numpy as np
from jmespath.exceptions import JMESPathError

from audit.adapters.http._values import describe_json, label_array, probability_array
from audit.adapters.http.templating import (
    compile_template,
    render_json,
    sha256_text,
    template_names,
)
from audit.core.outcomes import matches_label
from audit.core.protocols import Predictions
from audit.errors import EndpointError, ModelSpecError

__all__ = ["RestCodec", "RowMode", "compile_path"]

RowMode = Literal["row", "batch"]
"""One request per row, or one per batch of rows."""


def compile_path(expression: str, *, what: str) -> Any:
    """Compile a JMESPath expression.

    Raises
    ------
    ModelSpecError
        If the expression is not valid JMESPath.
    """
    try:
        return jmespath.compile(expression)
    except JMESPathError as exc:
        detail = " ".join(str(exc).split())
        raise ModelSpecError(
            f"{what}: {expression!r} is not a JMESPath expression: {detail}"
        ) from None


class RestCodec:
    """Renders request bodies from rows and reads predictions from answers.

    Parameters
    ----------
    body:
        Jinja2 template text producing the JSON body (see the module docstring).
    labels, scores:
        JMESPath expressions of the labels and the positive-class scores; at least one.
    mode:
        ``"batch"`` (one request per batch) or ``"row"`` (one per row).
    positive_label:
        When set, labels equal to it become 1.
    negative_label:
        The endpoint's other label, or a list of them: labels equal to one become 0.
        Required with ``positive_label``; a label that is neither is an error.
    input_name:
        The template's ``input_name`` (BentoML: the API method's parameter name).

    Raises
    ------
    ModelSpecError
        If the template or an expression cannot be compiled, neither is given,
        ``positive_label`` comes without ``negative_label`` (or shares a label with it),
        or the template reads ``input_name`` and none is given.
    """

    def __init__(
        self,
        *,
        body: str,
        labels: str | None = None,
        scores: str | None = None,
        mode: RowMode = "batch",
        positive_label: Any = None,
        negative_label: Any = None,
        input_name: str | None = None,
    ) -> None:
        if labels is None and scores is None:
            raise ModelSpecError("a REST model needs 'labels', 'scores' or both in its answer")
        self._template = compile_template(body, what="body")
        if input_name is None and "input_name" in template_names(body):
            raise ModelSpecError(
                "input_name: field required by the body template; with preset bentoml it is "
                "the name of the API method's DataFrame parameter (df for "
                "'def predict(self, df: pd.DataFrame)'); for a root input "
                "('df, /') or a bentoml.io API write body: '{{ rows | tojson }}' instead"
            )
        self.input_name = input_name
        self.body = body
        self.mode: RowMode = mode
        self.labels = labels
        self.scores = scores
        self.positive_label = positive_label
        self.negative_label = negative_label
        self._declared = _declared_labels(positive_label, negative_label)
        self.template_sha256 = sha256_text(body)
        self._labels = None if labels is None else compile_path(labels, what="labels")
        self._scores = None if scores is None else compile_path(scores, what="scores")

    def identity(self) -> dict[str, Any]:
        """What decides the predictions, for fingerprints: template hash, paths, label, mode.

        ``input_name`` is there only when given, so configs without one keep their keys.
        """
        identity: dict[str, Any] = {
            "mode": self.mode,
            "body_sha256": self.template_sha256,
            "labels": self.labels,
            "scores": self.scores,
            "positive_label": self.positive_label,
            "negative_label": self.negative_label,
        }
        if self.input_name is not None:
            identity["input_name"] = self.input_name
        return identity

    def encode(self, rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> list[Any]:
        """The request bodies of ``rows`` (JSON values): one, or one per row.

        Raises
        ------
        DataError
            If the template fails on these rows or does not render JSON.
        """
        names = list(columns)
        named = {} if self.input_name is None else {"input_name": self.input_name}
        if self.mode == "batch":
            values = [[row[c] for c in names] for row in rows]
            context = {"rows": list(rows), "values": values, "columns": names, **named}
            return [render_json(self._template, context, what="body")]
        return [
            render_json(
                self._template,
                {"row": dict(row), "values": [row[c] for c in names], "columns": names, **named},
                what=f"body of row {index}",
            )
            for index, row in enumerate(rows)
        ]

    def decode(self, answers: Sequence[Any], *, rows: int) -> Predictions:
        """Predictions from the answers to :meth:`encode`'s bodies, in the same order.

        Raises
        ------
        EndpointError
            If an expression finds nothing, the wrong number of values, or values that
            are not labels or numbers.
        """
        labels = self._pick(self._labels, answers, rows, "labels")
        scores = self._pick(self._scores, answers, rows, "scores")
        label_values = None if labels is None else label_array(labels, what="labels")
        if label_values is not None and self._declared is not None:
            label_values = self._binary(label_values)
        score_values = None if scores is None else probability_array(scores, what="scores")
        return Predictions(labels=label_values, scores=score_values)

    def _binary(self, labels: np.ndarray) -> np.ndarray:
        """1 for the positive label, 0 for a negative one; any other label is refused."""
        assert self._declared is not None  # only called with a positive label
        decisions = np.full(len(labels), -1, dtype=np.int64)
        for label, decision in self._declared:  # 1, 1.0 and "1" are one label
            decisions[matches_label(labels, label)] = decision
        unknown = np.flatnonzero(decisions < 0)
        if unknown.size:
            index = int(unknown[0])
            known = ", ".join(repr(label) for label, _ in self._declared)
            raise EndpointError(
                f"labels {self.labels!r} finds {describe_json(labels.tolist()[index])} for row "
                f"{index}, which is neither the positive nor a negative label ({known}); "
                f"{unknown.size} of {len(decisions)} rows have such labels"
            )
        return decisions

    def _pick(self, path: Any, answers: Sequence[Any], rows: int, name: str) -> list[Any] | None:
        if path is None:
            return None
        expression = self.labels if name == "labels" else self.scores
        if self.mode == "row":
            found = []
            for index, answer in enumerate(answers):
                value = path.search(answer)
                if isinstance(value, list) and len(value) == 1:
                    value = value[0]
                if value is None or isinstance(value, dict | list):
                    raise EndpointError(
                        f"{name} {expression!r} finds {describe_json(value)} in the answer to "
                        f"row {index}; expected one value"
                    )
                found.append(value)
            return found
        value = path.search(answers[0])
        if not isinstance(value, list):
            raise EndpointError(
                f"{name} {expression!r} finds {describe_json(value)} in the answer; "
                f"expected a list of {rows} values"
            )
        if len(value) != rows:
            raise EndpointError(f"{name} {expression!r} finds {len(value)} values for {rows} rows")
        if any(isinstance(v, list | dict) for v in value):
            raise EndpointError(
                f"{name} {expression!r} finds lists, not one value per row (e.g. "
                f"{describe_json(value[0])}); pick the column, e.g. '{expression}[*][1]'"
            )
        return value


def _declared_labels(positive: Any, negative: Any) -> tuple[tuple[Any, int], ...] | None:
    """Each declared label with the decision it stands for; ``None`` without a positive label.

    Raises
    ------
    ModelSpecError
        If the positive label comes without a negative one, or is also a negative one.
    """
    if positive is None:
        if negative is not None:
            raise ModelSpecError("negative_label: give positive_label too")
        return None
    if negative is None or negative == []:
        raise ModelSpecError(
            "positive_label: give negative_label too (the endpoint's other label or "
            "labels), so that an answer with neither is refused rather than counted as "
            "a negative decision"
        )
    negatives = negative if isinstance(negative, list) else [negative]
    if matches_label(np.asarray(negatives, dtype=object), positive).any():
        raise ModelSpecError(
            f"negative_label: {positive!r} is both the positive and a negative label"
        )
    return ((positive, 1), *((label, 0) for label in negatives))
