"""What every report says about itself: limits that hold whatever the findings.

The auditors state the limits of their own methods (``AuditorOutput.limitations``).
These are the report's: that it is not legal advice or a determination of compliance;
that the four-fifths rule is a rule of thumb, wherever a ratio to the highest group
is compared with 0.80; that masked data is still personal data, wherever masking
is audited; that the data is stand-in or test data, when the filer says
so; and which citations could not be checked against the text they cite.  Each is a
sentence chosen from the result's policy and details; nothing here is a number.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from audit.core.result import AuditResult

__all__ = [
    "FOUR_FIFTHS",
    "NOT_LEGAL_ADVICE",
    "PSEUDONYMISED",
    "STAND_IN_DATA",
    "report_limitations",
]

NOT_LEGAL_ADVICE = (
    "This report states what was measured and how each figure compares with the threshold "
    "or benchmark of each requirement. It is not legal advice, and it is not a "
    "determination that the model, the data or their use complies with any law; that "
    "determination belongs to the people responsible for them and their counsel."
)
FOUR_FIFTHS = (
    "The four-fifths rule is a rule of thumb. Under 29 CFR § 1607.4(D) a selection rate "
    "below four-fifths of the highest rate \u201cwill generally be regarded by the Federal "
    "enforcement agencies as evidence of adverse impact\u201d; \u201csmaller differences in "
    "selection rate may nevertheless constitute adverse impact, where they are significant "
    "in both statistical and practical terms\u201d, and greater differences may not, where "
    "they rest on small numbers and are not statistically significant. A ratio at or above "
    "0.80 is not a finding of no adverse impact, and one below it is not a finding of "
    "discrimination."
)
STAND_IN_DATA = (
    "The data is stand-in or test data ({why}). The figures describe the model's decisions "
    "on these rows, not on the people the tool is or will be used on, and may differ from "
    "figures on historical data of the tool's use."
)
PSEUDONYMISED = (
    "Masking that passes does not make the data anonymous. Under Recital 26 of the GDPR, "
    "\u201cpersonal data which have undergone pseudonymisation, which could be attributed to "
    "a natural person by the use of additional information should be considered to be "
    "information on an identifiable natural person\u201d: keyed hashes, tokens and "
    "generalised values are still personal data."
)
UNVERIFIED = (
    "The citation{s} of {ids} could not be checked against the text cited and {verb} "
    "marked unverified: read {them} against the source before relying on {them}."
)

_STAND_IN_WORDS = re.compile(
    r"\b(test data|stands?[- ]in|synthetic|simulated|surrogate|substitute)\b", re.IGNORECASE
)
_FOUR_FIFTHS_THRESHOLD = 0.8


def report_limitations(result: AuditResult) -> tuple[str, ...]:
    """The report's own limitations for ``result``, in the order the report prints them.

    Parameters
    ----------
    result : AuditResult
        The audit.

    Returns
    -------
    tuple of str
        Always the not-legal-advice statement; the others when they apply.
    """
    out = [NOT_LEGAL_ADVICE]
    requirements = result.policy.requirements
    if any(
        r.comparison == "ratio_to_max" and r.threshold == _FOUR_FIFTHS_THRESHOLD
        for r in requirements
    ):
        out.append(FOUR_FIFTHS)
    if any(r.auditor == "masking" for r in requirements):
        out.append(PSEUDONYMISED)
    details = result.details
    if details.data_kind == "test":
        out.append(STAND_IN_DATA.format(why="stated as test data"))
    elif _STAND_IN_WORDS.search(details.data_description):
        out.append(STAND_IN_DATA.format(why=f"described as \u201c{details.data_description}\u201d"))
    unverified = [r.id for r in requirements if r.citation_verified is False]
    if unverified:
        many = len(unverified) > 1
        out.append(
            UNVERIFIED.format(
                s="s" if many else "",
                ids=", ".join(unverified),
                verb="are" if many else "is",
                them="them" if many else "it",
            )
        )
    return tuple(out)
