"""Model config files: the REST codec, presets, and errors that name file, line and column."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest

from audit.adapters import load_model
from audit.adapters.config import PRESETS, ModelConfigError, load_config_model
from audit.adapters.http.chat_adapter import ChatDecisionAdapter
from audit.adapters.http.declared import RestAdapter
from audit.adapters.http.rest import RestCodec
from audit.cli.main import main
from audit.errors import DataError, EndpointError, ModelSpecError, UsageError

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "screening-llm.yaml"
ROWS = [{"age": 39, "sex": "Male"}, {"age": None, "sex": "Female"}]


def test_batch_body_sees_rows_values_and_columns() -> None:
    codec = RestCodec(
        body='{"cols": {{ columns | tojson }}, "rows": {{ rows | tojson }}, '
        '"v": {{ values | tojson }}}',
        labels="out",
    )
    assert codec.encode(ROWS, ["age", "sex"]) == [
        {"cols": ["age", "sex"], "rows": ROWS, "v": [[39, "Male"], [None, "Female"]]}
    ]


def test_row_mode_sends_one_body_per_row_and_reads_one_value_each() -> None:
    codec = RestCodec(body='{"x": {{ row.age | tojson }}}', labels="result.label", mode="row")
    assert codec.encode(ROWS, ["age", "sex"]) == [{"x": 39}, {"x": None}]
    decoded = codec.decode([{"result": {"label": "a"}}, {"result": {"label": "b"}}], rows=2)
    assert decoded.labels is not None
    assert decoded.labels.tolist() == ["a", "b"]


def test_positive_label_turns_the_endpoints_words_into_0_and_1() -> None:
    codec = RestCodec(
        body="{}",
        labels="p[*].decision",
        scores="p[*].proba[1]",
        positive_label="approve",
        negative_label="deny",
    )
    answer = {
        "p": [
            {"decision": "approve", "proba": [0.2, 0.8]},
            {"decision": "deny", "proba": [0.9, 0.1]},
        ]
    }
    decoded = codec.decode([answer], rows=2)
    assert decoded.labels is not None and decoded.scores is not None
    assert decoded.labels.tolist() == [1, 0]
    np.testing.assert_allclose(decoded.scores, [0.8, 0.1])


def test_a_label_that_is_neither_declared_label_is_refused_not_counted_negative() -> None:
    codec = RestCodec(
        body="{}", labels="out", positive_label="approve", negative_label=["deny", "refer"]
    )
    decoded = codec.decode([{"out": ["approve", "refer", "deny"]}], rows=3)
    assert decoded.labels is not None and decoded.labels.tolist() == [1, 0, 0]
    with pytest.raises(EndpointError, match=r"'error' for row 1, which is neither .* 2 of 4 rows"):
        codec.decode([{"out": ["approve", "error", "deny", ""]}], rows=4)


def test_numeric_labels_match_whatever_their_json_spelling() -> None:
    codec = RestCodec(body="{}", labels="out", positive_label=1, negative_label=0)
    decoded = codec.decode([{"out": [1.0, 0, 1, 0.0]}], rows=4)
    assert decoded.labels is not None and decoded.labels.tolist() == [1, 0, 1, 0]
    with pytest.raises(EndpointError, match="7 for row 2"):
        codec.decode([{"out": [1, 0, 7]}], rows=3)


@pytest.mark.parametrize(
    ("positive", "negative", "message"),
    [
        ("approve", None, "positive_label: give negative_label too"),
        (None, "deny", "negative_label: give positive_label too"),
        ("approve", ["deny", "approve"], "'approve' is both the positive and a negative label"),
    ],
)
def test_the_declared_labels_must_be_complete_and_apart(
    positive: str | None, negative: object, message: str
) -> None:
    with pytest.raises(ModelSpecError, match=message):
        RestCodec(body="{}", labels="out", positive_label=positive, negative_label=negative)


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        ([0.2, 1.7], r"score 1 is 1\.7; expected a probability between 0 and 1 \(1 of 2"),
        ([-0.1, 0.5], r"score 0 is -0\.1"),
    ],
)
def test_scores_outside_0_and_1_are_refused(scores: list[float], message: str) -> None:
    codec = RestCodec(body="{}", scores="s")
    with pytest.raises(EndpointError, match=message):
        codec.decode([{"s": scores}], rows=2)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"predictions": [1]}, "finds 1 values for 2 rows"),
        ({"other": 1}, "finds None in the answer; expected a list of 2 values"),
        (
            {"predictions": [[0.1, 0.9], [0.8, 0.2]]},
            r"pick the column, e\.g\. 'predictions\[\*\]\[1\]'",
        ),
        ({"predictions": [1, None]}, "prediction 1 is null"),
    ],
)
def test_answers_the_expressions_cannot_read_are_one_line_errors(
    answer: dict, message: str
) -> None:
    codec = RestCodec(body="{}", labels="predictions")
    with pytest.raises(EndpointError, match=message):
        codec.decode([answer], rows=2)


def test_template_and_expression_errors() -> None:
    with pytest.raises(ModelSpecError, match="body: template line 1"):
        RestCodec(body="{{ rows | tojson ", labels="x")
    with pytest.raises(ModelSpecError, match="labels: 'predictions\\[' is not a JMESPath"):
        RestCodec(body="{}", labels="predictions[")
    with pytest.raises(ModelSpecError, match="needs 'labels', 'scores' or both"):
        RestCodec(body="{}")
    with pytest.raises(DataError, match=r"not JSON .* write values with '\| tojson'"):
        RestCodec(body='{"a": {{ rows }}}', labels="x").encode(ROWS, ["age", "sex"])


def test_presets_render_the_servers_documented_bodies() -> None:
    def body(preset: str, input_name: str | None = None) -> object:
        fields = PRESETS[preset]
        codec = RestCodec(
            body=fields["body"], labels=fields["labels"], mode=fields["mode"], input_name=input_name
        )
        return codec.encode(ROWS, ["age", "sex"])

    # KServe V1 / TF Serving: {"instances": [...]}; TF Serving's row format names inputs
    assert body("kserve-v1") == [{"instances": [[39, "Male"], [None, "Female"]]}]
    assert body("tf-serving") == [{"instances": ROWS}]
    assert body("torchserve") == ROWS
    # BentoML 1.2+ "Tabular data": {"input1": [{"col1": 1, "col2": 2}, ...]} (iotypes.rst)
    assert body("bentoml", "input1") == [{"input1": ROWS}]


def test_the_bentoml_preset_puts_the_rows_under_the_parameter_the_config_names(
    tmp_path: Path,
) -> None:
    head = "kind: rest\nurl: http://127.0.0.1:9/predict\npreset: bentoml\n"
    adapter = load_config_model(write(tmp_path, head + "input_name: df\n"))
    assert isinstance(adapter, RestAdapter)
    assert adapter.codec.encode(ROWS, ["age", "sex"]) == [{"df": ROWS}]
    assert adapter.describe()["input_name"] == "df"
    renamed = load_config_model(write(tmp_path, head + "input_name: frame\n"))
    assert renamed.fingerprint() != adapter.fingerprint()
    # a root input (def predict(self, df, /)) or a bentoml.io API takes the bare list
    root = load_config_model(write(tmp_path, head + "body: '{{ rows | tojson }}'\n"))
    assert isinstance(root, RestAdapter)
    assert root.codec.encode(ROWS, ["age", "sex"]) == [ROWS]
    assert "input_name" not in root.describe()


def test_configs_without_input_name_keep_their_cache_keys() -> None:
    codec = RestCodec(body='{"instances": {{ values | tojson }}}', labels="predictions")
    assert set(codec.identity()) == {
        "mode", "body_sha256", "labels", "scores", "positive_label", "negative_label"
    }  # fmt: skip


def write(tmp_path: Path, text: str, name: str = "model.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


REST = """\
kind: rest
url: http://127.0.0.1:9/v1/models/adult:predict
preset: kserve-v1
"""
CHAT = "kind: chat\nurl: http://h/v1\nmodel: m\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            REST + "labls: predictions\n",
            "model.yaml:4:1: labls: unknown field 'labls' (did you mean 'labels'?)",
        ),
        ("kind: rest\n", "model.yaml:1:1: url: field required"),
        ("kind: grpc\nurl: x\n", "model.yaml:1:1: kind: expected 'rest' or 'chat', got 'grpc'"),
        (
            REST.replace("kserve-v1", "kserve"),
            "model.yaml:3:1: preset: unknown preset 'kserve'; presets are: kserve-v1",
        ),
        (
            REST + "concurrency: many\n",
            "model.yaml:4:1: concurrency: expected a whole number, got 'many'",
        ),
        (
            REST + "headers: {Authorization: Bearer abc}\n",
            "model.yaml:4:11: headers.Authorization: expected the name of the environment variable",
        ),
        (
            REST + "labels: predictions[\n",
            "model.yaml:4:1: labels: 'predictions[' is not a JMESPath",
        ),
        (REST + "body: '{{ values '\n", "model.yaml:4:1: body: template line 1: "),
        (
            CHAT + "prompt: p\ndecision: {positive: a, negative: b, regex: '('}\n",
            "model.yaml:5:38: decision.regex: missing ), unterminated subpattern",
        ),
        (REST.replace("http://", "ftp://"), "model.yaml:2:1: url: expected an http(s):// URL"),
        (
            "kind: rest\nurl: http://h/x\nurl: http://h/y\n",
            "model.yaml:3:1: url: duplicate key 'url' (first on line 2)",
        ),
        ("- kind\n", "model.yaml:1:1: a model config must be a mapping of fields"),
        ("kind: [rest\n", "model.yaml:2:1: invalid YAML"),
        (
            CHAT + "prompt: '{% if %}'\ndecision: {positive: a, negative: b}\n",
            "model.yaml:4:1: prompt: template line 1",
        ),
        (
            CHAT + "prompt: p\ndecision: {positive: a, negative: A}\n",
            "model.yaml:5:1: decision: ['a'] are both positive and negative",
        ),
        (
            CHAT + "prompt: p\ndecision: {positive: a}\n",
            "model.yaml:5:1: decision.negative: field required",
        ),
        (
            REST + "positive_label: 1\n",
            "model.yaml:4:1: positive_label: give negative_label too",
        ),
        (
            "kind: rest\nurl: http://h/predict\npreset: bentoml\n",
            "model.yaml:1:1: input_name: field required by the body template; with preset "
            "bentoml it is the name of the API method's DataFrame parameter (df for",
        ),
        (
            "kind: rest\nurl: http://h/predict\npreset: bentoml\ninput_name: ''\n",
            "model.yaml:4:1: input_name:",
        ),
        (
            CHAT + "prompt: p\ndecision: {positive: a, negative: b}\nmax_tokens: 8\n"
            "max_completion_tokens: 8\n",
            "model.yaml:1:1: give max_tokens or max_completion_tokens, not both",
        ),
    ],
)
def test_bad_configs_name_file_line_and_column(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ModelConfigError) as caught:
        load_config_model(path)
    assert str(caught.value).startswith(f"{tmp_path}/{message}"), str(caught.value)
    assert "\n" not in str(caught.value) and "Bearer" not in str(caught.value)


def test_the_cli_prints_one_line_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, REST + "labls: predictions\n")
    data = write(tmp_path, "age,income\n30,1\n", "data.csv")
    code = main(
        [
            "run",
            "--model",
            str(path),
            "--data",
            str(data),
            "--policy",
            "four-fifths",
            "--target",
            "income",
            "--sensitive",
            "age",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and "model.yaml:4:1: labls: unknown field" in err


def test_load_model_reads_yaml_configs_and_limits_need_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    adapter = load_model(str(write(tmp_path, REST)), max_requests=3)
    assert isinstance(adapter, RestAdapter)
    assert adapter.describe()["limits"] == {"max_requests": 3, "budget_tokens": None}
    with pytest.raises(
        ModelSpecError, match="--max-requests and --budget apply to models declared"
    ):
        load_model("http://127.0.0.1:9/invocations", max_requests=3)
    with pytest.raises(ModelSpecError, match="--budget counts LLM tokens"):
        load_model(str(write(tmp_path, REST)), budget=100)
    monkeypatch.chdir(EXAMPLE.parent)
    chat = load_model(EXAMPLE.name, budget=1000)
    assert isinstance(chat, ChatDecisionAdapter)
    assert chat.url == "http://127.0.0.1:8000/v1/chat/completions"
    assert chat.template.fields == (
        "age",
        "education",
        "education-num",
        "hours-per-week",
        "occupation",
        "race",
        "sex",
    )


def test_secrets_come_from_the_named_variables_and_are_never_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, REST + "headers: {Authorization: MY_MODEL_AUTH}\n")
    with pytest.raises(UsageError, match=r"'MY_MODEL_AUTH' .* is not set"):
        load_config_model(path)
    monkeypatch.setenv("MY_MODEL_AUTH", "Bearer s3cret-value")
    adapter = load_config_model(path)
    shown = f"{adapter.describe()} {adapter!r} {adapter.transport!r}"
    assert "s3cret" not in shown and "Authorization" in shown


def test_fingerprint_hashes_the_template_and_expressions_not_the_limits(tmp_path: Path) -> None:
    base = load_config_model(write(tmp_path, REST))
    limited = load_config_model(write(tmp_path, REST + "timeout: 3\n"), max_requests=2)
    edited = load_config_model(
        write(tmp_path, REST + "body: '{\"instances\": {{ rows | tojson }}}'\n")
    )
    relabelled = load_config_model(write(tmp_path, REST + "labels: outputs\n"))
    assert base.fingerprint() == limited.fingerprint()
    assert len({base.fingerprint(), edited.fingerprint(), relabelled.fingerprint()}) == 3
    described = base.describe()
    assert described["preset"] == "kserve-v1"
    assert (
        described["body_sha256"]
        == hashlib.sha256(PRESETS["kserve-v1"]["body"].encode()).hexdigest()
    )


def test_the_stand_in_runs_from_the_command_line() -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "audit.testing.llm", "--port", "0", "--flip-rate", "0"],
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        _ask_the_stand_in(process)


def _ask_the_stand_in(process: subprocess.Popen[str]) -> None:
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip().removeprefix("serving on ")
        answer = httpx.post(
            url,
            json={"model": "m", "messages": [{"role": "user", "content": "education-num: 14"}]},
            timeout=10,
        ).json()
        assert answer["choices"][0]["message"]["content"] == '{"decision": "approve"}'
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
