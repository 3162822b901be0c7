"""The rules of dashboard sign-in with OpenID Connect, without I/O: the PKCE challenge, which
emails a tenant's provider may sign in, and what a provider configuration must hold. The
exchange itself (discovery, token endpoint, JWKS) lives in `actors.ingress.oidc_signin`."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from engine.rbac import TENANT_ROLES

# Asymmetric algorithms only: an HS256 ID token would be signed with the client secret, which the
# tenant's admin knows, so it proves nothing about the provider.
ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def pkce_challenge(verifier: str) -> str:
    """The S256 `code_challenge` of a `code_verifier` (RFC 7636 §4.2): base64url(sha256), unpadded."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def email_domain(email: str) -> str:
    """The part after the last `@`, lower case ('' when there is none)."""
    local, at, domain = email.strip().lower().rpartition("@")
    return domain if at and local else ""


def domain_allowed(email: str, allowed: Iterable[str]) -> bool:
    """Whether the email's domain is exactly one of `allowed` (no subdomain matching: a tenant
    that wants `eu.studio.example` lists it)."""
    domain = email_domain(email)
    return bool(domain) and domain in {d.lower() for d in allowed}


def config_problems(issuer: str, domains: Iterable[str], role: str, projects: Iterable[str]) -> list[tuple[str, str]]:
    """(field, message) for each thing wrong with a provider configuration; empty when it is usable."""
    problems: list[tuple[str, str]] = []
    parts = urlsplit(issuer)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        problems.append(("issuer", "must be an http(s) URL without query or fragment"))
    if parts.username or parts.password:
        problems.append(("issuer", "must not carry credentials"))
    listed = list(domains)
    if not listed:
        problems.append(("allowedDomains", "list at least one email domain"))
    problems += [("allowedDomains", f"not a domain name: {d!r}") for d in listed if not DOMAIN.match(d.lower())]
    if role not in TENANT_ROLES:
        problems.append(("role", f"one of {', '.join(TENANT_ROLES)}"))
    if not list(projects):
        problems.append(("projects", "at least one project id, or '*'"))
    return problems
