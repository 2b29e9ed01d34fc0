"""Rows an LLM gives no decision are left out (within ``max_unanswered``), never given a class."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit.adapters.config import load_config_model
from audit.adapters.http.chat_decision import ChatAnswer, parse_decision
from audit.adapters.http.templating import row_values
from audit.auditors.explanations.forward import scores_of
from audit.cli.main import main
from audit.core.context import Task
from audit.core.protocols import Predictions
from audit.errors import ModelError
from audit.scoring import leave_out_unanswered
from audit.testing.llm import Screener, StandInLLM, prompt_fields, serve_screener
from tests.conftest import llm_config

from .test_llm_cli import ROWS, applicants, command

__all__ = ["applicants"]  # the module-scoped fixture, shared with test_llm_cli

OFF_FORMAT = "I cannot decide on this applicant."  # what the stand-in answers off format
TRUNCATED = "truncated (finish_reason 'length'): raise max_tokens"


def planted(llm: StandInLLM, config: Path, data: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Per row, the stand-in's own decision and why it gives none (``None``: answered)."""
    with load_config_model(config) as adapter:
        prompts = [adapter.template.render(r)[-1]["content"] for r in row_values(data)]
        rule = adapter.rule
    off = parse_decision(ChatAnswer(OFF_FORMAT, "stop", None, None, None, None, None), rule)
    screener = llm.screener
    fields = [prompt_fields(p) for p in prompts]
    why = [
        TRUNCATED
        if screener.fault(f, "truncate")
        else off.reason
        if screener.fault(f, "off_format")
        else None
        for f in fields
    ]
    return pd.Series([screener.decide(f)[0] for f in fields]), pd.Series(why, dtype=object)


def test_rows_without_a_decision_are_left_out_within_max_unanswered(
    applicants: Path, tmp_path: Path
) -> None:
    screener = Screener(flip_rate=0.3, off_format=0.04, truncate=0.03)
    with serve_screener(screener) as llm:
        config = llm_config(llm, tmp_path, max_unanswered=0.15)
        cache = str(tmp_path / "cache")
        code = main(command(config, applicants, tmp_path / "a", "--cache-dir", cache))
        assert code in (0, 1)
        assert llm.requests == ROWS
        data = pd.read_csv(applicants)
        decided, why = planted(llm, config, data)
        code = main(command(config, applicants, tmp_path / "b", "--cache-dir", cache))
        assert code in (0, 1)
        assert llm.requests == ROWS  # the rerun asks nothing and leaves out the same rows

    answered = why.isna().to_numpy()
    reasons = dict(Counter(why.dropna()))
    assert len(reasons) == 2 and 0 < (~answered).sum() <= 0.15 * ROWS  # both faults struck
    report = json.loads((tmp_path / "a" / "report.json").read_text())
    assert report["data"]["rows"] == ROWS
    assert report["data"]["rows_unanswered"] == (~answered).sum()
    assert report["data"]["unanswered_reasons"] == reasons
    assert report["model"]["unanswered_rows"]["count"] == (~answered).sum()
    assert report["model"]["unanswered_rows"]["reasons"] == reasons

    # the selection rates are a pandas tally of the server's own rule over the answered rows
    rates = decided[answered].groupby(data["sex"].to_numpy()[answered]).mean()
    table = next(
        m for m in report["auditors"][0]["metrics"]
        if m["metric"] == "selection_rate" and m["grouping"] == ["sex"]
    )  # fmt: skip
    measured = {g["group"]: g["value"] for g in table["groups"]}
    assert measured == pytest.approx({f"sex={k}": v for k, v in rates.items()})
    counts = {g["group"]: g["count"] for g in table["groups"]}
    assert sum(counts.values()) == answered.sum()

    warning = f"{(~answered).sum()} of {ROWS} rows"
    assert all(any(warning in w for w in a["warnings"]) for a in report["auditors"])
    assert warning in (tmp_path / "a" / "report.html").read_text()

    rerun = json.loads((tmp_path / "b" / "report.json").read_text())
    assert rerun["data"]["rows_unanswered"] == (~answered).sum()
    assert rerun["auditors"][0]["metrics"] == report["auditors"][0]["metrics"]


def test_more_rows_without_a_decision_than_allowed_end_in_one_line(
    applicants: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve_screener(Screener(off_format=0.05)) as llm:
        config = llm_config(llm, tmp_path, max_unanswered=0.01)
        code = main(command(config, applicants, tmp_path / "out"))
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert "got no decision from the model (" in err and "above max_unanswered 1.0%" in err
    assert not (tmp_path / "out" / "report.json").exists()


def test_max_unanswered_outside_zero_to_one_is_a_placed_error(
    applicants: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve_screener(Screener()) as llm:
        config = llm_config(llm, tmp_path, max_unanswered=1.5)
        code = main(command(config, applicants, tmp_path / "out"))
    err = capsys.readouterr().err.strip()
    assert code == 2 and "max_unanswered" in err and len(err.splitlines()) == 1, err


def test_unanswered_rows_survive_concatenation_and_are_dropped_by_answered() -> None:
    first = Predictions(labels=np.array([1, 0]), scores=np.array([0.9, 0.2]))
    second = Predictions(
        labels=np.array([np.nan, 1.0]),
        scores=np.array([np.nan, 0.7]),
        unanswered=np.array([True, False]),
    )
    joined = Predictions.concatenate([first, second])
    assert joined.unanswered is not None
    assert joined.unanswered.tolist() == [False, False, True, False]
    assert joined.unanswered_count == 1
    kept = joined.answered()
    assert kept.labels is not None and kept.labels.tolist() == [1.0, 0.0, 1.0]
    assert kept.unanswered is None and kept.scores is not None
    assert kept.scores.tolist() == [0.9, 0.2, 0.7]
    with pytest.raises(ValueError, match="boolean mask"):
        Predictions(labels=np.array([1]), unanswered=np.array([1]))


class _Marked:
    """An adapter stand-in with only what leave_out_unanswered reads."""

    def __init__(self, max_unanswered: float) -> None:
        self.max_unanswered = max_unanswered

    def unanswered_reasons(self) -> dict[str, int]:
        return {"empty answer": 1}


def test_the_share_allowed_is_inclusive_and_the_rest_are_kept_in_order() -> None:
    frame = pd.DataFrame({"x": range(10)})
    mask = np.zeros(10, dtype=bool)
    mask[[3, 7]] = True
    labels = np.where(mask, np.nan, np.arange(10) % 2)
    predictions = Predictions(labels=labels, unanswered=mask)
    kept, answered, reasons = leave_out_unanswered(_Marked(0.2), frame, predictions)
    assert kept["x"].tolist() == [0, 1, 2, 4, 5, 6, 8, 9]
    assert kept.index.tolist() == list(range(8))
    assert answered.labels is not None and answered.labels.tolist() == [0, 1, 0, 0, 1, 0, 0, 1]
    # one reason given by the adapter, the other row read from a cache without one
    assert reasons == {
        "empty answer": 1,
        "no answer (reason not recorded: read from the cache)": 1,
    }
    with pytest.raises(ModelError, match=r"2 of 10 rows \(20.0%\).*above max_unanswered 19.0%"):
        leave_out_unanswered(_Marked(0.19), frame, predictions)
    everything = Predictions(labels=np.full(10, np.nan), unanswered=np.ones(10, dtype=bool))
    with pytest.raises(ModelError, match="nothing left to audit with"):
        leave_out_unanswered(_Marked(1.0), frame, everything)


def test_attributions_refuse_a_perturbed_row_without_a_decision() -> None:
    # without the check, NaN != positive label would count the row as the negative class
    mask = np.array([False, True])
    predictions = Predictions(labels=np.array([1.0, np.nan]), unanswered=mask)
    with pytest.raises(ModelError, match="1 of 2 perturbed rows no decision"):
        scores_of(predictions, task=Task.BINARY, positive_label=1)
