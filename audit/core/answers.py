"""Who answered a batch of rows, and what its answers cost, as the endpoint said.

Decisions read from the prediction cache were paid for when they were first scored:
each cached batch keeps an :class:`AnswerRecord` of who answered it and what that cost
(:mod:`audit.cache`), and :class:`CachedAnswers` adds those up, so that the report names
the model behind every decision while counting only what this run spent as spent.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

__all__ = ["AnswerRecord", "CachedAnswers"]


@dataclass(frozen=True)
class AnswerRecord:
    """Who answered one batch of rows and what its answers cost, as the endpoint said.

    Kept with each cached batch (:mod:`audit.cache`), so that a report whose decisions
    were read from the cache still names the model that made them, and says when.

    Attributes
    ----------
    rows:
        Rows in the batch.
    models:
        Model names the answers gave (a chat answer's ``model``; an Open Inference
        Protocol v2 answer's ``model_name``, with ``model_version`` when given).
    system_fingerprints:
        A chat answer's ``system_fingerprint`` values.
    answers:
        Answers read: one request each, the retries before it not counted (the
        transport counts those for the whole run only).
    prompt_tokens, completion_tokens:
        Tokens the answers reported spending.
    scored_at:
        When the batch was answered: UTC, ISO 8601.
    """

    rows: int
    scored_at: str
    models: tuple[str, ...] = ()
    system_fingerprints: tuple[str, ...] = ()
    answers: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def to_json(self) -> dict[str, Any]:
        """The record as JSON values (lists for the tuples)."""
        return {
            "rows": self.rows,
            "scored_at": self.scored_at,
            "models": list(self.models),
            "system_fingerprints": list(self.system_fingerprints),
            "answers": self.answers,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
        }

    @classmethod
    def from_json(cls, value: object) -> AnswerRecord:
        """The record :meth:`to_json` wrote.

        Raises
        ------
        ValueError
            If ``value`` is not such a record (a key missing or extra, a wrong type,
            a negative count): a cache entry holding it is not trusted.
        """
        if not isinstance(value, dict) or set(value) != set(_RECORD_KEYS):
            raise ValueError("the answer record has other keys")
        counts = [value[k] for k in ("rows", "answers", "prompt_tokens", "completion_tokens")]
        if any(isinstance(n, bool) or not isinstance(n, int) or n < 0 for n in counts):
            raise ValueError("the answer record's counts are not ints >= 0")
        names = [value["models"], value["system_fingerprints"]]
        if any(not isinstance(v, list) or not all(isinstance(s, str) for s in v) for v in names):
            raise ValueError("the answer record's names are not lists of text")
        if not isinstance(value["scored_at"], str) or not value["scored_at"]:
            raise ValueError("the answer record has no time")
        return cls(
            rows=value["rows"],
            scored_at=value["scored_at"],
            models=tuple(value["models"]),
            system_fingerprints=tuple(value["system_fingerprints"]),
            answers=value["answers"],
            prompt_tokens=value["prompt_tokens"],
            completion_tokens=value["completion_tokens"],
        )


_RECORD_KEYS = tuple(AnswerRecord(rows=0, scored_at="-").to_json())


class CachedAnswers:
    """The answer records of the batches read from the cache, added up for the report.

    Safe to use from several threads.  What it adds up was spent when the batches were
    first scored, not in this run: the report keeps it apart from this run's counts.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[AnswerRecord] = []
        self.unrecorded_batches = 0
        """Batches read from the cache without a record (an adapter that gives none)."""

    def add(self, record: AnswerRecord | None) -> None:
        """Count one batch read from the cache, with its record (``None``: none kept)."""
        with self._lock:
            if record is None:
                self.unrecorded_batches += 1
            else:
                self._records.append(record)

    def models(self) -> set[str]:
        """Model names the cached answers gave."""
        with self._lock:
            return {name for r in self._records for name in r.models}

    def system_fingerprints(self) -> set[str]:
        """``system_fingerprint`` values the cached answers gave."""
        with self._lock:
            return {fp for r in self._records for fp in r.system_fingerprints}

    def describe(self) -> dict[str, Any] | None:
        """What the cached batches record, for the usage record; ``None`` when none was read.

        ``first_scored`` spans the times their batches were first answered; the counts
        are what was spent then, never again in this run.
        """
        with self._lock:
            records = list(self._records)
            unrecorded = self.unrecorded_batches
        if not records and not unrecorded:
            return None
        times = sorted(r.scored_at for r in records)
        return {
            "batches": len(records) + unrecorded,
            "batches_without_record": unrecorded,
            "rows": sum(r.rows for r in records),
            "answers_recorded": sum(r.answers for r in records),
            "prompt_tokens_recorded": sum(r.prompt_tokens for r in records),
            "completion_tokens_recorded": sum(r.completion_tokens for r in records),
            "models": sorted({name for r in records for name in r.models}),
            "system_fingerprints": sorted({fp for r in records for fp in r.system_fingerprints}),
            "first_scored": {"earliest": times[0], "latest": times[-1]} if times else None,
        }
