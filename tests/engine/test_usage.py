"""The usage ledger's per-step counts, and the usage of several processes' adapters added up."""

from __future__ import annotations

from audit.engine.usage import UsageLedger, add_usage


class Metered:
    def __init__(self) -> None:
        self.counts = {"requests": 2, "prompt_tokens": 50, "completion_tokens": 5, "answers": 2}

    def usage(self) -> dict[str, int]:
        return dict(self.counts)

    def spend(self, requests: int, prompt: int, completion: int) -> None:
        self.counts["requests"] += requests
        self.counts["prompt_tokens"] += prompt
        self.counts["completion_tokens"] += completion


def test_each_step_gets_what_was_spent_since_the_previous_one():
    model = Metered()
    ledger = UsageLedger(model)  # opened after 2 requests: those belong to no step
    model.spend(10, 1000, 40)
    ledger.record("scoring the rows")
    ledger.record("fairness auditor")  # asked nothing
    model.spend(3, 300, 12)
    ledger.record("explanations auditor")
    assert ledger.describe() == {
        "usage_by_step": [
            {
                "step": "scoring the rows",
                "requests": 10,
                "prompt_tokens": 1000,
                "completion_tokens": 40,
            },
            {"step": "fairness auditor", "requests": 0, "prompt_tokens": 0, "completion_tokens": 0},
            {
                "step": "explanations auditor",
                "requests": 3,
                "prompt_tokens": 300,
                "completion_tokens": 12,
            },
        ]
    }


def test_a_model_without_usage_adds_nothing_to_its_description():
    ledger = UsageLedger(object())
    ledger.record("scoring the rows")
    assert ledger.describe() == {} and ledger.steps == []


def test_two_workers_chat_usage_adds_up():
    # two Dask workers' chat adapters: 10 rows with 5 consistent, and 30 rows all
    # consistent, so 35 of 40 rows were consistent (0.875); one read cached batches
    first = {
        "requests": 12,
        "prompt_tokens": 900,
        "rows_answered": 10,
        "consistency": 0.5,
        "unparseable_reasons": {"no label": 2},
        "models": ["m-2"],
        "from_cache": None,
    }
    cached = {
        "batches": 3,
        "rows": 30,
        "models": ["m-1"],
        "first_scored": {"earliest": "2026-01-02T00:00:00Z", "latest": "2026-01-03T00:00:00Z"},
    }
    second = {
        "requests": 30,
        "prompt_tokens": 2100,
        "rows_answered": 30,
        "consistency": 1.0,
        "unparseable_reasons": {"no label": 1, "refused": 4},
        "models": ["m-1", "m-2"],
        "from_cache": cached,
    }
    assert add_usage(first, second) == {
        "requests": 42,
        "prompt_tokens": 3000,
        "rows_answered": 40,
        "consistency": 35 / 40,
        "unparseable_reasons": {"no label": 3, "refused": 4},
        "models": ["m-1", "m-2"],
        "from_cache": cached,
    }
    earlier = {
        **cached,
        "first_scored": {"earliest": "2025-12-31T00:00:00Z", "latest": "2026-01-01T00:00:00Z"},
    }
    both = add_usage({"from_cache": cached}, {"from_cache": earlier})["from_cache"]
    assert both["first_scored"] == {
        "earliest": "2025-12-31T00:00:00Z",
        "latest": "2026-01-03T00:00:00Z",
    }
    assert (both["batches"], both["rows"]) == (6, 60)
