"""The kinds of personal data (entities) the masking auditor detects, named as in Presidio."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Entity"]


class Entity(StrEnum):
    """A built-in kind of personal data; custom patterns add their own names."""

    EMAIL_ADDRESS = "EMAIL_ADDRESS"
    PHONE_NUMBER = "PHONE_NUMBER"
    US_SSN = "US_SSN"
    CREDIT_CARD = "CREDIT_CARD"
    IBAN_CODE = "IBAN_CODE"
    IP_ADDRESS = "IP_ADDRESS"
    DATE_OF_BIRTH = "DATE_OF_BIRTH"
    POSTAL_CODE = "POSTAL_CODE"
    PERSON = "PERSON"
