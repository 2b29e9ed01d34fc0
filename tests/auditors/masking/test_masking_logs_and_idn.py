"""What real server logs, e-mail footers and config files hold, cell by cell.

IPv4-mapped and embedded IPv6 addresses (Node.js logs ``::ffff:10.0.0.1``), zone ids,
e-mail addresses under non-ASCII top-level domains, four-part version strings and
mistyped IBANs whose digits hold ``0044``.  IPv6 syntax is checked against Python's
``ipaddress`` module, not against the validator's own grammar.
"""

from __future__ import annotations

import ipaddress
import random

import pandas as pd
import pytest

from audit.auditors.masking.patterns import recognizers_for
from audit.auditors.masking.scanner import scan_column
from audit.auditors.masking.validators import ip_address


def _found(cells: list[str], entity: str) -> dict[int, str]:
    """Row -> first match of ``entity`` in a free-text column of ``cells``."""
    scan = scan_column("message", pd.Series(cells), recognizers_for([entity]), max_chars=999)
    hits = scan.hits.get(entity)
    if hits is None:
        return {}
    return dict(zip(hits.rows.tolist(), hits.texts.to_pylist(), strict=True))


RFC_ADDRESSES = [
    # RFC 4291 section 2.2, forms 1 to 3, and its examples
    "ABCD:EF01:2345:6789:ABCD:EF01:2345:6789",
    "2001:DB8:0:0:8:800:200C:417A",
    "2001:DB8::8:800:200C:417A",
    "FF01::101",
    "::1",
    "0:0:0:0:0:0:13.1.68.3",
    "0:0:0:0:0:FFFF:129.144.52.38",
    "::13.1.68.3",
    "::FFFF:129.144.52.38",
    # section 2.5.5: IPv4-compatible and IPv4-mapped, as servers print them
    "::ffff:127.0.0.1",
    "::ffff:192.168.1.10",
    "::ffff:c0a8:101",
    "0:0:0:0:0:ffff:192.0.2.1",
    # RFC 6052 NAT64, RFC 4007 zone ids
    "64:ff9b::192.0.2.33",
    "fe80::1%eth0",
    "fe80::a00:27ff:fe4e:66a1%en0",
]


def _variants(rng: random.Random) -> list[str]:
    """Addresses in every written form, and near misses, for the reference to judge."""
    out = []
    for _ in range(400):
        value = ipaddress.IPv6Address(rng.getrandbits(128) & ~(0xFFFF << (16 * rng.randrange(8))))
        out += [value.compressed, value.exploded, str(value).upper()]
        tail = ipaddress.IPv4Address(rng.getrandbits(32))
        out.append(f"{value.exploded.rsplit(':', 2)[0]}:{tail}")
        out.append(f"::ffff:{tail}")
        out.append(f"{value.compressed}%eth{rng.randrange(3)}")
        broken = list(value.compressed)
        broken[rng.randrange(len(broken))] = rng.choice(":g.1%")
        out.append("".join(broken))
        out.append(value.compressed + ":" + rng.choice(["1", "::1", "abcd1", "1.2.3.4"]))
    return out


def _reference(text: str) -> bool:
    """Python's parser: an IPv6 address (zone id allowed) with a decimal digit."""
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return any(c.isdigit() for c in text)


def test_the_ipv6_validator_agrees_with_python_ipaddress():
    texts = RFC_ADDRESSES + _variants(random.Random(4291))
    texts += [":::3000", "1::2::3", "::ffff:256.1.1.1", "::ffff:01.2.3.4", "1:2:3:4:5:6:7:8:9"]
    got = ip_address(texts).tolist()
    wrong = [t for t, g in zip(texts, got, strict=True) if g != _reference(t)]
    assert not wrong
    assert sum(got) > len(texts) // 2


@pytest.mark.parametrize("address", RFC_ADDRESSES)
def test_every_ipv6_form_is_found_whole_in_a_log_line(address):
    cells = [
        f"POST /api/login 401 12.345 ms - 38 from {address}",
        f"Accepted connection from [{address}]:40122",
    ]
    assert _found(cells, "IP_ADDRESS") == {0: address, 1: address}


@pytest.mark.parametrize(
    "cell",
    [
        "Server listening on http://localhost:3000 (:::3000)",
        "listen tcp [::]:8080: bind: address already in use",
        "thread panicked at std::collections::HashMap::insert",
        "mac=00:1A:2B:3C:4D:5E vlan=120",
    ],
)
def test_the_unspecified_address_with_a_port_and_code_paths_are_not_addresses(cell):
    assert _found([cell], "IP_ADDRESS") == {}


@pytest.mark.parametrize(
    "address",
    [
        "sales@пример.рф",
        "service@例子.中国",
        "support@магазин.рус",
        "info@bücher.de",
        "info@xn--e1afmkfd.xn--p1ai",
    ],
)
def test_addresses_under_non_ascii_and_punycode_domains_are_found_whole(address):
    cells = [f"С уважением | {address} | +7 495 123-45-67", f"Mail: {address}, danke", address]
    assert _found(cells, "EMAIL_ADDRESS") == {0: address, 1: address, 2: address}


def test_chinese_text_around_an_ascii_address_is_not_taken_in():
    assert _found(["联系我们：admin@example.com谢谢"], "EMAIL_ADDRESS") == {0: "admin@example.com"}


def test_a_mistyped_iban_holding_0044_is_not_a_phone_number():
    cells = [
        "IBAN DE89 3704 0044 0532 0130 01 (is that right? bank says invalid)",
        "Bankverbindung: DE12 5001 0517 0044 8899 11 (bitte prüfen)",
        "Tel. 0044 20 7946 0958 (UK office)",
        "Fax: 0049 30 1234567",
        "call 020 7946 0958 after 3pm",
    ]
    assert _found(cells, "PHONE_NUMBER") == {
        2: "0044 20 7946 0958",
        3: "0049 30 1234567",
        4: "020 7946 0958",
    }


def test_a_version_word_right_before_four_octets_says_they_are_a_version():
    cells = [
        "datadog-agent version 7.50.3.1 starting",
        'version = "1.0.0.0"',
        "<version>2.4.1.7</version>",
        '[assembly: AssemblyFileVersion("1.2.0.0")]',
        '  "version": "4.8.0.1",',
        "Installed firmware 3.10.2.7 on switch sw-core-1",
        "deploy: version 1.2.3.4 -> 1.2.4.0 rolled out",
    ]
    assert _found(cells, "IP_ADDRESS") == {}


def test_addresses_next_to_version_words_in_logs_are_still_found():
    cells = [
        "Accepted publickey for deploy from 10.0.0.1 port 51234 ssh2",
        'level=info msg="request" client=10.0.0.1 method=GET',
        "snmpd: version 2c request from 192.0.2.44",
        "server 10.0.0.5 reports version 2.1",
        "DHCPRELEASE 192.168.1.50 00:1a:2b:3c:4d:5e",
        "version=7.1 src=10.0.0.1",
        "upgraded to version 2.0.1.3 by 10.0.0.9",
    ]
    assert _found(cells, "IP_ADDRESS") == {
        0: "10.0.0.1",
        1: "10.0.0.1",
        2: "192.0.2.44",
        3: "10.0.0.5",
        4: "192.168.1.50",
        5: "10.0.0.1",
        6: "10.0.0.9",
    }
