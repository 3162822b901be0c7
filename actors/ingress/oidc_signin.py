"""Dashboard sign-in through a tenant's OpenID Connect provider: the authorization code flow
with PKCE (S256), `state` and `nonce` (OpenID Connect Core §3.1).

- `start` keeps a pending sign-in (`oidc_states/<sha256(state)>`: tenant, sealed code verifier,
  nonce, the browser binding's hash, 10 minutes) and answers the provider's authorization URL,
  its endpoint discovered from `{issuer}/.well-known/openid-configuration`.
- `finish` spends the state by compare-and-set (a replay, an unknown state, or one started in
  another browser is refused), exchanges the code, verifies the ID token (signature by the
  provider's JWKS, asymmetric algorithms only, `iss`, `aud`, `azp`, `exp`, `iat`, `nonce`), reads
  the email (from the ID token, else the UserInfo endpoint with `sub` checked), requires
  `email_verified` and an allowed domain, maps the person to a member of the tenant and answers
  a one-time ticket (`oidc_tickets`, 60 s, same browser binding) that `redeem` exchanges for the
  session's tokens.

Every call to the provider goes through `actors.pinned_target`, as webhooks do: the issuer is
the tenant's input, so the server must not be made to probe the private network."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from actors.clock import Clock, SystemClock
from actors.documents import update_document
from actors.ingress.accounts import AccountService
from actors.ingress.oidc_providers import OidcProviders
from actors.pinned_target import TargetRefusedError, outgoing_client, pin
from actors.stores.base import DocumentStore
from engine.domain_error import NamedError
from engine.oidc import ID_TOKEN_ALGORITHMS, domain_allowed, pkce_challenge
from engine.rules import rfc3339

STATES, TICKETS = "oidc_states", "oidc_tickets"
STATE_TTL_S = 600
TICKET_TTL_S = 60
CLOCK_SKEW_S = 60
HTTP_TIMEOUT_S = 10.0
MAX_RESPONSE_BYTES = 256 * 1024
SWEEP_EVERY_S = 600
SWEEP_SCAN = 1000


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


class OidcSignIn:
    def __init__(
        self, store: DocumentStore, providers: OidcProviders, accounts: AccountService, clock: Clock | None = None
    ) -> None:
        self.store = store
        self.providers = providers
        self.accounts = accounts
        self.clock: Clock = clock or SystemClock()
        self._swept_at: datetime | None = None

    def _now(self) -> datetime:
        now: datetime = self.clock.now()
        return now

    # -- the provider, over pinned HTTP ------------------------------------------------------

    async def _call(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        """One JSON call to the provider; any failure is 502 `oidc-provider-error`."""
        try:
            target = await pin(url, allow_private=self.providers.allow_private)
            async with outgoing_client(HTTP_TIMEOUT_S) as client:
                headers = {**target.headers, "accept": "application/json", **kwargs.pop("headers", {})}
                response = await client.request(
                    method, target.url, headers=headers, extensions=target.extensions, **kwargs
                )
        except (TargetRefusedError, httpx.HTTPError) as failure:
            raise NamedError(
                "oidc-provider-error", f"the identity provider could not be reached: {failure}"
            ) from failure
        if len(response.content) > MAX_RESPONSE_BYTES:
            raise NamedError("oidc-provider-error", "the identity provider's answer is too large")
        try:
            body = response.json()
        except ValueError as failure:
            raise NamedError(
                "oidc-provider-error", f"the identity provider answered {response.status_code}, not JSON"
            ) from failure
        if response.status_code != 200 or not isinstance(body, dict):
            error = body.get("error") if isinstance(body, dict) else None
            raise NamedError(
                "oidc-provider-error",
                f"the identity provider answered {response.status_code} ({error or 'no error code'})",
            )
        return body

    async def _discover(self, issuer: str) -> dict[str, Any]:
        metadata = await self._call("GET", f"{issuer}/.well-known/openid-configuration")
        if str(metadata.get("issuer", "")).rstrip("/") != issuer:
            raise NamedError("oidc-provider-error", "the discovery document names another issuer")
        for needed in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(metadata.get(needed), str):
                raise NamedError("oidc-provider-error", f"the discovery document has no {needed}")
        return metadata

    async def _provider(self, tenant_id: str) -> dict[str, Any]:
        provider = await self.providers.get(tenant_id)
        if provider is None or not provider.get("enabled"):
            raise NamedError("oidc-not-configured", f"tenant '{tenant_id}' has no OIDC sign-in")
        return provider

    # -- the flow ----------------------------------------------------------------------------

    async def start(self, tenant_id: str, redirect_uri: str, binding: str) -> str:
        """The provider's authorization URL for a new sign-in into `tenant_id`; `binding` is the
        browser's secret (a cookie) that the callback must present again."""
        provider = await self._provider(tenant_id)
        metadata = await self._discover(provider["issuer"])
        now = self._now()
        if self._swept_at is None or (now - self._swept_at).total_seconds() >= SWEEP_EVERY_S:
            self._swept_at = now
            await self.sweep()
        state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48)
        await self.store.put_document(
            STATES,
            digest(state),
            {
                "id": digest(state),
                "tenantId": tenant_id,
                "issuer": provider["issuer"],
                "verifier": self.providers.box.seal(verifier),
                "nonce": nonce,
                "binding": digest(binding),
                "redirectUri": redirect_uri,
                "createdAt": rfc3339(now),
                "expiresAt": rfc3339(now + timedelta(seconds=STATE_TTL_S)),
                "usedAt": None,
            },
        )
        query = {
            "response_type": "code",
            "client_id": provider["clientId"],
            "redirect_uri": redirect_uri,
            "scope": "openid email",
            "state": state,
            "nonce": nonce,
            "code_challenge": pkce_challenge(verifier),
            "code_challenge_method": "S256",
        }
        endpoint = str(metadata["authorization_endpoint"])
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(query)}"

    async def sweep(self) -> int:
        """Deletes the states and tickets of abandoned sign-ins once expired (each replica every
        `SWEEP_EVERY_S`, from `start`, reading at most `SWEEP_SCAN` of each); answers how many."""
        now, removed = self._now(), 0
        for kind in (STATES, TICKETS):
            found = await self.store.list_documents(kind, limit=SWEEP_SCAN)
            expired = [d["id"] for d in found if _parse(d["expiresAt"]) <= now]
            removed += await self.store.delete_documents(kind, expired) if expired else 0
        return removed

    async def _spend(self, kind: str, secret: str, binding: str | None, what: str) -> dict[str, Any]:
        """The pending document of `secret`, marked used in one compare-and-set (then removed):
        of two callbacks with one state, exactly one proceeds."""
        now = self._now()

        def spend(current: dict[str, Any] | None) -> dict[str, Any]:
            if current is None or current.get("usedAt"):
                raise NamedError("invalid-oidc-state", f"unknown or already used {what}")
            return {**current, "usedAt": rfc3339(now)}

        document = await update_document(self.store, kind, digest(secret), spend)
        assert document is not None
        await self.store.delete_documents(kind, [document["id"]])
        if _parse(document["expiresAt"]) <= now:
            raise NamedError("invalid-oidc-state", f"the {what} has expired; sign in again")
        if binding is None or not secrets.compare_digest(document["binding"], digest(binding)):
            raise NamedError("invalid-oidc-state", f"the {what} was started in another browser")
        return document

    async def discard(self, state: str, binding: str | None) -> None:
        """Spends a state the provider answered with an error (refused like any other when it
        is unknown, used or foreign)."""
        await self._spend(STATES, state, binding, "sign-in state")

    async def finish(self, state: str, code: str, binding: str | None) -> str:
        """Completes a sign-in: answers the one-time ticket for `redeem`."""
        pending = await self._spend(STATES, state, binding, "sign-in state")
        tenant_id = pending["tenantId"]
        provider = await self._provider(tenant_id)
        if provider["issuer"] != pending["issuer"]:
            raise NamedError("invalid-oidc-state", "the tenant's provider changed during the sign-in; sign in again")
        metadata = await self._discover(provider["issuer"])
        tokens = await self._call(
            "POST",
            str(metadata["token_endpoint"]),
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": pending["redirectUri"],
                "code_verifier": self.providers.box.open(pending["verifier"]),
            },
            auth=(provider["clientId"], self.providers.client_secret(provider)),
        )
        claims = await self._verify_id_token(tokens, metadata, provider, pending["nonce"])
        email = await self._email(claims, tokens, metadata)
        if not domain_allowed(email, provider["allowedDomains"]):
            raise NamedError("oidc-email-refused", "this email's domain may not sign in to this tenant")
        user = await self._member(email, tenant_id, provider, str(claims["sub"]))
        ticket = f"oit_{secrets.token_urlsafe(32)}"
        now = self._now()
        await self.store.put_document(
            TICKETS,
            digest(ticket),
            {
                "id": digest(ticket),
                "userId": user["id"],
                "tenantId": tenant_id,
                "binding": pending["binding"],
                "expiresAt": rfc3339(now + timedelta(seconds=TICKET_TTL_S)),
                "usedAt": None,
            },
        )
        return ticket

    async def redeem(self, ticket: str, binding: str | None) -> dict[str, Any]:
        """The session's tokens for a ticket of `finish`, once, in the browser that signed in."""
        document = await self._spend(TICKETS, ticket, binding, "sign-in ticket")
        return await self.accounts.sign_in_federated(document["userId"], document["tenantId"])

    # -- the ID token and the person ---------------------------------------------------------

    async def _verify_id_token(
        self, tokens: dict[str, Any], metadata: dict[str, Any], provider: dict[str, Any], nonce: str
    ) -> dict[str, Any]:
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise NamedError("invalid-id-token", "the provider answered no ID token")
        jwks = await self._call("GET", str(metadata["jwks_uri"]))
        try:
            header = jwt.get_unverified_header(id_token)
            if header.get("alg") not in ID_TOKEN_ALGORITHMS:
                raise NamedError("invalid-id-token", f"ID tokens signed with {header.get('alg')!r} are refused")
            keys = [k for k in jwt.PyJWKSet.from_dict(jwks).keys if header.get("kid") in (None, k.key_id)]
            if not keys:
                raise NamedError("invalid-id-token", "no key of the provider's JWKS matches the ID token")
            claims: dict[str, Any] = jwt.decode(
                id_token,
                keys[0],
                algorithms=[str(header["alg"])],
                audience=provider["clientId"],
                issuer=provider["issuer"],
                leeway=CLOCK_SKEW_S,
                options={"require": ["iss", "sub", "aud", "exp", "iat"], "verify_exp": False, "verify_iat": False},
            )
        except (jwt.PyJWTError, ValueError, KeyError) as failure:
            raise NamedError("invalid-id-token", f"the ID token is not valid: {failure}") from failure
        now = self._now().timestamp()
        if not isinstance(claims["exp"], int | float) or claims["exp"] + CLOCK_SKEW_S <= now:
            raise NamedError("invalid-id-token", "the ID token has expired")
        if not isinstance(claims["iat"], int | float) or claims["iat"] - CLOCK_SKEW_S > now:
            raise NamedError("invalid-id-token", "the ID token was issued in the future")
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != provider["clientId"]:
            raise NamedError("invalid-id-token", "the ID token was issued to another party (azp)")
        if not isinstance(claims.get("nonce"), str) or not secrets.compare_digest(claims["nonce"], nonce):
            raise NamedError("invalid-id-token", "the ID token's nonce is not this sign-in's")
        return claims

    async def _email(self, claims: dict[str, Any], tokens: dict[str, Any], metadata: dict[str, Any]) -> str:
        """The verified email: from the ID token, else from UserInfo (whose `sub` must match)."""
        source = claims
        if "email" not in claims and isinstance(metadata.get("userinfo_endpoint"), str):
            access = tokens.get("access_token")
            if not isinstance(access, str):
                raise NamedError("invalid-id-token", "the provider gave no email and no access token for UserInfo")
            source = await self._call(
                "GET", str(metadata["userinfo_endpoint"]), headers={"authorization": f"Bearer {access}"}
            )
            if source.get("sub") != claims["sub"]:
                raise NamedError("invalid-id-token", "UserInfo describes another subject than the ID token")
        email = source.get("email")
        if not isinstance(email, str) or "@" not in email:
            raise NamedError("oidc-email-refused", "the provider did not share an email (scope `email`)")
        if source.get("email_verified") is not True:
            raise NamedError("oidc-email-refused", "the provider has not verified this email")
        return email.strip().lower()

    async def _member(self, email: str, tenant_id: str, provider: dict[str, Any], subject: str) -> dict[str, Any]:
        """The dashboard user of `email` as a member of the tenant: created on first sign-in
        (with an unusable random password) with the provider's role, or an existing user given
        that role here if they had none. Linked to (tenant, issuer, sub): a later sign-in with
        the same email but another subject (a reassigned address) is refused."""
        user = await self.accounts.find_user_by_email(email)
        if user is None:
            membership = {"tenantId": tenant_id, "role": provider["role"], "projects": provider["projects"]}
            user = await self.accounts.create_user(email, secrets.token_urlsafe(48), memberships=[membership])
        if user.get("platformRole"):
            raise NamedError("oidc-email-refused", "platform staff sign in with their password and 2FA, not OIDC")
        if user.get("disabled"):
            raise NamedError("invalid-credentials", "this dashboard user is disabled")
        link = {"tenantId": tenant_id, "issuer": provider["issuer"], "sub": subject}
        linked = [
            entry
            for entry in user.get("oidcLinks", [])
            if entry["tenantId"] == tenant_id and entry["issuer"] == provider["issuer"]
        ]
        if linked and linked[0]["sub"] != subject:
            raise NamedError("oidc-email-refused", "this email belongs to another identity at the provider")
        if not any(m["tenantId"] == tenant_id for m in user.get("memberships", [])):
            membership = {"tenantId": tenant_id, "role": provider["role"], "projects": provider["projects"]}
            user = await self.accounts.set_membership(user["id"], membership)
        if not linked:
            user = await self.accounts.link_identity(user["id"], link)
        return user


def problem_detail(error: str, description: str | None) -> str:
    """The detail of the problem answered when the provider redirects back with an error."""
    return f"the identity provider refused the sign-in: {error}" + (f" ({description[:200]})" if description else "")
