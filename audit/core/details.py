"""What the person filing an audit states about it: the data's origin and the auditor's sign-off.

These are statements, not measurements: maas-audit records them as given and prints
them in the report.  NYC Local Law 144 asks the published summary of a bias audit for
the source and dates of the data, whether historical or test data was used and why,
the distribution date of the tool, and the independent auditor's justification for each
category excluded from the impact ratios (6 RCNY §§ 5-300 to 5-303); :class:`SignOff`
carries the auditor's name, organisation, the date and the independence statement.
Other texts ask for statements a policy names (:class:`StatementRequest`), given as
:attr:`AuditDetails.statements`.

>>> details = AuditDetails(
...     data_description="Applications received through the careers site",
...     data_dates="2023-01-01 to 2023-12-31",
...     sign_off=SignOff(name="A. Auditor", organisation="Example Audit LLP"),
... )
>>> details.sign_off.name
'A. Auditor'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from audit.errors import UsageError

__all__ = ["DATA_KINDS", "AuditDetails", "DataKind", "SignOff", "StatementRequest"]

ERR_EMPTY_NAME = "the sign-off needs the auditor's name"
ERR_DATE = "the sign-off date must be a date as YYYY-MM-DD; got {date!r}"
ERR_DATA_KIND = "the data kind must be 'historical' or 'test'; got {kind!r}"
ERR_EMPTY_KEY = "a {what} needs a name before '='; got {text!r}"
ERR_EMPTY_TEXT = "the {what} for {key!r} is empty"

DataKind = Literal["", "historical", "test"]
"""Historical data of the tool's use, or test data (6 RCNY § 5-302); empty: not stated."""
DATA_KINDS = ("historical", "test")


@dataclass(frozen=True)
class SignOff:
    """The auditor's sign-off on a report.

    Parameters
    ----------
    name : str
        The person who conducted or is responsible for the audit.
    organisation : str
        Their firm or organisation.
    date : str
        Date of the sign-off, ``YYYY-MM-DD``; empty: the report shows the audit's date.
    independence : str
        The auditor's independence statement (6 RCNY § 5-300 defines an independent
        auditor: no involvement in using, developing or distributing the tool, no
        employment relationship with the employer or vendor, no financial interest).

    Raises
    ------
    UsageError
        The name is empty or the date is not ``YYYY-MM-DD``.
    """

    name: str
    organisation: str = ""
    date: str = ""
    independence: str = ""

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise UsageError(ERR_EMPTY_NAME)
        if self.date:
            try:
                dt.date.fromisoformat(self.date)
            except ValueError:
                raise UsageError(ERR_DATE.format(date=self.date)) from None


@dataclass(frozen=True)
class AuditDetails:
    """Statements about an audit that the data cannot tell: where the data came from, who signed.

    Parameters
    ----------
    data_description : str
        The source of the data in words, e.g. "historical applications, 2023, all
        locations" or "test data supplied by the vendor" (LL144 distinguishes the two).
    data_dates : str
        The period the data covers, e.g. "2023-01-01 to 2023-12-31".
    sign_off : SignOff or None
        The auditor's sign-off; ``None``: the report says none was given.
    data_kind : {"", "historical", "test"}
        Whether the data is historical data of the tool's use or test data (6 RCNY
        § 5-302); empty: not stated.
    test_data_reason : str
        With test data: why historical data was not used (6 RCNY § 5-302(b)).
    test_data_origin : str
        With test data: how the test data was generated and obtained (6 RCNY § 5-302(b)).
    distribution_date : str
        The date the tool was distributed, as the summary of results gives it (6 RCNY § 5-303).
    rows_are : str
        What one row of the data is, in the data's own word: "applicants", "candidates",
        "adults in the 1994 US census".  The LL144 summary counts "applicants" only when
        the rows are applicants or candidates.
    exclusion_justifications : mapping of str to str
        Per category excluded from the impact ratios (its label as the report shows it),
        the independent auditor's justification for excluding it (6 RCNY § 5-301).
    statements : mapping of str to str
        Answers to the statements the policy asks for (:class:`StatementRequest`), by id.

    Raises
    ------
    UsageError
        An unknown data kind, or a justification or statement with no key or no text.
    """

    data_description: str = ""
    data_dates: str = ""
    sign_off: SignOff | None = None
    data_kind: DataKind = ""
    test_data_reason: str = ""
    test_data_origin: str = ""
    distribution_date: str = ""
    rows_are: str = ""
    exclusion_justifications: Mapping[str, str] = field(default_factory=dict)
    statements: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.data_kind not in ("", *DATA_KINDS):
            raise UsageError(ERR_DATA_KIND.format(kind=self.data_kind))
        for what, mapping in (
            ("justification", self.exclusion_justifications),
            ("statement", self.statements),
        ):
            for key, text in mapping.items():
                if not key.strip():
                    raise UsageError(ERR_EMPTY_KEY.format(what=what, text=f"={text}"))
                if not text.strip():
                    raise UsageError(ERR_EMPTY_TEXT.format(what=what, key=key))
        # Frozen copies: a caller's dict changed later must not change the report.
        object.__setattr__(
            self, "exclusion_justifications", MappingProxyType(dict(self.exclusion_justifications))
        )
        object.__setattr__(self, "statements", MappingProxyType(dict(self.statements)))


@dataclass(frozen=True)
class StatementRequest:
    """A statement a policy asks the filer for, because its cited text requires it.

    Parameters
    ----------
    id : str
        The key of :attr:`AuditDetails.statements` that answers it.
    asks : str
        What must be stated, in words.
    citation : str
        The text that asks for it.
    sign_off : bool
        The auditor's sign-off (name and date) answers it, e.g. a test report "dated and
        signed by the responsible persons" (EU AI Act, Annex IV point 2(g)).
    """

    id: str
    asks: str
    citation: str
    sign_off: bool = False
