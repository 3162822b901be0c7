"""The backoffice side of player sessions: ban and unban a player (ending their sessions at
once), list and end their sessions, and the project's player-auth settings (device sign-in,
allowed origins, the custom sign-in secret and public keys). Every change is audited."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from actors.ingress.player_sessions import MAX_ORIGINS, MAX_PUBLIC_KEYS, PlayerSessions
from engine.player_auth import PublicKey
from engine.rules import rfc3339
from serve.api_key_auth import PlayerId
from serve.backoffice import InProject, in_project
from serve.player_origins import forget_origins
from serve.player_sessions import player_sessions
from serve.problems import ProblemError, problem_responses

router = APIRouter(prefix="/v1/client/projects/{projectId}", tags=["client"])
Reader = Annotated[InProject, in_project("players:read")]
Moderator = Annotated[InProject, in_project("players:moderate")]
SettingsReader = Annotated[InProject, in_project("projects:read")]
SettingsWriter = Annotated[InProject, in_project("projects:write")]
ERRORS = problem_responses(400, 401, 403, 404, 422, 429)
ORIGIN = r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$"


class BanBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "chargeback fraud"}]})
    reason: Annotated[str, Field(min_length=1, max_length=500)]
    until: AwareDatetime | None = Field(default=None, description="When the ban ends; omitted: until lifted.")


class BanOut(BaseModel):
    reason: str
    since: str
    until: str | None


class SessionOut(BaseModel):
    sessionId: str
    method: Literal["device", "custom"]
    createdAt: str
    refreshedAt: str
    expiresAt: str = Field(description="When its refresh token expires unless refreshed.")


class DeviceOut(BaseModel):
    deviceHash: str = Field(description="The first 16 hex digits of the device id's SHA-256 (the id is never kept).")
    linkedAt: str


class PlayerSessionsOut(BaseModel):
    playerId: str
    items: list[SessionOut]
    devices: list[DeviceOut] = Field(description="The devices that sign in as this player.")
    ban: BanOut | None


class Revoked(BaseModel):
    playerId: str
    ended: int = Field(description="How many live sessions ended.")


class PublicKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kid: Annotated[str, Field(min_length=1, max_length=64)]
    alg: Literal["EdDSA", "RS256"]
    publicKey: Annotated[str, Field(min_length=1, max_length=4096, description="PEM (`-----BEGIN PUBLIC KEY-----`).")]


class PlayerAuthSettings(BaseModel):
    deviceSignIn: bool = Field(description="Whether `POST .../auth/device` signs players in.")
    allowedOrigins: list[str] = Field(
        description="Browser origins allowed to call the game API (CORS); none by default."
    )
    hasSecret: bool = Field(description="Whether an HS256 player-auth secret is set (it is never shown).")
    publicKeys: list[PublicKeyIn]


class PlayerAuthUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"deviceSignIn": True, "allowedOrigins": ["https://play.example.com"]}]},
    )
    deviceSignIn: bool | None = None
    allowedOrigins: Annotated[
        list[Annotated[str, Field(pattern=ORIGIN, max_length=255)]] | None, Field(max_length=MAX_ORIGINS)
    ] = None
    secret: Annotated[
        str | None,
        Field(min_length=32, max_length=512, description="The HS256 secret your server signs custom tokens with;"
              " write-only. An empty `clearSecret: true` removes it."),
    ] = None  # fmt: skip
    clearSecret: bool = False
    publicKeys: Annotated[list[PublicKeyIn] | None, Field(max_length=MAX_PUBLIC_KEYS)] = None


def _sessions(acting: InProject) -> PlayerSessions:
    return player_sessions(acting.request, acting.backend)


@router.get(
    "/players/{playerId}/sessions",
    response_model=PlayerSessionsOut,
    responses=ERRORS,
    summary="List a player's sessions",
)
async def list_sessions(playerId: PlayerId, acting: Reader) -> PlayerSessionsOut:
    """The player's live sessions (never their tokens) and ban, if any."""
    return PlayerSessionsOut(**await _sessions(acting).sessions(acting.tenant, acting.project, playerId))


@router.post(
    "/players/{playerId}/sessions/revoke", response_model=Revoked, responses=ERRORS, summary="End all sessions"
)
async def revoke_sessions(playerId: PlayerId, acting: Moderator) -> Revoked:
    """Ends every session of the player: their access tokens answer 401 from the next call on,
    their refresh tokens are refused. They may sign in again (ban them to prevent that)."""
    ended = await _sessions(acting).revoke_all(acting.tenant, acting.project, playerId)
    await acting.control.admission_changed()  # open realtime sockets of those sessions close too
    await acting.record(
        "player.sessions.revoke",
        f"{acting.project}/{playerId}",
        before=None,
        after={"playerId": playerId, "ended": ended},
    )
    return Revoked(playerId=playerId, ended=ended)


@router.post("/players/{playerId}/ban", response_model=PlayerSessionsOut, responses=ERRORS, summary="Ban a player")
async def ban_player(playerId: PlayerId, body: BanBody, acting: Moderator) -> PlayerSessionsOut:
    """Ends the player's sessions at once and refuses their sign-ins and calls (403
    `player-banned`) until `until`, or until unbanned. Server keys still act on the player."""
    sessions = _sessions(acting)
    until = None if body.until is None else rfc3339(body.until)
    if until is not None and body.until is not None and body.until <= datetime.now(body.until.tzinfo):
        raise ProblemError(
            "validation-error",
            "until: must be in the future",
            errors=[{"field": "until", "message": "must be in the future"}],
        )
    before = await sessions.sessions(acting.tenant, acting.project, playerId)
    await sessions.ban(acting.tenant, acting.project, playerId, body.reason, until)
    await acting.control.admission_changed()  # open realtime sockets of the player close too
    after = await sessions.sessions(acting.tenant, acting.project, playerId)
    await acting.record(
        "player.ban",
        f"{acting.project}/{playerId}",
        before=_ban_audit(playerId, before),
        after=_ban_audit(playerId, after),
    )
    return PlayerSessionsOut(**after)


@router.post("/players/{playerId}/unban", response_model=PlayerSessionsOut, responses=ERRORS, summary="Lift a ban")
async def unban_player(playerId: PlayerId, acting: Moderator) -> PlayerSessionsOut:
    """The player may sign in again (their earlier sessions stay ended)."""
    sessions = _sessions(acting)
    before = await sessions.sessions(acting.tenant, acting.project, playerId)
    await sessions.unban(acting.tenant, acting.project, playerId)
    after = await sessions.sessions(acting.tenant, acting.project, playerId)
    await acting.record(
        "player.unban",
        f"{acting.project}/{playerId}",
        before=_ban_audit(playerId, before),
        after=_ban_audit(playerId, after),
    )
    return PlayerSessionsOut(**after)


def _ban_audit(player_id: str, view: dict[str, object]) -> dict[str, object]:
    ban = view.get("ban") or {}
    assert isinstance(ban, dict)
    return {"playerId": player_id, "reason": ban.get("reason"), "until": ban.get("until")}


@router.get("/player-auth", response_model=PlayerAuthSettings, responses=ERRORS, summary="Get player-auth settings")
async def get_player_auth(acting: SettingsReader) -> PlayerAuthSettings:
    """Device sign-in, allowed origins, whether a secret is set, the registered public keys."""
    return PlayerAuthSettings(**await _sessions(acting).settings(acting.tenant, acting.project))


@router.patch(
    "/player-auth", response_model=PlayerAuthSettings, responses=ERRORS, summary="Change player-auth settings"
)
async def update_player_auth(body: PlayerAuthUpdate, acting: SettingsWriter) -> PlayerAuthSettings:
    """Changes the fields given. `allowedOrigins` are exact origins (`https://host[:port]`);
    `publicKeys` replaces the list; `secret` is write-only (audited as `hasSecret`)."""
    keys = None if body.publicKeys is None else [PublicKey(k.kid, k.alg, k.publicKey) for k in body.publicKeys]
    try:
        before, after = await _sessions(acting).update_settings(
            acting.tenant,
            acting.project,
            device_sign_in=body.deviceSignIn,
            allowed_origins=body.allowedOrigins,
            secret=body.secret,
            clear_secret=body.clearSecret,
            public_keys=keys,
        )
    except ValueError as error:
        raise ProblemError(
            "validation-error", f"publicKeys: {error}", errors=[{"field": "publicKeys", "message": str(error)}]
        ) from error
    forget_origins(acting.request, acting.project)  # this replica at once; others within a second
    await acting.record("player-auth.update", acting.project, before=before, after=after)
    return PlayerAuthSettings(**after)
