"""The usage ledger: per-step differences of a metered model's counts, nothing for others."""

from __future__ import annotations

from audit.engine.usage import UsageLedger


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
