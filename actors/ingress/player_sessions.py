"""Player sessions kept in the control-plane store (SQLite or MongoDB, through `DocumentStore`),
so every ingress replica sees a logout, a ban or a reuse on its next lookup.

Documents (ids `<tenant>/<project>/...`; tenant and project ids hold no `/`):
- `player_auth/<t>/<p>/<playerId>`: the player's sessions and ban (`engine.player_auth.PlayerAuth`),
  changed only by compare-and-set (`update_document`), so a refresh racing a ban loses nothing.
  A session call reads it once: that read is the revocation check.
- `player_session_ids/<sid>`: which player a session (its refresh token) belongs to.
- `player_devices/<t>/<p>/<sha256(deviceId)>`: the player a device signs in as. Only the hash of
  the device id is kept: it is a bearer secret of its install.
- `player_auth_settings/<t>/<p>`: `deviceSignIn`, `allowedOrigins`, the player-auth secret
  (sealed with the `SecretBox`) and registered public keys.
- `player_origins/<projectId>`: the origins any tenant's project of that id allows, for CORS
  preflights, which carry no `x-tenant-id`.

Refresh tokens are `ldxr_<sid>_<secret>`, stored as sha256 hashes only; access tokens are HS256
JWTs signed with a key derived from the server's signing key (never valid as dashboard tokens)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from actors.clock import Clock, SystemClock
from actors.documents import update_document
from actors.secret_box import SecretBox
from actors.stores.base import DocumentStore
from engine import player_auth as pa
from engine.rules import rfc3339

PLAYER_AUTH, SESSION_IDS, DEVICES = "player_auth", "player_session_ids", "player_devices"
SETTINGS, ORIGINS = "player_auth_settings", "player_origins"
REFRESH_PREFIX = "ldxr_"
MAX_ORIGINS = 32
MAX_PUBLIC_KEYS = 8


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Tokens:
    """A signed-in session's pair, as the sign-in routes answer it."""

    player_id: str
    access_token: str
    refresh_token: str
    expires_in: int
    created: bool = False

    def to_body(self) -> dict[str, Any]:
        return {
            "playerId": self.player_id,
            "accessToken": self.access_token,
            "refreshToken": self.refresh_token,
            "expiresIn": self.expires_in,
            "created": self.created,
        }


@dataclass(frozen=True)
class PlayerSession:
    """An admitted session call: which player, which session."""

    tenant: str
    project: str
    player_id: str
    sid: str


def default_settings() -> dict[str, Any]:
    return {"deviceSignIn": True, "allowedOrigins": [], "hasSecret": False, "publicKeys": []}


class PlayerSessions:
    def __init__(
        self,
        store: DocumentStore,
        signing_key: Callable[[], Awaitable[str]],
        box: SecretBox,
        clock: Clock | None = None,
    ) -> None:
        self.store = store
        self._signing_key = signing_key
        self.box = box
        self.clock: Clock = clock or SystemClock()
        self._key: str | None = None

    def _now(self) -> datetime:
        now: datetime = self.clock.now()
        return now

    async def key(self) -> str:
        """The player access-token key: derived from the server's signing key with a label of
        its own, so a dashboard token is never a player token nor the reverse."""
        if self._key is None:
            base = await self._signing_key()
            self._key = hmac.new(base.encode(), b"ludex player sessions v1", hashlib.sha256).hexdigest()
        return self._key

    # -- settings ---------------------------------------------------------------------------

    async def settings(self, tenant: str, project: str) -> dict[str, Any]:
        """The project's player-auth settings as the backoffice shows them (no secret)."""
        stored = await self.store.get_document(SETTINGS, f"{tenant}/{project}") or {}
        return _public_settings(stored)

    async def update_settings(
        self,
        tenant: str,
        project: str,
        *,
        device_sign_in: bool | None = None,
        allowed_origins: Sequence[str] | None = None,
        secret: str | None = None,
        clear_secret: bool = False,
        public_keys: Sequence[pa.PublicKey] | None = None,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Changes what is given; answers the settings before and after (without the secret)."""
        doc_id = f"{tenant}/{project}"
        for key in public_keys or ():
            pa.check_public_key(key.alg, key.pem)

        def change(current: dict[str, Any] | None) -> dict[str, Any]:
            updated = {"tenantId": tenant, "projectId": project, **(current or {})}
            if device_sign_in is not None:
                updated["deviceSignIn"] = device_sign_in
            if allowed_origins is not None:
                updated["allowedOrigins"] = list(dict.fromkeys(allowed_origins))
            if secret is not None:
                updated["secret"] = self.box.seal(secret)
            elif clear_secret:
                updated.pop("secret", None)
            if public_keys is not None:
                updated["publicKeys"] = [{"kid": k.kid, "alg": k.alg, "publicKey": k.pem} for k in public_keys]
            return updated

        before = _public_settings(await self.store.get_document(SETTINGS, doc_id) or {})
        after = await update_document(self.store, SETTINGS, doc_id, change) or {}
        if allowed_origins is not None:
            origins = list(after.get("allowedOrigins", []))
            await update_document(self.store, ORIGINS, project, lambda d: _with_origins(d, project, tenant, origins))
        return before, _public_settings(after)

    async def origins_of(self, project: str) -> dict[str, list[str]]:
        """Every tenant's allowed origins for projects of this id (tenant → origins)."""
        found = await self.store.get_document(ORIGINS, project) or {}
        by_tenant: dict[str, list[str]] = found.get("byTenant", {})
        return by_tenant

    async def _verification(self, tenant: str, project: str) -> tuple[str | None, list[pa.PublicKey], bool]:
        stored = await self.store.get_document(SETTINGS, f"{tenant}/{project}") or {}
        secret = self.box.open(stored["secret"]) if stored.get("secret") else None
        keys = [pa.PublicKey(k["kid"], k["alg"], k["publicKey"]) for k in stored.get("publicKeys", [])]
        return secret, keys, bool(stored.get("deviceSignIn", True))

    # -- sign-in ----------------------------------------------------------------------------

    async def device_player(self, tenant: str, project: str, device_id: str) -> tuple[str, bool]:
        """The player this device signs in as, linked (and named) on its first sign-in; True
        when this call made the link. Two first sign-ins at once agree (compare-and-set)."""
        _, _, device_sign_in = await self._verification(tenant, project)
        if not device_sign_in:
            raise pa.DeviceSignInDisabledError()
        doc_id = f"{tenant}/{project}/{token_hash(device_id)}"
        found = await self.store.get_document(DEVICES, doc_id)
        if found is not None:
            return str(found["playerId"]), False
        player_id = "p_" + secrets.token_hex(10)
        link = {"tenantId": tenant, "projectId": project, "playerId": player_id, "linkedAt": rfc3339(self._now())}
        if await self.store.put_if_version(DEVICES, doc_id, link, 0):
            await self._note_device(tenant, project, player_id, token_hash(device_id), link["linkedAt"])
            return player_id, True
        raced = await self.store.get_document(DEVICES, doc_id)
        return str((raced or link)["playerId"]), False

    async def link_device(self, tenant: str, project: str, player_id: str, device_id: str) -> None:
        """Links a device to an existing player (a game moving an install onto an account); a
        device already linked to another player is refused (409 `device-linked`)."""
        digest = token_hash(device_id)
        doc_id = f"{tenant}/{project}/{digest}"
        moment = rfc3339(self._now())

        def change(current: dict[str, Any] | None) -> dict[str, Any] | None:
            if current is not None and current.get("playerId") != player_id:
                raise pa.DeviceLinkedError()
            if current is not None:
                return None
            return {"tenantId": tenant, "projectId": project, "playerId": player_id, "linkedAt": moment}

        await update_document(self.store, DEVICES, doc_id, change)
        await self._note_device(tenant, project, player_id, digest, moment)

    async def unlink_device(self, tenant: str, project: str, player_id: str, device_id: str) -> bool:
        """Unlinks the device if it is this player's (True); its next sign-in makes a new player."""
        digest = token_hash(device_id)
        found = await self.store.get_document(DEVICES, f"{tenant}/{project}/{digest}")
        if found is None or found.get("playerId") != player_id:
            return False
        await self.store.delete_documents(DEVICES, [f"{tenant}/{project}/{digest}"])

        def forget(current: dict[str, Any] | None) -> dict[str, Any]:
            devices = [d for d in (current or {}).get("devices", []) if d["deviceHash"] != digest[:16]]
            return {**(current or {}), "devices": devices, **_ids(tenant, project, player_id)}

        await update_document(self.store, PLAYER_AUTH, f"{tenant}/{project}/{player_id}", forget)
        return True

    async def _note_device(self, tenant: str, project: str, player_id: str, digest: str, moment: str) -> None:
        """The player's record lists its devices (a prefix of each hash) for the backoffice."""

        def note(current: dict[str, Any] | None) -> dict[str, Any]:
            devices = [d for d in (current or {}).get("devices", []) if d["deviceHash"] != digest[:16]]
            devices = [*devices, {"deviceHash": digest[:16], "linkedAt": moment}][-pa.MAX_SESSIONS_PER_PLAYER * 2 :]
            return {**(current or {}), "devices": devices, **_ids(tenant, project, player_id)}

        await update_document(self.store, PLAYER_AUTH, f"{tenant}/{project}/{player_id}", note)

    async def custom_player(self, tenant: str, project: str, token: str) -> str:
        secret, keys, _ = await self._verification(tenant, project)
        return pa.verify_custom_token(token, secret=secret, public_keys=keys, project=project, now=self._now())

    async def sign_in(self, tenant: str, project: str, player_id: str, method: str, *, created: bool = False) -> Tokens:
        """A new session for the player (refused while banned)."""
        sid = secrets.token_hex(12)
        refresh = f"{REFRESH_PREFIX}{sid}_{secrets.token_urlsafe(32)}"
        now = self._now()
        await self._change(
            tenant, project, player_id, lambda a: pa.open_session(a, sid, token_hash(refresh), method, now)
        )
        await self.store.put_document(
            SESSION_IDS, sid, {"tenantId": tenant, "projectId": project, "playerId": player_id}
        )
        return await self._tokens(tenant, project, player_id, sid, refresh, created)

    async def _tokens(self, tenant: str, project: str, player_id: str, sid: str, refresh: str, created: bool) -> Tokens:
        claims = pa.access_claims(tenant, project, player_id, sid, self._now())
        return Tokens(player_id, pa.sign_access(claims, await self.key()), refresh, pa.ACCESS_TTL_S, created)

    async def refresh(self, tenant: str, project: str, refresh_token: str) -> Tokens:
        """A new pair for the session; the presented token is spent. A spent one presented again
        ends every session of the player and raises `RefreshTokenReusedError`."""
        player_id, sid = await self._session_of(tenant, project, refresh_token)
        fresh = f"{REFRESH_PREFIX}{sid}_{secrets.token_urlsafe(32)}"
        now = self._now()
        outcome: list[pa.Rotation] = []

        def change(current: dict[str, Any] | None) -> dict[str, Any]:
            rotation = pa.rotate(
                pa.PlayerAuth.from_document(current), sid, token_hash(refresh_token), token_hash(fresh), now
            )
            outcome[:] = [rotation]
            return {**(current or {}), **rotation.auth.to_document(), **_ids(tenant, project, player_id)}

        await update_document(self.store, PLAYER_AUTH, f"{tenant}/{project}/{player_id}", change)
        if outcome[0].reused:
            raise pa.RefreshTokenReusedError()
        return await self._tokens(tenant, project, player_id, sid, fresh, False)

    async def logout(self, tenant: str, project: str, refresh_token: str) -> bool:
        """Ends the session whose current refresh token this is (True); any other token: nothing."""
        try:
            player_id, sid = await self._session_of(tenant, project, refresh_token)
        except pa.InvalidPlayerTokenError:
            return False
        ended: list[bool] = []

        def rule(auth: pa.PlayerAuth) -> pa.PlayerAuth:
            after = pa.end_session(auth, sid, token_hash(refresh_token))
            ended[:] = [after is not auth]
            return after

        await self._change(tenant, project, player_id, rule)
        return bool(ended and ended[0])

    async def _session_of(self, tenant: str, project: str, refresh_token: str) -> tuple[str, str]:
        parts = refresh_token.split("_", 2) if refresh_token.startswith(REFRESH_PREFIX) else []
        found = await self.store.get_document(SESSION_IDS, parts[1]) if len(parts) == 3 else None
        if found is None or found.get("tenantId") != tenant or found.get("projectId") != project:
            raise pa.InvalidPlayerTokenError("the refresh token is unknown, expired or of another project")
        return str(found["playerId"]), parts[1]

    # -- session calls ----------------------------------------------------------------------

    async def authenticate(self, tenant: str, project: str, access_token: str) -> PlayerSession:
        """The session an access token stands for, if valid now: signed here for this project,
        not expired, its session live and its player not banned (one document read)."""
        claims = pa.verify_access(access_token, await self.key(), tenant, project, self._now())
        document = await self.store.get_document(PLAYER_AUTH, f"{tenant}/{project}/{claims.player_id}")
        pa.check_session(pa.PlayerAuth.from_document(document), claims.sid, self._now())
        return PlayerSession(tenant, project, claims.player_id, claims.sid)

    # -- backoffice ---------------------------------------------------------------------------

    async def sessions(self, tenant: str, project: str, player_id: str) -> dict[str, Any]:
        """The player's live sessions (no token hashes) and ban."""
        document = await self.store.get_document(PLAYER_AUTH, f"{tenant}/{project}/{player_id}")
        auth = pa.PlayerAuth.from_document(document).live(self._now())
        items = [
            {
                "sessionId": s.sid,
                "method": s.method,
                "createdAt": s.created_at,
                "refreshedAt": s.refreshed_at,
                "expiresAt": s.expires_at,
            }
            for s in sorted(auth.sessions.values(), key=lambda s: s.created_at)
        ]
        ban = auth.banned(self._now())
        return {
            "playerId": player_id,
            "items": items,
            "devices": list((document or {}).get("devices", [])),
            "ban": None if ban is None else {"reason": ban.reason, "since": ban.since, "until": ban.until},
        }

    async def ban(self, tenant: str, project: str, player_id: str, reason: str, until: str | None) -> None:
        now = self._now()
        await self._change(tenant, project, player_id, lambda a: pa.ban(a, reason, until, now))

    async def unban(self, tenant: str, project: str, player_id: str) -> None:
        await self._change(tenant, project, player_id, pa.unban)

    async def revoke_all(self, tenant: str, project: str, player_id: str) -> int:
        """Ends every session of the player; answers how many were live."""
        document = await self.store.get_document(PLAYER_AUTH, f"{tenant}/{project}/{player_id}")
        live = len(pa.PlayerAuth.from_document(document).live(self._now()).sessions)
        await self._change(tenant, project, player_id, pa.end_all)
        return live

    async def _change(
        self, tenant: str, project: str, player_id: str, rule: Callable[[pa.PlayerAuth], pa.PlayerAuth]
    ) -> None:
        def change(current: dict[str, Any] | None) -> dict[str, Any]:
            auth = rule(pa.PlayerAuth.from_document(current))
            return {**(current or {}), **auth.to_document(), **_ids(tenant, project, player_id)}

        await update_document(self.store, PLAYER_AUTH, f"{tenant}/{project}/{player_id}", change)


def _ids(tenant: str, project: str, player_id: str) -> dict[str, str]:
    return {"tenantId": tenant, "projectId": project, "playerId": player_id}


def _public_settings(stored: dict[str, Any]) -> dict[str, Any]:
    return {
        "deviceSignIn": bool(stored.get("deviceSignIn", True)),
        "allowedOrigins": list(stored.get("allowedOrigins", [])),
        "hasSecret": bool(stored.get("secret")),
        "publicKeys": [
            {"kid": k["kid"], "alg": k["alg"], "publicKey": k["publicKey"]} for k in stored.get("publicKeys", [])
        ],
    }


def _with_origins(current: dict[str, Any] | None, project: str, tenant: str, origins: list[str]) -> dict[str, Any]:
    by_tenant = dict((current or {}).get("byTenant", {}))
    if origins:
        by_tenant[tenant] = origins
    else:
        by_tenant.pop(tenant, None)
    return {"id": project, "byTenant": by_tenant}
