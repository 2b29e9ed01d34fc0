"""The statements a policy asks the filer for, arranged with the answers given.

A policy's cited texts ask for facts the data cannot show: that an HMAC key is kept
apart from the data (GDPR Art. 4(5)), that employees were told the employer uses
artificial intelligence (775 ILCS 5/2-102(L)(2)), that a test report is dated and signed
by the responsible persons (EU AI Act, Annex IV point 2(g)).  The policy names them
(``report: {statements: [...]}``); the filer answers them
(``maas-audit run --statement ID=TEXT``, :attr:`AuditDetails.statements`).  This module
pairs each request with its answer, or says it is missing.  It judges nothing: an
answer is printed as given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from audit.core.result import AuditResult

__all__ = ["StatementRow", "statement_rows"]

MISSING = "Not given (maas-audit run --statement {id}=...)."
MISSING_SIGN_OFF = "No sign-off was given (maas-audit run --auditor-name ... --sign-off-date ...)."
SIGNED = (
    "Signed off by {name}{organisation}, {date}: sign the printed report in the sign-off below."
)


@dataclass(frozen=True)
class StatementRow:
    """One statement the policy asks for, and what was given."""

    id: str
    asks: str
    citation: str
    answer: str
    """The statement as given, or what is missing and how to give it."""
    given: bool


def statement_rows(result: AuditResult) -> tuple[StatementRow, ...]:
    """Pair each statement the policy asks for with the answer in ``result.details``.

    Parameters
    ----------
    result : AuditResult
        The audit.

    Returns
    -------
    tuple of StatementRow
        In the policy's order; empty when the policy asks for none.
    """
    details = result.details
    rows = []
    for request in result.policy.statements:
        text = details.statements.get(request.id, "")
        if request.sign_off and not text:
            sign_off = details.sign_off
            if sign_off is None:
                rows.append(
                    StatementRow(
                        request.id, request.asks, request.citation, MISSING_SIGN_OFF, False
                    )
                )
                continue
            text = SIGNED.format(
                name=sign_off.name,
                organisation=f" ({sign_off.organisation})" if sign_off.organisation else "",
                date=sign_off.date or "dated the day of the audit",
            )
        given = bool(text)
        answer = text if given else MISSING.format(id=request.id)
        rows.append(StatementRow(request.id, request.asks, request.citation, answer, given))
    return tuple(rows)
