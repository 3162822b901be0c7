"""The pure rules of OIDC sign-in: the PKCE challenge, email domains, configuration checks."""

from __future__ import annotations

import base64
import hashlib
import string

from hypothesis import given
from hypothesis import strategies as st

from engine.oidc import config_problems, domain_allowed, email_domain, pkce_challenge

VERIFIER_CHARS = string.ascii_letters + string.digits + "-._~"


@given(st.text(alphabet=VERIFIER_CHARS, min_size=43, max_size=128))
def test_the_challenge_is_unpadded_base64url_of_the_sha256(verifier: str) -> None:
    """RFC 7636 §4.2; the real provider of tests/routes/test_oidc_signin.py checks it end to end."""
    challenge = pkce_challenge(verifier)
    assert len(challenge) == 43 and "=" not in challenge and "+" not in challenge and "/" not in challenge
    assert base64.urlsafe_b64decode(challenge + "=") == hashlib.sha256(verifier.encode()).digest()


def test_domains_match_exactly_and_case_insensitively() -> None:
    assert domain_allowed("Ada@Studio.Example", ["studio.example"])
    assert not domain_allowed("ada@eu.studio.example", ["studio.example"])
    assert not domain_allowed("ada@studio.example.evil", ["studio.example"])
    assert not domain_allowed("studio.example", ["studio.example"])
    assert not domain_allowed("@studio.example", ["studio.example"])
    assert email_domain("a@b@studio.example") == "studio.example"


@given(st.emails())
def test_an_email_is_allowed_exactly_when_its_domain_is_listed(email: str) -> None:
    domain = email.rpartition("@")[2].lower()
    assert domain_allowed(email, [domain.upper()])
    assert not domain_allowed(email, ["x" + domain])


def test_a_configuration_names_every_field_at_fault() -> None:
    assert config_problems("https://login.studio.example", ["studio.example"], "analyst", ["*"]) == []
    found = config_problems("ftp://u:p@idp?x=1", ["not a domain"], "king", [])
    assert {field for field, _ in found} == {"issuer", "allowedDomains", "role", "projects"}
    assert config_problems("https://idp.example", [], "owner", ["*"]) == [
        ("allowedDomains", "list at least one email domain")
    ]
