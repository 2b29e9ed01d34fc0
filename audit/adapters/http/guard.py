"""Spending limits of a served model: the most requests, and the most tokens, an audit may use.

A :class:`RequestGuard` is asked before every request (:meth:`RequestGuard.reserve`)
and refuses the one that would pass a limit, so an audit stops *before* spending
more than it was allowed, with a :class:`SpendingLimitReached` that says what was
and was not scored.  Nothing partial is concluded: the audit ends with exit code 2.
With a prediction cache (``--cache-dir``) the batches answered before the stop are
kept, and a rerun with a higher limit sends only what is missing.

Tokens are known only once an answer's ``usage`` comes back, so a request is sent
only when the tokens spent so far, plus the estimates of the requests in flight,
plus its own estimate (the caller's: prompt characters / 4 + ``max_tokens``), fit
the budget.  Requests are counted as the transport sends them, retries included.

>>> guard = RequestGuard(max_requests=1)
>>> guard.reserve(tokens=0)
0
>>> guard.reserve(tokens=0)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
audit.adapters.http.guard.SpendingLimitReached: stopped before request 2: the request limit ...
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from audit.errors import UsageError

__all__ = ["RequestGuard", "SpendingLimitReached", "estimate_tokens"]

_ADVICE = (
    "no finding was measured. Raise the limit; with --cache-dir the answers already paid for "
    "are kept"
)


class SpendingLimitReached(UsageError):
    """A request or token limit stopped the audit before it spent more."""


def estimate_tokens(text: str, max_tokens: int | None) -> int:
    """A generous token estimate of one request: characters / 4 plus the answer's cap.

    >>> estimate_tokens("x" * 40, 16)
    26
    """
    return -(-len(text) // 4) + (max_tokens or 0)


def _limit(name: str, value: int | None) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise UsageError(f"{name} must be a whole number >= 1; got {value!r} instead.")
    return value


class RequestGuard:
    """Counts requests and tokens, refusing any request that would pass a limit.

    Parameters
    ----------
    max_requests:
        Most requests to send (``--max-requests``); ``None``: no limit.
    budget_tokens:
        Most prompt plus completion tokens to spend (``--budget``); ``None``: no limit.
    sent:
        Reads how many requests were really sent (the transport's count, retries
        included); by default the guard's own count of reservations.
    progress:
        Says, for the error message, how many rows were answered so far.

    Raises
    ------
    UsageError
        If a limit is not a whole number >= 1.
    """

    def __init__(
        self,
        *,
        max_requests: int | None = None,
        budget_tokens: int | None = None,
        sent: Callable[[], int] | None = None,
        progress: Callable[[], str] | None = None,
    ) -> None:
        self.max_requests = _limit("max_requests", max_requests)
        self.budget_tokens = _limit("budget (tokens)", budget_tokens)
        self._sent = sent
        self._progress = progress
        self._lock = threading.Lock()
        self._reserved = 0
        self._in_flight = 0
        self.tokens_spent = 0

    @property
    def active(self) -> bool:
        """Whether any limit is set."""
        return self.max_requests is not None or self.budget_tokens is not None

    def _stop(self, number: int, reason: str) -> SpendingLimitReached:
        done = f" ({self._progress()})" if self._progress is not None else ""
        return SpendingLimitReached(f"stopped before request {number}: {reason}{done}; {_ADVICE}")

    def reserve(self, *, tokens: int) -> int:
        """Count one request about to be sent, with its token estimate; return the estimate.

        Raises
        ------
        SpendingLimitReached
            If the request, or its estimated tokens, would pass a limit.
        """
        with self._lock:
            sent = max(self._reserved, self._sent() if self._sent is not None else 0)
            if self.max_requests is not None and sent >= self.max_requests:
                raise self._stop(
                    sent + 1, f"the request limit (max_requests {self.max_requests}) is reached"
                )
            if (
                self.budget_tokens is not None
                and self.tokens_spent + self._in_flight + tokens > self.budget_tokens
            ):
                raise self._stop(
                    sent + 1,
                    f"the token budget ({self.budget_tokens:,}) would be passed: "
                    f"{self.tokens_spent:,} spent, about {self._in_flight + tokens:,} more asked",
                )
            self._reserved += 1
            self._in_flight += tokens
            return tokens

    def settle(self, *, estimated: int, spent: int | None) -> None:
        """Record what a request really spent (``None``: unknown, keep the estimate)."""
        with self._lock:
            self._in_flight -= estimated
            self.tokens_spent += estimated if spent is None else spent

    def describe(self) -> dict[str, Any]:
        """The limits, for the report."""
        return {"max_requests": self.max_requests, "budget_tokens": self.budget_tokens}
