"""Every form a credential may come back in is redacted, by one function."""

from __future__ import annotations

import base64

import pytest

from audit.core.secrets import MASK, redact, register_secret, secret_forms


@pytest.mark.parametrize(
    ("value", "forms"),
    [
        ("Bearer sk-live-abc123", ["Bearer sk-live-abc123", "sk-live-abc123"]),
        ("token  tk-9f8e7d ", ["token  tk-9f8e7d", "tk-9f8e7d"]),
        ("sk-no-scheme-0011", ["sk-no-scheme-0011"]),
        (
            "Basic " + base64.b64encode(b"ann:pw-7788").decode(),
            ["Basic YW5uOnB3LTc3ODg=", "YW5uOnB3LTc3ODg=", "ann:pw-7788", "pw-7788"],
        ),
        ("Basic not-base64!", ["Basic not-base64!", "not-base64!"]),
    ],
)
def test_secret_forms(value, forms):
    assert secret_forms(value) == forms


def test_short_forms_are_not_redacted_alone():
    # A one-letter password would turn every 'a' of a message into stars.
    assert secret_forms("Basic " + base64.b64encode(b"ann:a").decode()) == [
        "Basic YW5uOmE=",
        "YW5uOmE=",
        "ann:a",
    ]


def test_redact_removes_registered_and_extra_secrets():
    register_secret("Bearer reg-5e6f7a8b9c")
    text = "Incorrect API key provided: reg-5e6f7a8b9c; also Bearer xtra-1234abcd"
    assert redact(text, ["Bearer xtra-1234abcd"]) == (
        f"Incorrect API key provided: {MASK}; also {MASK}"
    )
    assert redact("nothing secret here") == "nothing secret here"
