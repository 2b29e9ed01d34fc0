"""The HTML report of an LLM audit, run through the CLI against the stand-in LLM.

The section on the LLM reads the model description the chat adapter gives; each figure is
checked here against what the test itself set (the config file) or the server counted.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from audit.cli.main import main
from audit.reporting.html import render_html
from audit.testing.llm import Screener, serve_screener
from tests.conftest import llm_config

pytest.importorskip("captum")

REPO = Path(__file__).resolve().parents[2]
ROWS = 80
SECRET = "Bearer sk-g2-do-not-print-7f3a9c"
POLICY = """\
name: llm-screening
version: "1"
auditors:
  counterfactual:
    attribute: sex
    groups: [Male, Female]
    n_rows: 1000
  explanations:
    method: feature_ablation
    compare_with: none
    n_rows: 1000
    adverse_per_group: 0
requirements:
  - id: no-flips
    title: At most 1% of decisions change with the sex cue alone
    citation: "Policy choice"
    auditor: counterfactual
    metric: flip_rate
    compare: at_most
    threshold: 0.01
    group_by: [sex]
  - id: no-reliance-on-sex
    title: At most 1% of the attribution falls on sex
    citation: "Policy choice"
    auditor: explanations
    metric: sensitive_attribution_share
    compare: at_most
    threshold: 0.01
    group_by: [sex]
"""


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("llm-report")
    data = folder / "applicants.csv"
    pd.read_csv(REPO / "examples" / "data" / "adult.csv", nrows=ROWS).to_csv(data, index=False)
    policy = folder / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    monkey = pytest.MonkeyPatch()
    monkey.setenv("G2_LLM_AUTH", SECRET)
    with serve_screener(Screener(flip_rate=0.3)) as llm:
        config = llm_config(llm, folder, headers={"Authorization": "G2_LLM_AUTH"}, samples=3)
        settings = yaml.safe_load(config.read_text(encoding="utf-8"))
        out = folder / "out"
        code = main(
            ["run", "--model", str(config), "--data", str(data), "--policy", str(policy),
             "--sensitive", "sex", "--target", "income", "--positive-label", ">50K",
             "--out", str(out), "--no-progress"]
        )  # fmt: skip
        served = llm.requests
        bodies = llm.bodies
    monkey.undo()
    return {
        "code": code,
        "settings": settings,
        "served": served,
        "bodies": bodies,
        "html": (out / "report.html").read_text(encoding="utf-8"),
        "json": json.loads((out / "report.json").read_text(encoding="utf-8")),
    }


def section(html: str, anchor: str) -> str:
    start = html.index(f'<section id="{anchor}"')
    return html[start : html.index("</section>", start)]


def test_the_audit_fails_on_the_planted_bias(audited: dict[str, Any]) -> None:
    assert audited["code"] == 1


def test_the_llm_section_shows_the_prompt_and_its_digest(
    audited: dict[str, Any], parse: Any
) -> None:
    settings = audited["settings"]
    text = parse(section(audited["html"], "llm")).text
    expected = hashlib.sha256(
        json.dumps([settings["system"], settings["prompt"]]).encode()
    ).hexdigest()
    assert expected in text
    assert " ".join(settings["system"].split()) in text
    assert " ".join(settings["prompt"].split()) in text
    pre = re.search(r'<pre class="llm-template"[^>]*>(.*?)</pre>', audited["html"], re.DOTALL)
    assert pre is not None
    assert parse(pre.group(1)).chunks == [settings["prompt"]]  # line breaks kept
    # the parser joins text chunks with a space: "<code>age</code>, " reads "age , "
    fields = " , ".join(sorted(["age", "education", "education-num", "hours-per-week",
                                "occupation", "race", "sex"]))  # fmt: skip
    assert f"Fields the template reads {fields}" in text


def test_the_llm_section_shows_parsing_sampling_usage_and_identity(
    audited: dict[str, Any], parse: Any
) -> None:
    settings = audited["settings"]
    text = parse(section(audited["html"], "llm")).text
    assert "JSON field decision (asked for as structured output" in text
    assert "Positive (favourable) words approve" in text
    assert "Negative words reject" in text
    assert "from the logprobs of the decision token" in text
    assert f"Temperature {float(settings['temperature'])}" in text
    assert f"Seed {settings['seed']}" in text
    assert "Answers per row 3 (majority of the parsed answers" in text
    # the stand-in answers the same prompt the same way every time
    assert "Decision consistency 1.000" in text
    usage = audited["json"]["model"]["usage"]
    assert usage["requests"] == audited["served"]
    assert f"Requests sent {audited['served']:,}" in text
    prompt_tokens = usage["prompt_tokens"]
    assert prompt_tokens > 0 and f"Prompt tokens {prompt_tokens:,}" in text
    assert f"Completion tokens {usage['completion_tokens']:,}" in text
    assert "Unparseable answers 0" in text
    assert "Model asked for screening-model" in text
    assert "Models that answered screening-model" in text
    assert "System fingerprints fp_standin_1" in text
    # every request the server answered asked for the declared model
    assert {body["model"] for body in audited["bodies"]} == {settings["model"]}


def test_flipped_examples_and_field_attributions_render(
    audited: dict[str, Any], parse: Any
) -> None:
    html = audited["html"]
    text = parse(html).text
    assert "Examples of decisions that changed with the group cue" in text
    assert "Mean |attribution| by group: sex" in text
    assert "not stated (neutral text of an absent prompt field)" in text
    llm_text = parse(section(html, "llm")).text
    assert "counterfactual auditor" in llm_text and "explanations auditor" in llm_text
    assert html.index('id="llm"') < html.index('id="evidence"')
    assert '<a href="#llm">' in html


def test_no_secret_reaches_the_reports(audited: dict[str, Any]) -> None:
    for form in (SECRET, SECRET.split()[-1]):
        assert form not in audited["html"]
        assert form not in json.dumps(audited["json"])
    assert "Authorization" in audited["json"]["model"]["auth_headers"]


def test_markup_in_the_prompt_and_the_answers_is_escaped(
    sample_result: Any, hostile_strings: tuple[str, ...], parse: Any
) -> None:
    script, attribute, image = hostile_strings
    model = {
        "kind": "chat",
        "model": image,
        "template_sha256": "0" * 64,
        "decision": {"field": None, "regex": attribute, "positive": [script], "negative": ["no"]},
        "system_prompt": script,
        "prompt_template": f"{image}\n{{{{ age }}}}",
        "prompt_fields": ["age"],
        "score": "none: decisions only (logprobs not asked for)",
        "usage": {"unparseable_reasons": {script: 2}, "models": [image], "system_fingerprints": []},
    }
    html = render_html(dataclasses.replace(sample_result, model=model))
    for hostile in hostile_strings:
        assert hostile not in html
    text = parse(section(html, "llm")).text
    assert script in text and image in text
    assert "the first match of the pattern" in text
    assert "Decision consistency Not measured: one answer per row." in text
    assert "System fingerprints None given by the server." in text


def test_usage_is_split_by_step_and_adds_up_to_what_the_server_answered(
    audited: dict[str, Any], parse: Any
) -> None:
    model = audited["json"]["model"]
    steps = model["usage_by_step"]
    assert [s["step"] for s in steps] == [
        "scoring the rows",
        "counterfactual auditor",
        "explanations auditor",
    ]
    for count in ("requests", "prompt_tokens", "completion_tokens"):
        assert sum(s[count] for s in steps) == model["usage"][count]
    assert sum(s["requests"] for s in steps) == audited["served"]
    scoring, counterfactual, explanations = steps
    # 80 rows, 3 answers each; the counterfactual asks each row again under the other cue,
    # the attribution asks for the rows with fields left out
    assert scoring["requests"] > 0 and counterfactual["requests"] > 0
    assert explanations["requests"] > 0
    text = parse(section(audited["html"], "llm")).text
    for step in steps:
        name = step["step"][0].upper() + step["step"][1:]  # "Scoring the rows"
        assert f"{name} {step['requests']:,} {step['prompt_tokens']:,}" in text
