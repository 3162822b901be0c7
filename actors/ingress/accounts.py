"""Dashboard accounts: users, passwords, sessions and TOTP, kept as documents in the same store
as the control plane, so every ingress replica sees a logout, a lockout or a revoked session on
its next lookup.

- Passwords are argon2id hashes (argon2-cffi); plaintext is never stored.
- Access tokens are short-lived HS256 JWTs carrying `Principal.to_claims()` and the session
  (`sid`, the refresh-token family). Verifying one also checks that the session is not revoked
  and the user still exists and is enabled, so a logout takes effect at once.
- Refresh tokens are opaque, stored as sha256 hashes, and rotate on every use; presenting a used
  one again is taken as theft and revokes the whole family (every session token derived from
  the same login).
- Failed logins back off: after 5 consecutive failures the account is locked for 2^(n-5)
  seconds, at most 15 minutes. Each attempt is counted (compare-and-set, on any replica) before
  its password is checked, and only a success takes the count back to zero, so however many
  guesses arrive at once no more than 5 are ever checked before the lock, then one per lock.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import math
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, ClassVar

import jwt
import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from actors.clock import Clock, SystemClock
from actors.documents import update_document
from actors.secret_box import SecretBox, is_sealed
from actors.stores.base import DocumentStore
from config.settings import Settings
from engine.domain_error import DomainError
from engine.rbac import PLATFORM_ROLES, TENANT_ROLES, Membership, Principal
from engine.rules import rfc3339

USERS, USER_EMAILS, SECRETS = "users", "user_emails", "secrets"
REFRESH_TOKENS, TOKEN_FAMILIES = "refresh_tokens", "token_families"
SIGNING_KEY_ID = "auth-signing-key"

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
LOCK_AFTER_FAILURES = 5
MAX_LOCK_S = 15 * 60
ACCESS_TTL_S = 15 * 60
REFRESH_TTL_S = 30 * 24 * 3600
TOTP_DIGITS = 6
ALGORITHM = "HS256"


class AccountError(DomainError):
    """A refusal of the account service; each subclass names its problem type."""

    slug: ClassVar[str] = "invalid-credentials"
    default_detail: ClassVar[str] = "the request was refused"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or self.default_detail)

    @property
    def detail(self) -> str:
        return str(self.args[0])


class InvalidCredentialsError(AccountError):
    slug, default_detail = "invalid-credentials", "the email or password is wrong"


class LoginThrottledError(AccountError):
    slug = "login-throttled"

    def __init__(self, retry_after_s: int) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(f"too many failed logins; retry in {retry_after_s} s")

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


class TotpRequiredError(AccountError):
    slug, default_detail = "totp-required", "this account needs a TOTP code (field `totp`)"


class InvalidTotpError(AccountError):
    slug, default_detail = "invalid-totp", "the TOTP code is wrong, expired or already used"


class InvalidTokenError(AccountError):
    slug, default_detail = "invalid-token", "the token is invalid, expired or revoked"


class TokenReusedError(AccountError):
    slug = "token-reused"
    default_detail = "this refresh token was already used; every token of its session is now revoked"


class EmailTakenError(AccountError):
    slug, default_detail = "email-taken", "a user with this email already exists"


class WeakPasswordError(AccountError):
    slug = "weak-password"
    default_detail = f"passwords need at least {MIN_PASSWORD_LENGTH} characters"


def normalize_email(email: str) -> str:
    return email.strip().lower()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


def _release(user: dict[str, Any]) -> None:
    """Takes back the failure counted for an attempt whose secrets were right but that did not
    sign in (2FA asked for its code, a TOTP setup); the lock goes once the count is below the
    threshold. Only a sign-in resets the count, so right passwords cannot reset TOTP guesses."""
    failures = max(0, int(user.get("failedLogins") or 0) - 1)
    user["failedLogins"] = failures
    if failures < LOCK_AFTER_FAILURES:
        user["lockedUntil"] = None


def _membership_document(membership: Membership | dict[str, Any]) -> dict[str, Any]:
    if isinstance(membership, Membership):
        tenant, role, projects = membership.tenant_id, membership.role, list(membership.projects)
    else:
        tenant, role = membership["tenantId"], membership["role"]
        projects = list(membership.get("projects", ["*"]))
    if role not in TENANT_ROLES:
        raise ValueError(f"unknown tenant role {role!r}; one of {TENANT_ROLES}")
    if not projects:
        raise ValueError("a membership needs at least one project (or '*')")
    return {"tenantId": tenant, "role": role, "projects": projects}


class AccountService:
    def __init__(
        self,
        store: DocumentStore,
        clock: Clock | None = None,
        *,
        signing_key: str | None = None,
        access_ttl_s: int = ACCESS_TTL_S,
        refresh_ttl_s: int = REFRESH_TTL_S,
        totp_issuer: str = "Ludex",
        hasher: PasswordHasher | None = None,
        box: SecretBox | None = None,
    ) -> None:
        self.store = store
        self.clock: Clock = clock or SystemClock()
        self.access_ttl_s = access_ttl_s
        self.refresh_ttl_s = refresh_ttl_s
        self.totp_issuer = totp_issuer
        self.hasher = hasher or PasswordHasher()  # argon2id with the library's current defaults
        self.box = box or SecretBox.from_settings(Settings())  # seals TOTP secrets and the signing key
        self._explicit_key = signing_key
        self._key: str | None = None
        self._dummy_hash: str | None = None

    def _now(self) -> datetime:
        now: datetime = self.clock.now()
        return now

    # -- signing key ------------------------------------------------------------------------

    async def signing_key(self) -> str:
        """The HS256 key: the constructor's, else `LUDEX_AUTH_SECRET`, else one generated once
        and kept sealed in the store (document `secrets/auth-signing-key`) for every replica."""
        if self._key is None:
            key = self._explicit_key or Settings().auth_secret
            if not key:
                document = await self.store.get_document(SECRETS, SIGNING_KEY_ID)
                if document is None:
                    generated = {
                        "id": SIGNING_KEY_ID,
                        "key": self.box.seal(secrets.token_urlsafe(48)),
                        "createdAt": rfc3339(self._now()),
                    }
                    await self.store.put_document(SECRETS, SIGNING_KEY_ID, generated)
                    document = await self.store.get_document(SECRETS, SIGNING_KEY_ID) or generated
                key = self.box.open(str(document["key"]))
                if not is_sealed(str(document["key"])):  # kept in the clear by Ludex 0.1.0: seal it now
                    await self.store.put_document(SECRETS, SIGNING_KEY_ID, {**document, "key": self.box.seal(key)})
            self._key = key
        return self._key

    # -- users ------------------------------------------------------------------------------

    async def _hash(self, password: str) -> str:
        return await asyncio.to_thread(self.hasher.hash, password)

    async def _password_matches(self, password_hash: str, password: str) -> bool:
        def verify() -> bool:
            try:
                return self.hasher.verify(password_hash, password)
            except (VerificationError, InvalidHashError):
                return False

        return await asyncio.to_thread(verify)

    async def _spend_password_time(self, password: str) -> None:
        """Verify against a throwaway hash, so an unknown email costs what a known one does."""
        if self._dummy_hash is None:
            self._dummy_hash = await self._hash(secrets.token_urlsafe(16))
        await self._password_matches(self._dummy_hash, password)

    @staticmethod
    def _check_password(password: str) -> None:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise WeakPasswordError()
        if len(password) > MAX_PASSWORD_LENGTH:
            raise WeakPasswordError(f"passwords may have at most {MAX_PASSWORD_LENGTH} characters")

    async def create_user(
        self,
        email: str,
        password: str,
        platform_role: str | None = None,
        memberships: Iterable[Membership | dict[str, Any]] = (),
    ) -> dict[str, Any]:
        address = normalize_email(email)
        if "@" not in address or len(address) > 254 or address.startswith("@") or address.endswith("@"):
            raise ValueError(f"not an email address: {email!r}")
        if platform_role is not None and platform_role not in PLATFORM_ROLES:
            raise ValueError(f"unknown platform role {platform_role!r}; one of {PLATFORM_ROLES}")
        member_docs = [_membership_document(m) for m in memberships]
        self._check_password(password)
        if await self.store.get_document(USER_EMAILS, address) is not None:
            raise EmailTakenError()
        password_hash = await self._hash(password)
        user: dict[str, Any] = {
            "id": f"usr_{secrets.token_hex(8)}",
            "email": address,
            "passwordHash": password_hash,
            "platformRole": platform_role,
            "memberships": member_docs,
            "totpSecret": None,
            "totpEnabled": False,
            "failedLogins": 0,
            "lockedUntil": None,
            "createdAt": rfc3339(self._now()),
            "disabled": False,
        }
        # The email is claimed first, by an insert-if-absent: of two creations racing on any replicas,
        # one wins and the other answers email-taken.
        if not await self.store.put_if_version(USER_EMAILS, address, {"id": address, "userId": user["id"]}, 0):
            raise EmailTakenError()
        await self.store.put_document(USERS, user["id"], user)
        return user

    async def get_user(self, user_id: str) -> dict[str, Any] | None:
        return await self.store.get_document(USERS, user_id)

    async def find_user_by_email(self, email: str) -> dict[str, Any] | None:
        index = await self.store.get_document(USER_EMAILS, normalize_email(email))
        return None if index is None else await self.get_user(index["userId"])

    async def set_password(self, user_id: str, password: str) -> None:
        """Replaces the password, lifts any lockout and ends every session of the user: whoever
        signed in with the old password (perhaps the reason for the change) is signed out."""
        self._check_password(password)
        password_hash = await self._hash(password)

        def change(user: dict[str, Any]) -> None:
            user.update(passwordHash=password_hash, failedLogins=0, lockedUntil=None)
            user["sessionGeneration"] = int(user.get("sessionGeneration") or 0) + 1

        if await self._update_user(user_id, change) is None:
            raise KeyError(user_id)

    async def _update_user(self, user_id: str, change: Any) -> dict[str, Any] | None:
        """Applies `change` (which edits the user in place, or raises to refuse) by
        compare-and-set: concurrent changes on any replica all land, none undoes another."""

        def apply(user: dict[str, Any] | None) -> dict[str, Any] | None:
            if user is None:
                return None
            change(user)
            return user

        return await update_document(self.store, USERS, user_id, apply)

    async def list_users(
        self, *, after: str | None, limit: int, query: str | None = None, tenant_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Users ordered by id, searched by email, or only the members of `tenant_id`."""
        found: list[dict[str, Any]] = []
        while len(found) < limit:
            page = await self.store.list_documents(USERS, after=after, limit=200)
            if not page:
                break
            for user in page:
                if query and query.lower() not in user["email"]:
                    continue
                if tenant_id and not any(m["tenantId"] == tenant_id for m in user.get("memberships", [])):
                    continue
                found.append(user)
            after = page[-1]["id"]
        return found[:limit]

    async def change_user(self, user_id: str, **changes: Any) -> dict[str, Any]:
        """Platform role and disabled flag; KeyError when there is no such user."""
        if changes.get("platformRole") not in (None, *PLATFORM_ROLES):
            raise ValueError(f"unknown platform role {changes['platformRole']!r}")
        user = await self._update_user(user_id, lambda u: u.update(changes))
        if user is None:
            raise KeyError(user_id)
        return user

    async def set_membership(self, user_id: str, membership: Membership | dict[str, Any]) -> dict[str, Any]:
        """Adds or replaces the user's membership of that membership's tenant."""
        document = _membership_document(membership)

        def change(user: dict[str, Any]) -> None:
            others = [m for m in user.get("memberships", []) if m["tenantId"] != document["tenantId"]]
            user["memberships"] = [*others, document]

        user = await self._update_user(user_id, change)
        if user is None:
            raise KeyError(user_id)
        return user

    async def remove_membership(self, user_id: str, tenant_id: str) -> dict[str, Any]:
        def change(user: dict[str, Any]) -> None:
            user["memberships"] = [m for m in user.get("memberships", []) if m["tenantId"] != tenant_id]

        user = await self._update_user(user_id, change)
        if user is None:
            raise KeyError(user_id)
        return user

    @staticmethod
    def principal_for(user: dict[str, Any]) -> Principal:
        return Principal(
            user_id=user["id"],
            email=user["email"],
            platform_role=user.get("platformRole"),
            memberships=tuple(
                Membership(m["tenantId"], m["role"], tuple(m.get("projects", ["*"])))
                for m in user.get("memberships", [])
            ),
        )

    # -- login ------------------------------------------------------------------------------

    async def login(self, email: str, password: str, totp: str | None = None) -> dict[str, Any]:
        """Tokens for a correct email, password (and TOTP code when 2FA is on). Every wrong
        email or password is the same `invalid-credentials`."""
        user = await self.find_user_by_email(email)
        if user is None or user.get("disabled"):
            await self._spend_password_time(password)
            raise InvalidCredentialsError()
        now = self._now()
        step = await self._check_secrets(user, password, totp, now)
        rehash = await asyncio.to_thread(self.hasher.check_needs_rehash, user["passwordHash"])
        new_hash = await self._hash(password) if rehash else None

        def succeed(current: dict[str, Any]) -> None:
            # This attempt was admitted before its check (counted within the threshold), so a lock
            # taken since by the attempts counted after it does not refuse it; a TOTP code
            # accepted by a parallel login (on any replica) does.
            if step is not None and step <= int(current.get("totpLastStep") or -1):
                raise InvalidTotpError()
            current.update(failedLogins=0, lockedUntil=None, lastLoginAt=rfc3339(now))
            for field in ("totpSecret", "totpPendingSecret"):  # kept in the clear by Ludex 0.1.0
                if current.get(field) and not is_sealed(current[field]):
                    current[field] = self.box.seal(current[field])
            if step is not None:
                current["totpLastStep"] = step
            if new_hash is not None:
                current["passwordHash"] = new_hash

        user = await self._update_user(user["id"], succeed) or user
        return await self._issue(user, await self._new_family(user))

    async def _check_secrets(self, user: dict[str, Any], password: str, totp: str | None, now: datetime) -> int | None:
        """Checks what only the user knows, as login does: the lock, the password, then (when 2FA is
        on) a TOTP code not used before. The attempt is counted as a failure before anything is
        checked (`_admit`); the caller's success write takes the count back to zero. Answers the
        code's time step (to record as used), or None without 2FA."""
        await self._admit(user["id"], now)
        if not await self._password_matches(user["passwordHash"], password):
            raise InvalidCredentialsError()
        if not user.get("totpEnabled"):
            return None
        if not totp:
            await self._update_user(user["id"], _release)  # the password was right: not a guess
            raise TotpRequiredError()
        step = self._totp_step(self.box.open(user["totpSecret"]), totp, now)
        if step is None or step <= int(user.get("totpLastStep") or -1):
            raise InvalidTotpError()
        return step

    async def _admit(self, user_id: str, now: datetime) -> None:
        """Counts one more attempt, refusing it while the account is locked, in one
        compare-and-set: parallel attempts on any replica each see the ones before them, so the
        attempt that reaches the threshold takes the lock and those after it are never checked."""

        def count(user: dict[str, Any]) -> None:
            locked_until = user.get("lockedUntil")
            if locked_until and _parse(locked_until) > now:
                raise LoginThrottledError(max(1, math.ceil((_parse(locked_until) - now).total_seconds())))
            failures = int(user.get("failedLogins") or 0) + 1
            user["failedLogins"] = failures
            if failures >= LOCK_AFTER_FAILURES:
                lock_s = min(2 ** (failures - LOCK_AFTER_FAILURES), MAX_LOCK_S)
                user["lockedUntil"] = rfc3339(now + timedelta(seconds=lock_s))

        await self._update_user(user_id, count)

    # -- tokens -----------------------------------------------------------------------------

    async def _new_family(self, user: dict[str, Any]) -> str:
        family = f"fam_{secrets.token_hex(12)}"
        document = {
            "id": family,
            "userId": user["id"],
            "generation": int(user.get("sessionGeneration") or 0),
            "createdAt": rfc3339(self._now()),
            "revokedAt": None,
        }
        await self.store.put_document(TOKEN_FAMILIES, family, document)
        return family

    async def _issue(self, user: dict[str, Any], family: str) -> dict[str, Any]:
        now = self._now()
        issued_at = int(now.timestamp())
        claims = {
            **self.principal_for(user).to_claims(),
            "iat": issued_at,
            "exp": issued_at + self.access_ttl_s,
            "jti": secrets.token_hex(12),
            "typ": "access",
            "sid": family,
        }
        access_token = jwt.encode(claims, await self.signing_key(), algorithm=ALGORITHM)
        refresh_token = f"rt_{secrets.token_urlsafe(32)}"
        await self.store.put_document(
            REFRESH_TOKENS,
            token_hash(refresh_token),
            {
                "id": token_hash(refresh_token),
                "family": family,
                "userId": user["id"],
                "createdAt": rfc3339(now),
                "usedAt": None,
                "revokedAt": None,
                "expiresAt": rfc3339(now + timedelta(seconds=self.refresh_ttl_s)),
            },
        )
        return {
            "accessToken": access_token,
            "refreshToken": refresh_token,
            "expiresIn": self.access_ttl_s,
            "tokenType": "Bearer",
        }

    async def _family_live(self, family: str, user: dict[str, Any]) -> bool:
        """The session exists, is not revoked, belongs to `user` and began after the user's last
        password change."""
        document = await self.store.get_document(TOKEN_FAMILIES, family)
        return (
            document is not None
            and not document.get("revokedAt")
            and document.get("userId") == user["id"]
            and int(document.get("generation") or 0) == int(user.get("sessionGeneration") or 0)
        )

    async def _revoke_family(self, family: str, reason: str) -> None:
        revoked_at = rfc3339(self._now())

        def revoke(document: dict[str, Any] | None) -> dict[str, Any] | None:
            if document is None or document.get("revokedAt"):
                return None
            return {**document, "revokedAt": revoked_at, "revokedReason": reason}

        await update_document(self.store, TOKEN_FAMILIES, family, revoke)

    async def verify_access_token(self, token: str) -> Principal:
        """The principal of a valid, unexpired access token whose session is live and whose user
        is still enabled. Roles come from the user as stored now, so a demotion applies at once."""
        try:
            claims = jwt.decode(
                token,
                await self.signing_key(),
                algorithms=[ALGORITHM],
                # expiry is checked against the injected clock below
                options={"verify_exp": False, "verify_iat": False, "require": ["sub", "exp", "iat", "jti", "sid"]},
            )
        except jwt.PyJWTError as error:
            raise InvalidTokenError() from error
        if claims.get("typ") != "access":
            raise InvalidTokenError("not an access token")
        if not isinstance(claims["exp"], int | float) or claims["exp"] <= self._now().timestamp():
            raise InvalidTokenError("the access token has expired")
        user = await self.get_user(str(claims["sub"]))
        if user is None or user.get("disabled"):
            raise InvalidTokenError("the user no longer exists or is disabled")
        if not await self._family_live(str(claims["sid"]), user):
            raise InvalidTokenError("the session was revoked")
        return dataclasses.replace(self.principal_for(user), session_id=str(claims["sid"]))

    async def refresh(self, refresh_token: str) -> dict[str, Any]:
        """A new token pair of the same session; the presented refresh token is spent, by
        compare-and-set: of two refreshes with one token (on any replicas) exactly one wins, and
        the other counts as reuse, which revokes the session."""
        document = await self.store.get_document(REFRESH_TOKENS, token_hash(refresh_token))
        if document is None:
            raise InvalidTokenError("unknown refresh token")
        family = document["family"]
        user = await self.get_user(document["userId"])
        if user is None or user.get("disabled"):
            await self._revoke_family(family, "user-disabled")
            raise InvalidTokenError("the user no longer exists or is disabled")
        if document.get("revokedAt") or not await self._family_live(family, user):
            raise InvalidTokenError("the session was revoked")
        now = self._now()
        if _parse(document["expiresAt"]) <= now:
            raise InvalidTokenError("the refresh token has expired")

        def spend(current: dict[str, Any] | None) -> dict[str, Any]:
            if current is None or current.get("usedAt"):
                raise TokenReusedError()
            return {**current, "usedAt": rfc3339(now)}

        try:
            await update_document(self.store, REFRESH_TOKENS, document["id"], spend)
        except TokenReusedError:
            await self._revoke_family(family, "refresh-token-reused")
            raise
        return await self._issue(user, family)

    async def logout(self, refresh_token: str) -> str:
        """Ends the session the refresh token belongs to: its refresh and access tokens stop
        working. Answers the session's id (what the caller revokes with it: its console keys)."""
        document = await self.store.get_document(REFRESH_TOKENS, token_hash(refresh_token))
        if document is None:
            raise InvalidTokenError("unknown refresh token")
        await self._revoke_family(document["family"], "logout")
        return str(document["family"])

    # -- TOTP -------------------------------------------------------------------------------

    @staticmethod
    def _totp_step(secret: str, code: str, now: datetime) -> int | None:
        """The time step `code` belongs to (now, or one step either side), or None."""
        code = code.strip()
        if len(code) != TOTP_DIGITS or not (code.isascii() and code.isdigit()):
            return None
        totp = pyotp.TOTP(secret)
        for offset in (0, -1, 1):
            moment = now + timedelta(seconds=totp.interval * offset)
            if hmac.compare_digest(totp.at(moment), code):
                return int(totp.timecode(moment))
        return None

    async def totp_setup(self, user_id: str, password: str, totp: str | None = None) -> dict[str, str]:
        """A new TOTP secret, stored but not in force until `totp_verify` confirms a code from it.
        When 2FA is already on, the current secret stays in force until then.

        An access token alone is not enough (a stolen one would take the account over): the user
        proves the password, and when 2FA is on a current code, exactly as at login; wrong answers
        count as failed logins (`invalid-credentials`, `totp-required`, `invalid-totp`, then
        `login-throttled`)."""
        current = await self.get_user(user_id)
        if current is None or current.get("disabled"):
            raise InvalidTokenError("the user no longer exists or is disabled")
        step = await self._check_secrets(current, password, totp, self._now())
        secret = pyotp.random_base32()

        def stage(user: dict[str, Any]) -> None:
            _release(user)  # the secrets were right: this attempt is no failure (a login resets the count)
            if step is not None:
                user["totpLastStep"] = max(step, int(user.get("totpLastStep") or -1))
            sealed = self.box.seal(secret)
            if user.get("totpEnabled"):
                user["totpPendingSecret"] = sealed
            else:
                user["totpSecret"] = sealed

        user = await self._update_user(user_id, stage)
        if user is None:
            raise InvalidTokenError("the user no longer exists")
        uri = pyotp.TOTP(secret).provisioning_uri(name=user["email"], issuer_name=self.totp_issuer)
        return {"secret": secret, "otpauthUri": uri}

    async def totp_verify(self, user_id: str, code: str) -> bool:
        """Turns 2FA on (or switches to the newly set-up secret) when `code` is valid. Only the
        caller of `totp_setup` (who proved the password, and the old code) knows that secret."""
        user = await self.get_user(user_id)
        if user is None:
            raise InvalidTokenError("the user no longer exists")
        pending = user.get("totpPendingSecret") or (None if user.get("totpEnabled") else user.get("totpSecret"))
        if not pending:
            raise InvalidTotpError("no TOTP secret is waiting for verification; call setup first")
        if self._totp_step(self.box.open(pending), code, self._now()) is None:
            raise InvalidTotpError()

        def enable(current: dict[str, Any]) -> None:
            current.update(totpSecret=pending, totpEnabled=True, totpPendingSecret=None)

        await self._update_user(user_id, enable)
        return True
