"""A labeled Faker table at a fixed seed, and two deliveries of it: one masked as the
example policy asks, one with the usual mistakes."""

import hashlib
import hmac
from pathlib import Path

import pandas as pd
import pytest

from audit.auditors.masking.synthetic import labeled_table

POLICY = Path(__file__).parents[3] / "examples" / "masking-policy.yaml"
KEY = b"a secret key the auditor never sees"


@pytest.fixture(scope="session")
def labeled():
    return labeled_table(rows=800, seed=1234)


@pytest.fixture(scope="session")
def compliant(labeled):
    """E-mails HMAC'd, SSNs dropped, cards masked to the last 4, zip to 1 digit, birth
    year to the decade, then rows of classes smaller than 5 suppressed (k-anonymisation)."""
    raw = labeled.data
    out = pd.DataFrame(
        {
            "email": [hmac.new(KEY, e.encode(), "sha256").hexdigest() for e in raw["email"]],
            "card_number": ["*" * (len(c) - 4) + c[-4:] for c in raw["card_number"]],
            "zip": [z[:1] + "**" for z in raw["zip"]],
            "birth_year": (raw["birth_year"] // 10 * 10).astype(str),
            "sex": raw["sex"],
            "amount": raw["amount"],
            "order_id": raw["order_id"],
            "product_code": raw["product_code"],
        }
    )
    sizes = out.groupby(["zip", "birth_year", "sex"])["sex"].transform("size")
    return out[sizes >= 5].reset_index(drop=True)


@pytest.fixture(scope="session")
def leaky(labeled):
    """The usual mistakes: unsalted SHA-256 e-mails, SSNs left in, cards keeping 10 digits,
    raw zip codes, names and free text left as they were."""
    raw = labeled.data
    out = raw.copy()
    out["email"] = [hashlib.sha256(e.encode()).hexdigest() for e in raw["email"]]
    out["card_number"] = [c[:6] + "*" * (len(c) - 10) + c[-4:] for c in raw["card_number"]]
    # one e-mail also left in the notes, which unmasks its hash
    out.loc[0, "notes"] = f"Forwarded to {raw.loc[0, 'email']} by mistake."
    return out


@pytest.fixture(scope="session")
def policy_path():
    return POLICY
