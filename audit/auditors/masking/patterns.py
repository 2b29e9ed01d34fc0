"""The recognizers: one RE2 pattern per way an entity is written, with its validator and score.

Modelled on Presidio's pattern recognizers (each hit says which recognizer, which
pattern and which score), but run over whole columns.  Person names have no NER model
here; the stated fallback finds them (a) in every cell of a column whose *name* says it
holds names (``name``, ``first_name``, ``surname``, ...), and (b) in free text after a
title (``Mr``, ``Dr``, ...) or a phrase such as ``my name is`` / ``Name:``.  Postal codes
are likewise found only with context (a US state before a ZIP code, ``zip``/``postcode``
before it, a ZIP+4, a UK postcode) or in a column named for them, because a bare
five-digit number is not evidence of a postcode.

>>> [r.name for r in RECOGNIZERS if r.entity == "US_SSN"]
['us_ssn', 'us_ssn_column']
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from audit.auditors.masking.config import CustomPattern
from audit.auditors.masking.entities import Entity

__all__ = ["NAME_COLUMNS", "RECOGNIZERS", "Recognizer", "recognizers_for"]

_STATES = (
    "A[LKZR]|C[AOT]|D[EC]|FL|GA|HI|I[ADLN]|K[SY]|LA|M[ADEINOST]|N[CDEHJMVY]|O[HKR]|PA|RI|"
    "S[CD]|T[NX]|UT|V[AT]|W[AIVY]|AS|FM|GU|MH|MP|PR|PW|VI|A[AEP]"
)
_EXTENSION = r"(?:\s?(?:x|ext\.?)\s?\d{1,5})?"
_IBAN_HEAD = r"(?:\b[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{4})* ?)?"
"""The country code, check digits and groups of an IBAN before a group that starts with
zeros: a phone pattern takes them in, and its validator refuses a number that starts so."""
_VERSION_BEFORE = (
    r"(?i:version|\bver\.?|\bfirmware)[\s\"'=:(>]{1,4}"
    r"(?:\d{1,3}(?:\.\d{1,3}){3,}\s*(?:->|=>|(?i:to))\s*)?"
)
"""A version word right before four dotted numbers, with a first version before ``->`` or
``to``: ``version 1.0.0.0``, ``"version": "4.8.0.1"``, ``<version>2.4.1.7``,
``AssemblyFileVersion("1.2.0.0")``, ``firmware 3.10.2.7``, ``version 1.2.3.4 -> 1.2.4.0``.
Only right before: ``snmpd: version 2c request from 192.0.2.44`` is an address.  Not
``release`` (``DHCPRELEASE 192.168.1.50``) nor ``build`` nor a bare ``agent``."""
_HEX = r"[0-9A-Fa-f]{1,4}"
_DOTTED = r"(?:(?:\.\d{1,3}){3})"
"""The last three numbers of an IPv4 address embedded in an IPv6 one, after its first (a
group of its own, so that ``?`` after it makes it optional, not ``{3}`` lazy)."""
_V6_HEAD = rf"(?:[0-9A-Fa-f:]*::(?:{_HEX}:)*|\b(?:{_HEX}:){{6}})"
"""What comes before the IPv4 address embedded in an IPv6 one (``::ffff:``, ``64:ff9b::``,
``0:0:0:0:0:ffff:``)."""
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November"
    r"|December)"
)
_DATE = (
    r"(?:(?:19|20)\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
    r"|(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01])/(?:19|20)\d{2}"
    r"|(?:0?[1-9]|[12]\d|3[01])\.(?:0?[1-9]|1[0-2])\.(?:19|20)\d{2}"
    rf"|{_MONTH} \d{{1,2}}, (?:19|20)\d{{2}}"
    rf"|(?:0?[1-9]|[12]\d|3[01]) {_MONTH} (?:19|20)\d{{2}})"
)
_DOB_CONTEXT = (
    r"(?i:(?:born(?: on)?|d\.?o\.?b\.?|date of birth|birth ?date|birthday)"
    r"[\"']?\s*(?:[:=-]|is|was)?\s*[\"']?)"
)
"""What introduces a date of birth: ``DOB: ``, ``born on ``, ``dob is ``, ``date of birth -``,
and the key of a JSON or key=value pair (``"dob": "``, ``dob=``)."""
_NAME_WORD = r"[A-Z][a-z'\x{2019}-]+"
_LETTERS = "\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u0370-\u03ff\u0400-\u04ff"
"""Accented Latin, Greek and Cyrillic letters, written as the characters themselves (both
RE2 and Python's ``re`` read a literal range; they disagree on ``\\x{...}`` and ``\\p``)."""
_ATEXT = f"[A-Za-z0-9{_LETTERS}!#$%&'+/=?^_`{{|}}~-]"
_LOCAL_PART = f"[A-Za-z0-9{_LETTERS}!#$%&+/=?^_`{{|}}~-]{_ATEXT}*(?:\\.{_ATEXT}+)*"
"""An e-mail's local part as RFC 5322 and RFC 6531 allow it in practice: a dot-atom
(letters, accented too, digits and ``!#$%&'+/=?^_`{|}~-``, dots between atoms), as in
``j.o'neil+billing`` or ``josé.garcía``.  It does not start with an apostrophe, so a
quoted address (``'jane@example.com'``) is found without its quote; quoted local parts
(``"john doe"@example.com``) are not found.  ``*``, which RFC 5322 allows but no mailbox
provider hands out, is left out: it is how exports mask a local part (``j.d***@...``)."""
_IDN_LETTERS = (
    _LETTERS
    + "\u05d0-\u05ea\u0620-\u064a\u0900-\u0963\u0e01-\u0e3a\u3041-\u3096\u30a1-\u30fa\u30fc"
    "\u4e00-\u9fff\uac00-\ud7a3"
)
"""Letters of internationalised domain names: those of :data:`_LETTERS`, then Hebrew,
Arabic, Devanagari, Thai, kana, CJK ideographs and Hangul (letters only, no punctuation
of those scripts).  Not allowed in local parts: Chinese or Japanese text runs into an
address without a space, and would be taken in as its local part."""
_TLD = f"(?:xn--[A-Za-z0-9-]+\\b|[A-Za-z]{{2,24}}\\b|[{_IDN_LETTERS}][{_IDN_LETTERS}]+)"
"""A top-level domain: punycode (``xn--p1ai``, tried first, else ``xn`` alone would match),
ASCII letters, or letters of another script (``рф``, ``中国``).  RE2's ``\\b`` knows only
ASCII word characters, so after a non-ASCII TLD there is none: the letter run is greedy.
Not ``{2,24}`` there: RE2 copies a counted class that often, and extracting a match then
costs twice as much."""
_DOMAIN = f"[A-Za-z0-9{_IDN_LETTERS}-]+(?:\\.[A-Za-z0-9{_IDN_LETTERS}-]+)*\\.{_TLD}"
"""A domain, internationalised ones (``müller-bäckerei.de``, ``пример.рф``) too."""


@dataclass(frozen=True)
class Recognizer:
    """One way of writing one entity.

    Attributes
    ----------
    entity : str
        The entity found, e.g. ``"CREDIT_CARD"``.
    name : str
        The recognizer's name, shown as the explanation of each hit.
    pattern : str
        RE2 pattern of a candidate.
    score : float
        Confidence of a validated hit, in (0, 1].
    validator : str or None
        Name of the check candidates must pass (see :data:`~.validators.VALIDATORS`).
    column_hint : str or None
        RE2 pattern over column *names*: the recognizer runs only on matching columns.
    requires : str or None
        A literal every candidate contains (``"@"``); cells without it are skipped cheaply.
    needs_digit : bool
        Candidates contain a digit; only cells with one are searched.
    """

    entity: str
    name: str
    pattern: str
    score: float
    validator: str | None = None
    column_hint: str | None = None
    requires: str | None = None
    needs_digit: bool = True


NAME_COLUMNS = (
    r"(?i)^(?:(?:first|last|full|given|middle|family|maiden|customer|patient|person|contact"
    r"|applicant|employee)[_ -]?name|name|surname|forename|fname|lname)$"
)
"""Column names that say the column holds person names."""

RECOGNIZERS: tuple[Recognizer, ...] = (
    Recognizer(
        Entity.EMAIL_ADDRESS,
        "email",
        # with the header before a message id (Message-ID: <CAH2x9+Yq1@mail.gmail.com>),
        # which has an address's syntax and which the validator refuses
        r"(?:(?i:message-id|in-reply-to|references):\s*<)?" + _LOCAL_PART + "@" + _DOMAIN,
        1.0,
        validator="email",
        requires="@",
        needs_digit=False,
    ),
    Recognizer(
        Entity.PHONE_NUMBER,
        "phone_international",
        # with the head of an IBAN before a 00 prefix taken in, so that the validator
        # refuses the 0044 inside a mistyped IBAN (DE89 3704 0044 0532 0130 01)
        r"(?:\+|" + _IBAN_HEAD + r"\b00)[1-9]\d{0,2}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}"
        r"(?:[ .-]?\d{2,4}){1,4}" + _EXTENSION + r"\b",
        0.75,
        validator="international_phone",
    ),
    Recognizer(
        Entity.PHONE_NUMBER,
        "phone_national",
        r"(?:\(\d{3}\)\s?|\b\d{3}[ .-])\d{3}[ .-]\d{4}" + _EXTENSION + r"\b",
        0.7,
        validator="phone_digits",
    ),
    Recognizer(
        Entity.PHONE_NUMBER,
        "phone_national_trunk",
        # European national numbers start with the trunk prefix 0, then the area code and
        # a group of at least three digits: 020 7946 0958 (UK), 030/1234567 and (030)
        # 12345678 (DE), 06-12345678 (NL).  A month and day (1985-03-12) has two, so a
        # column of dates gives no candidate; the validator wants 10 to 15 digits.  The
        # head of an IBAN before it is taken in, for the validator to refuse
        r"(?:\(0\d{1,4}\)\s?|"
        + _IBAN_HEAD
        + r"\b0\d{1,4}[ /-])\d{3,8}(?:[ -]\d{2,4}){0,3}"
        + _EXTENSION
        + r"\b",
        0.6,
        validator="national_phone",
    ),
    Recognizer(
        Entity.PHONE_NUMBER,
        "phone_national_pairs",
        # French, in pairs with one separator: 01 23 45 67 89, 06.12.34.56.78
        r"\b0[1-9](?:(?: \d{2}){4}|(?:\.\d{2}){4}|(?:-\d{2}){4})\b",
        0.6,
        validator="national_phone",
    ),
    Recognizer(
        Entity.PHONE_NUMBER,
        "phone_column",
        r"^\s*\+?\d{10,15}\s*$",
        0.5,
        validator="phone_digits",
        column_hint=r"(?i)(?:^|_)(?:phone|mobile|cell|tel|telephone|fax|msisdn)(?:$|_)",
    ),
    Recognizer(
        Entity.US_SSN,
        "us_ssn",
        r"\b(?:\d{3}-\d{2}-\d{4}|\d{3} \d{2} \d{4})\b",
        0.85,
        validator="us_ssn",
    ),
    Recognizer(
        Entity.US_SSN,
        "us_ssn_column",
        r"^\s*\d{9}\s*$",
        0.6,
        validator="us_ssn",
        column_hint=r"(?i)(?:^|_)(?:ssn|social_?security(?:_?number)?)(?:$|_)",
    ),
    Recognizer(
        Entity.CREDIT_CARD,
        "credit_card",
        # what the validator accepts: 13 to 19 digits after a network's first digit (1 to
        # 6), 12 for Maestro (5, 6 or 0604); so "+44 20 7451 2914" is not a candidate
        r"\b(?:[1-4](?:[ -]?\d){11,17}|[56](?:[ -]?\d){10,17}|0[ -]?6[ -]?0[ -]?4(?:[ -]?\d){7,14})"
        r"[ -]?\d\b",
        1.0,
        validator="luhn",
    ),
    Recognizer(
        Entity.IBAN_CODE,
        "iban",
        # as typed, in either case (gb82 west ...): the validator reads it in capitals
        r"\b[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,3})?\b",
        1.0,
        validator="iban_mod97",
    ),
    Recognizer(
        Entity.IP_ADDRESS,
        "ipv4",
        # the whole dotted run (the validator wants four numbers), with what before it
        # says it is not an IPv4 address, so that the validator refuses it: the product
        # name and slash of a user agent (Chrome/120.0.0.0), a version word, and the IPv6
        # head of an embedded address (::ffff:10.0.0.1), which the ipv6 recognizer finds
        r"(?:[A-Za-z][A-Za-z0-9_.-]*/|" + _VERSION_BEFORE + "|" + _V6_HEAD + ")?"
        r"\b\d{1,3}(?:\.\d{1,3}){3,}\b",
        0.8,
        validator="ipv4",
    ),
    Recognizer(
        Entity.IP_ADDRESS,
        "ipv6",
        # starting at a word boundary, so a path in code (Base64::encode, std::vec) offers
        # no candidate from inside a word; ::1, ::ffff:c0a8:101 and ::ffff:10.0.0.1 start
        # with the :: and a digit or ffff (not ::de in serde::de).  An IPv4 address may end
        # it (RFC 4291 section 2.2, form 3), a zone id follow it (fe80::1%eth0, RFC 4007).
        # A third colon before it is taken in, and the validator refuses it: Node.js
        # prints the unspecified address and a port as :::3000
        rf"(?:\b(?:{_HEX}:){{6}}{_HEX}(?::{_HEX}|{_DOTTED})"
        rf"|\b(?:{_HEX}:){{1,6}}:(?:{_HEX}(?::{_HEX}){{0,5}}{_DOTTED}?)?"
        rf"|:?::(?:[Ff]{{4}}|\d[0-9A-Fa-f]{{0,3}})(?::{_HEX}){{0,5}}{_DOTTED}?)"
        rf"(?:%[0-9A-Za-z._~-]+)?",
        0.8,
        validator="ip_address",
        needs_digit=False,
    ),
    Recognizer(
        Entity.DATE_OF_BIRTH,
        "date_of_birth_context",
        _DOB_CONTEXT + _DATE,
        0.85,
        validator="date_of_birth",
    ),
    Recognizer(
        Entity.DATE_OF_BIRTH,
        "date_of_birth_column",
        r"^\s*" + _DATE + r"(?:[ T]00:00(?::00)?)?\s*$",
        0.7,
        validator="date_of_birth",
        column_hint=r"(?i)(?:^|_)(?:dob|birth_?date|date_?of_?birth|birthday|born)(?:$|_)",
    ),
    Recognizer(
        Entity.POSTAL_CODE,
        "us_zip_state",
        rf"\b(?:{_STATES})\s+\d{{5}}(?:-\d{{4}})?\b",
        0.7,
    ),
    Recognizer(
        Entity.POSTAL_CODE,
        "zip_keyword",
        r"(?i:zip(?: ?code)?|postal code|postcode)\s*:?\s*\d{5}(?:-\d{4})?\b",
        0.7,
    ),
    Recognizer(Entity.POSTAL_CODE, "us_zip_plus4", r"\b\d{5}-\d{4}\b", 0.5),
    Recognizer(
        Entity.POSTAL_CODE,
        "uk_postcode",
        r"\b(?:[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?) \d[ABD-HJLNP-UW-Z]{2}\b",
        0.6,
    ),
    Recognizer(
        Entity.POSTAL_CODE,
        "postal_code_column",
        r"^\s*\d{5}(?:-\d{4})?\s*$",
        0.6,
        column_hint=r"(?i)(?:^|_)(?:zip|zipcode|zip_code|postal_?code|postcode|plz)(?:$|_)",
    ),
    Recognizer(
        Entity.PERSON,
        "person_title",
        rf"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.? {_NAME_WORD}(?: {_NAME_WORD})?",
        0.6,
        needs_digit=False,
    ),
    Recognizer(
        Entity.PERSON,
        "person_phrase",
        rf"(?i:my name is|name is|name:|signed,?|regards,|contact person:?)\s+{_NAME_WORD}"
        rf"(?: {_NAME_WORD}){{1,2}}",
        0.6,
        needs_digit=False,
    ),
    Recognizer(
        Entity.PERSON,
        "person_name_column",
        rf"^\s*{_NAME_WORD}(?:[ -]{_NAME_WORD}){{0,3}}\s*$",
        0.5,
        column_hint=NAME_COLUMNS,
        needs_digit=False,
    ),
)
"""The built-in recognizers."""


def recognizers_for(
    entities: Iterable[str] | None, custom: Iterable[CustomPattern] = ()
) -> tuple[Recognizer, ...]:
    """The built-in recognizers of ``entities`` (all when ``None``) plus the custom patterns."""
    wanted = None if entities is None else set(entities)
    chosen = [r for r in RECOGNIZERS if wanted is None or r.entity in wanted]
    chosen += [
        Recognizer(p.name, f"custom:{p.name.lower()}", p.regex, p.score, needs_digit=False)
        for p in custom
    ]
    return tuple(chosen)
