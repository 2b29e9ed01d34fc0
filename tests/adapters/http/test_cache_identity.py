"""Who answered a cached decision: the report names the model even when nothing was asked.

The prediction cache keeps, with each batch, the model names and ``system_fingerprint``
values its answers gave, their tokens and the time (an ``AnswerRecord``).  Every count
checked here comes from the servers (the stand-in's own request count, or the fixed
usage a mock server answers with), never from the adapter under test.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from audit import run_audit
from audit.adapters.http import HttpTransport
from audit.adapters.http.adapter import HttpAdapter
from audit.adapters.http.chat_adapter import ChatDecisionAdapter
from audit.adapters.http.chat_decision import DecisionRule, PromptTemplate
from audit.adapters.http.guard import SpendingLimitReached
from audit.cache import PredictionCache, _digest
from audit.cli.main import main
from audit.core.answers import AnswerRecord, CachedAnswers
from audit.core.context import ColumnRoles
from audit.core.provenance import utc_now
from audit.reporting.html import render_html
from audit.scoring import score_batches
from audit.testing.llm import Screener, StandInLLM, serve_screener
from tests.conftest import ParsedHTML, llm_config

from .conftest import ADULT

ROWS = 40
BATCH = 8  # 40 rows: 5 batches
FEATURES = ["age", "education-num", "hours-per-week", "sex"]
PROMPT = """Applicant
age: {{ age }}
education-num: {{ row["education-num"] }}
hours-per-week: {{ row["hours-per-week"] }}
sex: {{ sex }}
Reply with JSON."""
RULE = DecisionRule(positive=("approve",), negative=("reject",), field="decision")
# what the mock chat server reports spending on every answer
PROMPT_TOKENS, COMPLETION_TOKENS = 11, 4


@pytest.fixture(scope="module")
def applicants() -> pd.DataFrame:
    return pd.read_csv(ADULT, nrows=ROWS, usecols=[*FEATURES, "income"])


@pytest.fixture(scope="module")
def applicants_csv(applicants: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("identity") / "applicants.csv"
    pd.read_csv(ADULT, nrows=ROWS).to_csv(path, index=False)
    return path


@pytest.fixture
def standin() -> Iterator[StandInLLM]:
    with serve_screener(Screener(flip_rate=0.3)) as llm:
        yield llm


class MockChat:
    """A chat endpoint answering as ``model`` with ``fingerprint``, counting its requests."""

    def __init__(self, model: str, fingerprint: str) -> None:
        self.model, self.fingerprint, self.requests = model, fingerprint, 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        prompt = json.loads(request.content)["messages"][-1]["content"]
        word = "approve" if "sex: Female" not in prompt else "reject"
        return httpx.Response(
            200,
            json={
                "model": self.model,
                "system_fingerprint": self.fingerprint,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": json.dumps({"decision": word})},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": PROMPT_TOKENS,
                    "completion_tokens": COMPLETION_TOKENS,
                    "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS,
                },
            },
        )


def chat_adapter(server: MockChat, **settings: Any) -> ChatDecisionAdapter:
    transport = HttpTransport(
        max_retries=0, sleep=lambda _: None, transport=httpx.MockTransport(server)
    )
    return ChatDecisionAdapter(
        "http://llm.test/v1/chat/completions",
        model="decider",
        template=PromptTemplate(PROMPT),
        rule=RULE,
        transport=transport,
        batch_size=BATCH,
        input_columns=FEATURES,
        **settings,
    )


def audit(model: Any, data: pd.DataFrame, cache: Path) -> Any:
    return run_audit(
        model=model,
        data=data,
        policy="four-fifths",
        target="income",
        positive_label=">50K",
        sensitive=["sex"],
        cache_dir=cache,
    )


def cli(config: Path, data: Path, out: Path, cache: Path) -> list[str]:
    return [
        "run", "--model", str(config), "--data", str(data), "--policy", "nyc-ll144",
        "--sensitive", "sex,race", "--target", "income", "--positive-label", ">50K",
        "--out", str(out), "--no-progress", "--cache-dir", str(cache),
    ]  # fmt: skip


def llm_text(html: str) -> str:
    start = html.index('<section id="llm"')
    part = html[start : html.index("</section>", start)]
    return re.sub(r"\s+", " ", " ".join(ParsedHTML(part).chunks))


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_a_fully_cached_cli_rerun_names_the_model_and_says_it_came_from_the_cache(
    standin: StandInLLM, applicants_csv: Path, tmp_path: Path
) -> None:
    config = llm_config(standin, tmp_path)
    cache = tmp_path / "cache"
    before = when(utc_now())
    assert main(cli(config, applicants_csv, tmp_path / "a", cache)) in (0, 1)
    after = when(utc_now())
    asked = standin.requests
    assert asked == ROWS  # one answer per row
    first = json.loads((tmp_path / "a" / "report.json").read_text())["model"]["usage"]
    assert first["from_cache"] is None

    assert main(cli(config, applicants_csv, tmp_path / "b", cache)) in (0, 1)
    assert standin.requests == asked  # the rerun sent nothing
    report = json.loads((tmp_path / "b" / "report.json").read_text())["model"]
    usage = report["usage"]
    assert report["scoring"]["batches_from_cache"] == ROWS // BATCH
    # what this run spent, and who answered the decisions it rests on
    assert (usage["requests"], usage["prompt_tokens"], usage["completion_tokens"]) == (0, 0, 0)
    assert usage["models"] == ["screening-model"]  # the stand-in echoes the model asked for
    assert usage["system_fingerprints"] == ["fp_standin_1"]  # the stand-in's constant
    cached = usage["from_cache"]
    assert cached["batches"] == ROWS // BATCH and cached["rows"] == ROWS
    assert cached["batches_without_record"] == 0
    assert cached["answers_recorded"] == asked
    assert cached["prompt_tokens_recorded"] == first["prompt_tokens"] > 0
    assert cached["completion_tokens_recorded"] == first["completion_tokens"] > 0
    assert cached["models"] == ["screening-model"]
    assert cached["system_fingerprints"] == ["fp_standin_1"]
    scored = cached["first_scored"]
    assert before <= when(scored["earliest"]) <= when(scored["latest"]) <= after

    text = llm_text((tmp_path / "b" / "report.html").read_text())
    assert f"Decisions read from the prediction cache {ROWS // BATCH} batches ({ROWS} rows)" in text
    assert f"when they cost {asked} answered requests" in text
    assert scored["earliest"] in text
    assert "Models that answered screening-model" in text
    assert "System fingerprints fp_standin_1" in text
    cached_row = "Of these, answering the cached decisions screening-model ; fingerprints"
    assert f"{cached_row} fp_standin_1" in text
    fresh = llm_text((tmp_path / "a" / "report.html").read_text())
    assert "Decisions read from the prediction cache None: every decision was asked for" in fresh


def test_a_resume_unions_who_answered_and_counts_only_what_this_run_spent(
    applicants: pd.DataFrame, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    roles = ColumnRoles(target="income", features=tuple(FEATURES), sensitive=("sex",))
    old = MockChat("llm-2024-01", "fp_old")
    before = when(utc_now())
    # one batch at a time: batches 0 and 1 (16 requests) come back, batch 2 is stopped
    with (
        chat_adapter(old, concurrency=1, max_requests=2 * BATCH + 3) as chat,
        pytest.raises(SpendingLimitReached),
    ):
        score_batches(chat, applicants, roles, cache=PredictionCache(cache))
    after = when(utc_now())
    assert old.requests == 2 * BATCH + 3

    new = MockChat("llm-2024-06", "fp_new")  # the endpoint's model changed meanwhile
    with chat_adapter(new) as chat:
        result = audit(chat, applicants, cache)
    assert new.requests == ROWS - 2 * BATCH
    usage = result.model["usage"]
    assert result.model["scoring"]["batches_from_cache"] == 2
    assert usage["requests"] == new.requests
    assert usage["prompt_tokens"] == new.requests * PROMPT_TOKENS
    assert usage["completion_tokens"] == new.requests * COMPLETION_TOKENS
    assert usage["models"] == ["llm-2024-01", "llm-2024-06"]
    assert usage["system_fingerprints"] == ["fp_new", "fp_old"]
    cached = usage["from_cache"]
    assert (cached["batches"], cached["rows"], cached["answers_recorded"]) == (2, 16, 16)
    assert cached["prompt_tokens_recorded"] == 16 * PROMPT_TOKENS
    assert cached["completion_tokens_recorded"] == 16 * COMPLETION_TOKENS
    assert (cached["models"], cached["system_fingerprints"]) == (["llm-2024-01"], ["fp_old"])
    scored = cached["first_scored"]
    assert before <= when(scored["earliest"]) <= when(scored["latest"]) <= after


def test_the_usage_by_step_of_a_cached_rerun_spends_nothing(
    applicants: pd.DataFrame, tmp_path: Path
) -> None:
    server = MockChat("llm-2024-01", "fp_old")
    with chat_adapter(server) as chat:
        audit(chat, applicants, tmp_path)
    with chat_adapter(server) as chat:
        result = audit(chat, applicants, tmp_path)
    assert server.requests == ROWS
    steps = result.model["usage_by_step"]
    assert all(s["requests"] == s["prompt_tokens"] == 0 for s in steps)
    assert result.model["usage"]["from_cache"]["prompt_tokens_recorded"] == ROWS * PROMPT_TOKENS


def entry_files(cache: Path) -> list[Path]:
    return sorted(cache.glob("*/batch-*.npz"))


def rewrite(path: Path, change: Callable[[dict[str, np.ndarray]], None]) -> None:
    with np.load(path, allow_pickle=False) as archive:
        members = {name: archive[name] for name in archive.files}
    change(members)
    np.savez(path, allow_pickle=False, **members)


def tampered_record(members: dict[str, np.ndarray]) -> None:
    record = json.loads(str(members["answered_json"][()]))
    record["models"] = ["someone-else"]
    members["answered_json"] = np.asarray(json.dumps(record))


def malformed_record(members: dict[str, np.ndarray]) -> None:
    """A record of the wrong shape under a checksum that matches it."""
    members["answered_json"] = np.asarray(json.dumps({"models": "llm"}))
    meta = json.loads(str(members["meta"][()]))
    meta["sha256"] = _digest({k: v for k, v in members.items() if k != "meta"})
    members["meta"] = np.asarray(json.dumps(meta))


@pytest.mark.parametrize("change", [tampered_record, malformed_record])
def test_an_entry_whose_record_cannot_be_trusted_is_scored_again(
    change: Callable[[dict[str, np.ndarray]], None], applicants: pd.DataFrame, tmp_path: Path
) -> None:
    first = MockChat("llm-2024-01", "fp_old")
    with chat_adapter(first) as chat:
        audit(chat, applicants, tmp_path)
    rewrite(entry_files(tmp_path)[0], change)
    second = MockChat("llm-2024-06", "fp_new")
    with chat_adapter(second) as chat:
        result = audit(chat, applicants, tmp_path)
    assert second.requests == BATCH  # the one batch rescored
    scoring = result.model["scoring"]
    assert scoring["batches_scored"] == 1 and scoring["cache"]["entries_rejected"] == 1
    usage = result.model["usage"]
    assert usage["models"] == ["llm-2024-01", "llm-2024-06"]  # never "someone-else"
    assert usage["from_cache"]["batches"] == ROWS // BATCH - 1


def test_entries_of_the_older_format_are_ignored_cleanly(
    applicants: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Format 1 kept no record of who answered: such entries are never reused."""
    old = MockChat("llm-2024-01", "fp_old")
    with monkeypatch.context() as patched:
        patched.setattr("audit.cache.FORMAT", 1)
        with chat_adapter(old) as chat:
            score_batches(
                chat,
                applicants,
                ColumnRoles(target="income", features=tuple(FEATURES), sensitive=("sex",)),
                cache=PredictionCache(tmp_path),
            )
    old_entries = entry_files(tmp_path)
    assert len(old_entries) == ROWS // BATCH
    new = MockChat("llm-2024-06", "fp_new")
    with chat_adapter(new) as chat:
        result = audit(chat, applicants, tmp_path)
    assert new.requests == ROWS  # nothing of format 1 was reused
    scoring = result.model["scoring"]
    assert (scoring["batches_from_cache"], scoring["cache"]["entries_rejected"]) == (0, 0)
    assert result.model["usage"]["models"] == ["llm-2024-06"]
    assert result.model["usage"]["from_cache"] is None

    # a format-1 entry put where a format-2 one belongs is refused, not read
    fresh = next(p for p in entry_files(tmp_path) if p not in old_entries)
    fresh.write_bytes(old_entries[0].read_bytes())
    with chat_adapter(new) as chat:
        result = audit(chat, applicants, tmp_path)
    assert result.model["scoring"]["cache"]["entries_rejected"] == 1


class MockOIP:
    """An Open Inference Protocol v2 endpoint naming ``version`` in its answers."""

    def __init__(self, version: str) -> None:
        self.version, self.requests = version, 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":  # the model metadata the fingerprint reads
            return httpx.Response(200, json={"name": "adult", "platform": "mock"})
        self.requests += 1
        body = json.loads(request.content)
        rows = body["inputs"][0]["shape"][0]
        return httpx.Response(
            200,
            json={
                "model_name": "adult",
                "model_version": self.version,
                "id": body.get("id"),
                "outputs": [
                    {"name": "predict", "shape": [rows], "datatype": "INT64", "data": [1] * rows}
                ],
            },
        )


def oip_adapter(server: MockOIP) -> HttpAdapter:
    transport = HttpTransport(max_retries=0, transport=httpx.MockTransport(server))
    return HttpAdapter(
        "http://models.test/v2/models/adult/infer",
        protocol="oip-v2",
        batch_size=BATCH,
        input_columns=FEATURES,
        transport=transport,
    )


def test_an_oip_v2_rerun_from_the_cache_names_the_model_version_that_answered(
    applicants: pd.DataFrame, tmp_path: Path
) -> None:
    first = MockOIP("7")
    with oip_adapter(first) as model:
        fresh = audit(model, applicants, tmp_path)
    assert first.requests == ROWS // BATCH
    assert fresh.model["usage"] == {
        "requests": ROWS // BATCH,
        "models": ["adult version 7"],
        "from_cache": None,
    }
    second = MockOIP("8")
    with oip_adapter(second) as model:
        rerun = audit(model, applicants, tmp_path)
    assert second.requests == 0
    usage = rerun.model["usage"]
    assert (usage["requests"], usage["models"]) == (0, ["adult version 7"])
    cached = usage["from_cache"]
    assert (cached["batches"], cached["rows"], cached["answers_recorded"]) == (5, ROWS, 5)
    assert cached["models"] == ["adult version 7"]
    html = render_html(rerun)
    model_line = html[
        html.index("<dt>Model</dt>") : html.index("</dd>", html.index("<dt>Model</dt>"))
    ]
    assert "answered by <code>adult version 7</code>" in model_line  # in the report's header


def test_cached_answers_add_up_records_and_count_batches_without_one() -> None:
    tally = CachedAnswers()
    tally.add(AnswerRecord(8, "2026-01-02T00:00:00+00:00", ("m-1",), ("fp_a",), 8, 80, 16))
    tally.add(AnswerRecord(5, "2026-01-01T00:00:00+00:00", ("m-2",), (), 10, 100, 20))
    tally.add(None)
    assert tally.describe() == {
        "batches": 3,
        "batches_without_record": 1,
        "rows": 13,
        "answers_recorded": 18,
        "prompt_tokens_recorded": 180,
        "completion_tokens_recorded": 36,
        "models": ["m-1", "m-2"],
        "system_fingerprints": ["fp_a"],
        "first_scored": {
            "earliest": "2026-01-01T00:00:00+00:00",
            "latest": "2026-01-02T00:00:00+00:00",
        },
    }
    assert CachedAnswers().describe() is None


@pytest.mark.parametrize(
    "change",
    [{"rows": -1}, {"answers": True}, {"models": "m-1"}, {"scored_at": ""}, {"extra": 1}],
)
def test_a_record_of_the_wrong_shape_is_refused(change: dict[str, Any]) -> None:
    good = AnswerRecord(8, "2026-01-02T00:00:00+00:00", ("m-1",), ("fp_a",), 8, 80, 16)
    assert AnswerRecord.from_json(good.to_json()) == good
    with pytest.raises(ValueError, match="answer record"):
        AnswerRecord.from_json({**good.to_json(), **change})
