"""What the person filing an audit states about it: the data's origin and the auditor's sign-off.

These are statements, not measurements: maas-audit records them as given and prints
them in the report.  NYC Local Law 144 asks the published summary of a bias audit for
the source and dates of the data and for the independent auditor (6 RCNY §§ 5-300,
5-301, 5-303); :class:`SignOff` carries the auditor's name, organisation, the date and
the independence statement.

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
from dataclasses import dataclass

from audit.errors import UsageError

__all__ = ["AuditDetails", "SignOff"]

ERR_EMPTY_NAME = "the sign-off needs the auditor's name"
ERR_DATE = "the sign-off date must be a date as YYYY-MM-DD; got {date!r}"


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
    """

    data_description: str = ""
    data_dates: str = ""
    sign_off: SignOff | None = None
