"""Player sign-in for game clients: device, custom (a JWT the studio's server signed), refresh
and logout. No API key: `x-tenant-id` and the project in the path. Each route is throttled per
client address (`LUDEX_PLAYER_SIGNIN_RATE_PER_IP_PER_S`) before any work; the rules are
`engine.player_auth`, the records `actors.ingress.player_sessions`."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from actors.host import CommandRequest
from actors.ingress.player_sessions import PlayerSessions, Tokens
from engine import commands as c
from engine.outcomes import Refusal
from engine.player_auth import PlayerAuthError, RefreshTokenReusedError
from engine.rules import MAX_USERNAME_LENGTH
from serve.api_key_auth import Caller, ProjectId, metering, require, tenant_id
from serve.backend import Backend, backend
from serve.player_sessions import player_sessions, problem_of
from serve.problems import ProblemError, problem_responses
from serve.project_admission import check_project, is_read_only, read_only

router = APIRouter(prefix="/v1/projects/{projectId}/auth", tags=["player sessions"])
ERRORS = problem_responses(400, 401, 403, 404, 422, 429)


class DeviceSignIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"deviceId": "3f9c1d2e-7b7a-4c55-9d1e-2f0a6c1b8e44"}]}
    )
    deviceId: Annotated[
        str,
        Field(min_length=16, max_length=128, description="An install's random id, kept by the game: whoever holds it"
              " signs in as its player."),
    ]  # fmt: skip
    username: Annotated[str | None, Field(min_length=1, max_length=MAX_USERNAME_LENGTH)] = None


class CustomSignIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"token": "eyJhbGciOiJIUzI1NiJ9.e30.x"}]})
    token: Annotated[
        str,
        Field(min_length=1, max_length=8192, description="A JWT your server signed: `sub` the player id, `exp`"
              " required (at most 24 h ahead), `aud` the project id when present; HS256 with the project's"
              " player-auth secret, or EdDSA / RS256 with a registered public key."),
    ]  # fmt: skip


class RefreshBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"refreshToken": "ldxr_0a1b2c_secret"}]})
    refreshToken: Annotated[str, Field(min_length=1, max_length=512)]


class PlayerTokens(BaseModel):
    playerId: str
    accessToken: str = Field(description="Send as `Authorization: Bearer <accessToken>` with `x-tenant-id`.")
    refreshToken: str = Field(description="Single use: `/auth/refresh` answers a new pair and spends this one.")
    expiresIn: int = Field(description="Seconds until the access token expires.")
    created: bool = Field(description="True when this sign-in created the player.")


async def signing_in(
    request: Request,
    projectId: ProjectId,
    tenant: Annotated[str, Depends(tenant_id)],
    connected: Annotated[Backend, Depends(backend)],
) -> tuple[str, str, PlayerSessions]:
    """Tenant header (400), the address's sign-in rate (429), the live project (404)."""
    settings = connected.settings
    address = request.client.host if request.client else "unknown"
    decision = await request.app.state.rate_limiter.hit(
        f"player-signin-ip:{address}", settings.player_signin_rate_per_ip_per_s
    )
    if not decision.allowed:
        raise ProblemError(
            "rate-limited",
            "too many player sign-ins from this address; wait and try again",
            headers={"Retry-After": str(decision.retry_after_s)},
        )
    _, found, tenant_document = await connected.control.admission("", tenant, projectId)
    check_project(found, tenant_document, tenant, projectId)
    return tenant, projectId, player_sessions(request, connected)


SigningIn = Annotated[tuple[str, str, PlayerSessions], Depends(signing_in)]


async def _ensure_player(request: Request, tenant: str, project: str, player_id: str, username: str) -> bool:
    """Creates the player on its first sign-in (keyed, so later sign-ins replay it); True when
    this call created it. A new player counts against the plan's `players` quota (403
    `plan-limit`), as one created with a key does; a player that exists signs in whatever the count."""
    connected: Backend = await backend(request)
    meter = metering(request, connected)
    plan = await meter.plans.plan_of(tenant)
    quota = (plan or {}).get("players")
    over = None
    if (
        quota is not None
        and meter.players is not None
        and await meter.players.live_players(tenant, limit=quota) >= quota
    ):
        over = Refusal("plan-limit", f"the plan allows {quota} player(s); delete some or change plan")
    if await is_read_only(connected.control, tenant):  # a read-only tenant signs in only players it has
        over = Refusal.of(read_only(tenant))
    command = c.CreatePlayer(username)
    # The key names the username too: a later sign-in with another name (or none) is a new
    # request that finds the player made, not a reuse of the first one's key (422).
    key = "player-sign-in:" + hashlib.sha256(username.encode()).hexdigest()[:32]
    ask = CommandRequest(tenant, project, player_id, command, key, request.state.request_id, over)
    (outcome,) = await connected.directory.execute([ask])
    refusal = outcome.refusal
    if refusal is not None and refusal.slug in ("plan-limit", "tenant-read-only"):
        if (await connected.directory.view(tenant, project, player_id, "player")).refusal is not None:
            raise refusal.as_error()
        return False  # it exists (made with a key): sign it in
    if refusal is not None and refusal.slug != "player-exists":
        raise refusal.as_error()
    created = refusal is None and outcome.created and not outcome.replayed
    if created and meter.players is not None:
        meter.players.created(tenant)
    return created


async def _signed_in(
    sessions: PlayerSessions, tenant: str, project: str, player_id: str, method: str, created: bool
) -> Tokens:
    try:
        return await sessions.sign_in(tenant, project, player_id, method, created=created)
    except PlayerAuthError as error:
        raise problem_of(error) from error


@router.post("/device", response_model=PlayerTokens, responses=ERRORS, summary="Sign in with a device id")
async def sign_in_device(request: Request, body: DeviceSignIn, signing: SigningIn) -> PlayerTokens:
    """The player linked to this device, created on its first sign-in (`created: true`). 403
    `device-sign-in-disabled` when the project turned device sign-in off; 403 `player-banned`."""
    tenant, project, sessions = signing
    try:
        player_id, _ = await sessions.device_player(tenant, project, body.deviceId)
    except PlayerAuthError as error:
        raise problem_of(error) from error
    # Every sign-in ensures the player (a replay once made): a first one refused by the quota
    # leaves the link, and the next sign-in creates the player once there is room.
    created = await _ensure_player(request, tenant, project, player_id, body.username or player_id)
    tokens = await _signed_in(sessions, tenant, project, player_id, "device", created)
    return PlayerTokens(**tokens.to_body())


@router.post("/custom", response_model=PlayerTokens, responses=ERRORS, summary="Sign in with your server's token")
async def sign_in_custom(request: Request, body: CustomSignIn, signing: SigningIn) -> PlayerTokens:
    """The player your server vouched for (`sub`), created on its first sign-in. Ludex verifies
    the token itself and never calls out; anything it cannot verify is 401 `invalid-token`."""
    tenant, project, sessions = signing
    try:
        player_id = await sessions.custom_player(tenant, project, body.token)
    except PlayerAuthError as error:
        raise problem_of(error) from error
    created = await _ensure_player(request, tenant, project, player_id, player_id)
    tokens = await _signed_in(sessions, tenant, project, player_id, "custom", created)
    return PlayerTokens(**tokens.to_body())


@router.post("/refresh", response_model=PlayerTokens, responses=ERRORS, summary="Refresh a session")
async def refresh(request: Request, body: RefreshBody, signing: SigningIn) -> PlayerTokens:
    """A new pair; the presented refresh token is spent. Presenting a spent one again answers
    401 `refresh-token-reused` and ends every session of the player (one of the two holders is
    a thief)."""
    tenant, project, sessions = signing
    try:
        tokens = await sessions.refresh(tenant, project, body.refreshToken)
    except RefreshTokenReusedError as error:
        await (await backend(request)).control.admission_changed()  # its sockets close too
        raise problem_of(error) from error
    except PlayerAuthError as error:
        raise problem_of(error) from error
    return PlayerTokens(**tokens.to_body())


@router.post("/logout", status_code=204, responses=ERRORS, summary="End a session")
async def logout(request: Request, body: RefreshBody, signing: SigningIn) -> Response:
    """Ends the session of this refresh token; its access token stops working at once. Always
    204, so it reveals nothing about tokens that are not current."""
    tenant, project, sessions = signing
    if await sessions.logout(tenant, project, body.refreshToken):
        await (await backend(request)).control.admission_changed()  # its socket closes too
    return Response(status_code=204)


devices = APIRouter(prefix="/v1/projects/{projectId}/auth/devices", tags=["player sessions"])
SessionWriter = Annotated[Caller, Depends(require("players:write", sessions=True))]


class DeviceBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"deviceId": "3f9c1d2e7b7a4c55"}]})
    deviceId: Annotated[str, Field(min_length=16, max_length=128)]


def _own_session(caller: Caller) -> str:
    """Linking is the player's own act: a session's, never a key's (403 `forbidden`)."""
    if caller.session is None:
        raise ProblemError("forbidden", "linking a device needs the player's own session (Authorization: Bearer)")
    return caller.session.player_id


@devices.post("/link", status_code=204, responses=ERRORS, summary="Link a device to the session's player")
async def link_device(request: Request, body: DeviceBody, caller: SessionWriter) -> Response:
    """The device signs in as the session's player from now on (an install moving onto an
    account). A device linked to another player: 409 `device-linked` (unlink it there first)."""
    player_id = _own_session(caller)
    try:
        await player_sessions(request, caller.backend).link_device(
            caller.tenant, caller.project, player_id, body.deviceId
        )
    except PlayerAuthError as error:
        raise problem_of(error) from error
    return Response(status_code=204)


@devices.post("/unlink", status_code=204, responses=ERRORS, summary="Unlink a device from the session's player")
async def unlink_device(request: Request, body: DeviceBody, caller: SessionWriter) -> Response:
    """The device no longer signs in as the session's player (its next device sign-in makes a
    new player). Always 204: it says nothing about other players' devices."""
    player_id = _own_session(caller)
    await player_sessions(request, caller.backend).unlink_device(
        caller.tenant, caller.project, player_id, body.deviceId
    )
    return Response(status_code=204)
