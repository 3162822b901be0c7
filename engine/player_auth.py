"""Player sessions, as pure rules: what a shipped game client may hold and do.

- A session is one sign-in of one player of one project: an id (`sid`), a short-lived access
  token naming it, and a refresh token that rotates on every use. The server keeps, per player,
  one record (`PlayerAuth`) with each live session's current refresh-token hash, the hashes it
  has already spent, and the player's ban. Never a token itself.
- Rotation with reuse detection: presenting a refresh token whose hash is the session's current
  one spends it (the next generation takes its place). Presenting one already spent means two
  holders have it, one of them a thief: every session of the player ends (`rotate` answers
  `reused`). An unknown token changes nothing, so a guesser cannot end anyone's sessions.
- What a session may send is the economy's client policy (`engine.client_policy`).
- Custom sign-in verifies a JWT the studio's own server signed (`verify_custom_token`): HS256
  with the project's player-auth secret, or EdDSA / RS256 with a registered public key. `alg:
  none`, other algorithms, a wrong key, a missing or past `exp`, another project's `aud` are all
  `invalid-token`. Time is passed in (`now`), so the rules replay.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import jwt
from jwt.algorithms import get_default_algorithms
from jwt.types import Options

from engine.domain_error import DomainError
from engine.rules import rfc3339

ACCESS_TTL_S = 15 * 60
REFRESH_TTL_S = 30 * 24 * 3600
MAX_SESSIONS_PER_PLAYER = 10  # the oldest ends when an eleventh signs in
MAX_SPENT_PER_SESSION = 32  # spent refresh hashes remembered per session (reuse detection)
CUSTOM_ALGORITHMS = ("HS256", "EdDSA", "RS256")
PUBLIC_KEY_ALGORITHMS = ("EdDSA", "RS256")
MAX_CUSTOM_TOKEN_LIFETIME_S = 24 * 3600  # a custom token is a sign-in ticket, not a session
PLAYER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$")
ACCESS_ISSUER = "ludex"


class PlayerAuthError(DomainError):
    """A refusal of player sign-in or of a session; each subclass names its problem type."""

    name = "invalid-token"
    default_detail = "the token is invalid, expired or revoked"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or self.default_detail)

    @property
    def slug(self) -> str:
        return self.name

    @property
    def detail(self) -> str:
        return str(self.args[0])


class InvalidPlayerTokenError(PlayerAuthError):
    name = "invalid-token"


class RefreshTokenReusedError(PlayerAuthError):
    name = "refresh-token-reused"
    default_detail = "this refresh token was already used; every session of this player has ended"


class PlayerBannedError(PlayerAuthError):
    name = "player-banned"
    default_detail = "this player is banned"


class NotYourPlayerError(PlayerAuthError):
    name = "not-your-player"
    default_detail = "a player session acts on its own player only (use `me`)"


class DeviceLinkedError(PlayerAuthError):
    name = "device-linked"
    default_detail = "this device is linked to another player; unlink it there first"


class DeviceSignInDisabledError(PlayerAuthError):
    name = "device-sign-in-disabled"
    default_detail = "this project has turned device sign-in off"


def is_own_player(session_player: str, player_id: str) -> bool:
    return player_id in ("me", session_player)


# -- the per-player record: sessions and ban ---------------------------------------------------


@dataclass(frozen=True)
class Session:
    """One live sign-in: the hash of its current refresh token and those it has spent."""

    sid: str
    refresh_hash: str
    generation: int
    created_at: str
    refreshed_at: str
    expires_at: str
    method: str  # device | custom
    spent: tuple[str, ...] = ()

    def to_document(self) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "refreshHash": self.refresh_hash,
            "generation": self.generation,
            "createdAt": self.created_at,
            "refreshedAt": self.refreshed_at,
            "expiresAt": self.expires_at,
            "method": self.method,
            "spent": list(self.spent),
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Session:
        return cls(
            sid=document["sid"],
            refresh_hash=document["refreshHash"],
            generation=int(document["generation"]),
            created_at=document["createdAt"],
            refreshed_at=document["refreshedAt"],
            expires_at=document["expiresAt"],
            method=document.get("method", "device"),
            spent=tuple(document.get("spent", ())),
        )


@dataclass(frozen=True)
class Ban:
    reason: str
    since: str
    until: str | None = None  # None: until lifted

    def is_active(self, now: datetime) -> bool:
        return self.until is None or rfc3339(now) < self.until


@dataclass(frozen=True)
class PlayerAuth:
    """A player's live sessions (by sid) and ban: one document, so a call's check is one read."""

    sessions: Mapping[str, Session] = field(default_factory=dict)
    ban: Ban | None = None

    def to_document(self) -> dict[str, Any]:
        ban = (
            None if self.ban is None else {"reason": self.ban.reason, "since": self.ban.since, "until": self.ban.until}
        )
        return {"sessions": [s.to_document() for s in self.sessions.values()], "ban": ban}

    @classmethod
    def from_document(cls, document: Mapping[str, Any] | None) -> PlayerAuth:
        if not document:
            return cls()
        sessions = {s["sid"]: Session.from_document(s) for s in document.get("sessions", [])}
        raw = document.get("ban")
        ban = None if not raw else Ban(raw["reason"], raw["since"], raw.get("until"))
        return cls(sessions, ban)

    def banned(self, now: datetime) -> Ban | None:
        return self.ban if self.ban is not None and self.ban.is_active(now) else None

    def live(self, now: datetime) -> PlayerAuth:
        """Without the sessions whose refresh token has expired."""
        moment = rfc3339(now)
        return replace(self, sessions={sid: s for sid, s in self.sessions.items() if s.expires_at > moment})


def check_signin(auth: PlayerAuth, now: datetime) -> None:
    """A banned player cannot sign in (nor refresh)."""
    ban = auth.banned(now)
    if ban is not None:
        raise PlayerBannedError(_ban_detail(ban))


def check_session(auth: PlayerAuth, sid: str, now: datetime) -> None:
    """What every session call checks after the access token's signature: not banned, the
    session still live (not logged out, revoked or ended by a reuse)."""
    check_signin(auth, now)
    session = auth.sessions.get(sid)
    if session is None or session.expires_at <= rfc3339(now):
        raise InvalidPlayerTokenError("this session has ended (logged out, revoked or replaced)")


def _ban_detail(ban: Ban) -> str:
    until = f" until {ban.until}" if ban.until else ""
    return f"this player is banned{until}: {ban.reason}"


def open_session(auth: PlayerAuth, sid: str, refresh_hash: str, method: str, now: datetime) -> PlayerAuth:
    """A new session; past MAX_SESSIONS_PER_PLAYER the least recently refreshed one ends."""
    check_signin(auth, now)
    moment = rfc3339(now)
    expires = rfc3339(now + timedelta(seconds=REFRESH_TTL_S))
    sessions = dict(auth.live(now).sessions)
    sessions[sid] = Session(sid, refresh_hash, 1, moment, moment, expires, method)
    while len(sessions) > MAX_SESSIONS_PER_PLAYER:
        oldest = min(sessions.values(), key=lambda s: (s.refreshed_at, s.sid))
        del sessions[oldest.sid]
    return replace(auth, sessions=sessions)


@dataclass(frozen=True)
class Rotation:
    """What presenting a refresh token did: the record to keep, and whether it was a reuse."""

    auth: PlayerAuth
    reused: bool = False


def rotate(auth: PlayerAuth, sid: str, presented_hash: str, new_hash: str, now: datetime) -> Rotation:
    """Spend the session's current refresh token for `new_hash`. A spent one → every session
    ends (`reused`); an unknown one raises `InvalidPlayerTokenError` and changes nothing."""
    session = auth.sessions.get(sid)
    if session is not None and presented_hash in session.spent:
        return Rotation(replace(auth, sessions={}), reused=True)
    if session is None or session.refresh_hash != presented_hash or session.expires_at <= rfc3339(now):
        raise InvalidPlayerTokenError("the refresh token is unknown, expired or its session has ended")
    check_signin(auth, now)
    spent = (*session.spent, presented_hash)[-MAX_SPENT_PER_SESSION:]
    moment = rfc3339(now)
    renewed = replace(
        session,
        refresh_hash=new_hash,
        generation=session.generation + 1,
        refreshed_at=moment,
        expires_at=rfc3339(now + timedelta(seconds=REFRESH_TTL_S)),
        spent=spent,
    )
    return Rotation(replace(auth, sessions={**auth.sessions, sid: renewed}))


def end_session(auth: PlayerAuth, sid: str, presented_hash: str) -> PlayerAuth:
    """Logout: the session whose current refresh token this is ends; anything else is a no-op."""
    session = auth.sessions.get(sid)
    if session is None or session.refresh_hash != presented_hash:
        return auth
    return replace(auth, sessions={k: v for k, v in auth.sessions.items() if k != sid})


def end_all(auth: PlayerAuth) -> PlayerAuth:
    return replace(auth, sessions={})


def ban(auth: PlayerAuth, reason: str, until: str | None, now: datetime) -> PlayerAuth:
    """A ban ends every session at once and refuses sign-ins until `until` (or until lifted)."""
    return PlayerAuth(sessions={}, ban=Ban(reason, rfc3339(now), until))


def unban(auth: PlayerAuth) -> PlayerAuth:
    return replace(auth, ban=None)


# -- tokens --------------------------------------------------------------------------------------


def audience(tenant: str, project: str) -> str:
    """Access tokens name their project: one of another project (or tenant) never verifies."""
    return f"ludex-player:{tenant}/{project}"


def access_claims(tenant: str, project: str, player_id: str, sid: str, now: datetime) -> dict[str, Any]:
    issued = int(now.timestamp())
    return {
        "iss": ACCESS_ISSUER,
        "aud": audience(tenant, project),
        "sub": player_id,
        "sid": sid,
        "typ": "player",
        "iat": issued,
        "exp": issued + ACCESS_TTL_S,
    }


def sign_access(claims: Mapping[str, Any], key: str) -> str:
    return jwt.encode(dict(claims), key, algorithm="HS256")


@dataclass(frozen=True)
class AccessClaims:
    player_id: str
    sid: str


# Time is checked against the `now` passed in (`_check_times`), never the library's clock.
_OPTIONS: Options = {
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
    "verify_aud": False,
    "require": ["exp", "sub"],
}


def verify_access(token: str, key: str, tenant: str, project: str, now: datetime) -> AccessClaims:
    """The player and session an access token names, if Ludex signed it for this project and
    it has not expired; else `InvalidPlayerTokenError`. (Revocation is `check_session`'s.)"""
    try:
        claims = jwt.decode(token, key, algorithms=["HS256"], options=_OPTIONS)
    except jwt.PyJWTError as error:
        raise InvalidPlayerTokenError("the access token is malformed or not signed by this server") from error
    if claims.get("typ") != "player" or claims.get("aud") != audience(tenant, project):
        raise InvalidPlayerTokenError("the access token is for another project")
    _check_times(claims, now, "access token")
    return AccessClaims(str(claims["sub"]), str(claims.get("sid", "")))


def _check_times(claims: Mapping[str, Any], now: datetime, what: str) -> None:
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise InvalidPlayerTokenError(f"the {what} needs a numeric `exp`")
    if exp <= now.timestamp():
        raise InvalidPlayerTokenError(f"the {what} has expired")
    nbf = claims.get("nbf")
    if isinstance(nbf, int | float) and not isinstance(nbf, bool) and nbf > now.timestamp():
        raise InvalidPlayerTokenError(f"the {what} is not valid yet")


@dataclass(frozen=True)
class PublicKey:
    """A public key the studio registered for custom sign-in: `kid`, `alg` and PEM text."""

    kid: str
    alg: str
    pem: str


def check_public_key(alg: str, pem: str) -> None:
    """Raises ValueError unless `pem` is a public key usable with `alg` (EdDSA or RS256)."""
    if alg not in PUBLIC_KEY_ALGORITHMS:
        raise ValueError(f"alg must be one of {PUBLIC_KEY_ALGORITHMS}")
    algorithm = get_default_algorithms()[alg]
    try:
        algorithm.prepare_key(pem)
    except Exception as error:  # noqa: BLE001 - any parse failure means "not a key"
        raise ValueError(f"not a PEM public key for {alg}") from error
    if "PRIVATE" in pem:
        raise ValueError("register the public key, never the private one")


def verify_custom_token(
    token: str, *, secret: str | None, public_keys: Iterable[PublicKey], project: str, now: datetime
) -> str:
    """The player id (`sub`) of a JWT the studio's server signed for this project, or
    `InvalidPlayerTokenError`. The header's `alg` picks the key kind, never the key itself:
    HS256 only with the secret, EdDSA / RS256 only with a registered key of that alg (the
    header's `kid` when it names one). `aud`, when present, must be the project id."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise InvalidPlayerTokenError("the token is not a JWT") from error
    alg = header.get("alg")
    if alg not in CUSTOM_ALGORITHMS:
        raise InvalidPlayerTokenError(f"alg {alg!r} is not accepted; use one of {CUSTOM_ALGORITHMS}")
    keys: list[Any]
    if alg == "HS256":
        keys = [secret] if secret else []
    else:
        kid = header.get("kid")
        keys = [k.pem for k in public_keys if k.alg == alg and (kid is None or k.kid == kid)]
    if not keys:
        raise InvalidPlayerTokenError(f"this project has no key for {alg} sign-in")
    claims: dict[str, Any] | None = None
    for key in keys:
        try:
            claims = jwt.decode(token, key, algorithms=[alg], options=_OPTIONS)
            break
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError as error:
            raise InvalidPlayerTokenError(f"the token is invalid: {error}") from error
    if claims is None:
        raise InvalidPlayerTokenError("the token's signature does not verify with this project's keys")
    _check_times(claims, now, "token")
    if claims["exp"] - now.timestamp() > MAX_CUSTOM_TOKEN_LIFETIME_S:
        raise InvalidPlayerTokenError("the token lives too long; sign-in tokens may last at most 24 hours")
    aud = claims.get("aud")
    if aud is not None and aud != project and not (isinstance(aud, list) and project in aud):
        raise InvalidPlayerTokenError("the token is for another project (aud)")
    player_id = claims["sub"]
    if not isinstance(player_id, str) or not PLAYER_ID.match(player_id):
        raise InvalidPlayerTokenError("the token's sub is not a valid player id")
    return player_id
