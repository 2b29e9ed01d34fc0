"""`maas-audit run --model screening-llm.yaml --policy nyc-ll144`: LL144 tables of an LLM."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml

from audit.adapters.config import load_config_model
from audit.adapters.http.templating import row_values
from audit.cli.main import main
from audit.testing.llm import Screener, StandInLLM, prompt_fields, serve_screener
from tests.conftest import LLM_EXAMPLE, llm_config

from .conftest import ADULT

ROWS = 400


@pytest.fixture(scope="module")
def applicants(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("llm") / "applicants.csv"
    pd.read_csv(ADULT, nrows=ROWS).to_csv(path, index=False)
    return path


def command(config: Path, data: Path, out: Path, *extra: str) -> list[str]:
    return [
        "run", "--model", str(config), "--data", str(data), "--policy", "nyc-ll144",
        "--sensitive", "sex,race", "--target", "income", "--positive-label", ">50K",
        "--out", str(out), "--no-progress", *extra,
    ]  # fmt: skip


@pytest.fixture
def screener_llm() -> Iterator[StandInLLM]:
    with serve_screener(Screener(flip_rate=0.3)) as llm:
        yield llm


def test_ll144_tables_of_an_llm_screener(
    screener_llm: StandInLLM, applicants: Path, tmp_path: Path
) -> None:
    config = llm_config(screener_llm, tmp_path)
    cache = str(tmp_path / "cache")
    code = main(command(config, applicants, tmp_path / "a", "--cache-dir", cache))
    assert code in (0, 1)
    assert screener_llm.requests == ROWS

    # the planted decisions, tallied with pandas from the server's own rule
    data = pd.read_csv(applicants)
    with load_config_model(config) as adapter:
        prompts = [adapter.template.render(r)[-1]["content"] for r in row_values(data)]
        template_sha = adapter.template.sha256
    decided = pd.Series([screener_llm.screener.decide(prompt_fields(p))[0] for p in prompts])
    rates = decided.groupby(data["sex"].to_numpy()).mean()
    report = json.loads((tmp_path / "a" / "report.json").read_text())
    table = next(
        m for m in report["auditors"][0]["metrics"]
        if m["metric"] == "selection_rate" and m["grouping"] == ["sex"]
    )  # fmt: skip
    measured = {g["group"]: g["value"] for g in table["groups"]}
    assert measured == pytest.approx({f"sex={k}": v for k, v in rates.items()})
    finding = next(
        f for f in report["findings"]
        if f["requirement_id"] == "ll144-impact-ratio-by-category" and f["grouping"] == ["sex"]
    )  # fmt: skip
    assert finding["measured"] == pytest.approx(rates["Female"] / rates["Male"])
    assert rates["Female"] / rates["Male"] < 0.8  # the planted bias shows

    model = report["model"]
    system = yaml.safe_load(LLM_EXAMPLE.read_text())["system"]
    prompt = yaml.safe_load(LLM_EXAMPLE.read_text())["prompt"]
    expected_sha = hashlib.sha256(json.dumps([system, prompt]).encode()).hexdigest()
    assert model["template_sha256"] == expected_sha == template_sha
    assert model["usage"]["requests"] == ROWS and model["usage"]["prompt_tokens"] > 0
    assert model["usage"]["system_fingerprints"] == ["fp_standin_1"]
    assert model["usage"]["models"] == ["screening-model"]
    assert "logprobs" in model["score"]

    code = main(command(config, applicants, tmp_path / "b", "--cache-dir", cache))
    assert screener_llm.requests == ROWS  # the rerun sends nothing
    rerun = json.loads((tmp_path / "b" / "report.json").read_text())["model"]
    assert rerun["usage"]["requests"] == 0
    assert rerun["scoring"]["batches_scored"] == 0


@pytest.mark.parametrize(
    ("screener", "changes", "extra", "message"),
    [
        (Screener(off_format=0.05), {}, (), "got no decision (0 with tied answers; unparseable"),
        (Screener(truncate=0.05), {}, (), "truncated (finish_reason 'length')"),
        (Screener(), {"max_tokens": 2}, (), "truncated (finish_reason 'length')"),
        (Screener(rate_limit=1000), {"max_retries": 1}, (), "HTTP 429"),
        (Screener(flaky=0.5), {"samples": 3, "min_consistency": 0.9}, (), "changed between calls"),
        (Screener(), {}, ("--budget", "2000"), "the token budget (2,000) would be passed"),
        (Screener(), {}, ("--max-requests", "30"), "stopped before request 31"),
    ],
)
def test_what_cannot_be_trusted_ends_in_one_line_and_exit_2(
    screener: Screener,
    changes: dict[str, object],
    extra: tuple[str, ...],
    message: str,
    applicants: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with serve_screener(screener) as llm:
        config = llm_config(llm, tmp_path, **changes)
        code = main(command(config, applicants, tmp_path / "out", *extra))
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and message in err, err
    assert not (tmp_path / "out" / "report.json").exists()
