"""Game API calls made with a player session (`Authorization: Bearer <accessToken>`), admitted
beside API keys by `serve.api_key_auth.require`. Order of checks: the token (401
`invalid-token`: forged, expired, another project's, logged out or revoked), the project (404),
the ban (403 `player-banned`), the route (403 `not-client-callable` on a route for servers), the
player in the path (403 `not-your-player`; `me` stands for the session's own), then the
session's rate limit (429). What the session may *send* is decided on the one command path
(`serve.commanding.execute`) from the economy's client policy, read here once a second per
project and replica.

A session is admitted as a `Caller` whose key is a stand-in (`session:<sid>`, the scopes a
session could ever use), so the command path, rate limits and the realtime socket treat it as
any caller and per-session limits come for free."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from starlette.requests import HTTPConnection

from actors.economy_reads import latest_version
from actors.ingress.accounts import AccountService
from actors.ingress.player_sessions import PlayerSession, PlayerSessions
from actors.secret_box import SecretBox
from engine.access import ApiKey
from engine.client_policy import client_allow
from engine.player_auth import NotYourPlayerError, PlayerAuthError
from serve.backend import Backend
from serve.problems import ProblemError
from serve.project_admission import check_project

SESSION_SCOPES = ("players:read", "players:write", "economy:write", "store:purchase", "realtime")
POLICY_TTL_S = 1.0


def player_sessions(connection: HTTPConnection, backend: Backend) -> PlayerSessions:
    """The replica's PlayerSessions over the backend's store, made on first use; its access-token
    key derives from the dashboard accounts' signing key (one secret to keep per deployment)."""
    found: PlayerSessions | None = getattr(connection.app.state, "player_sessions", None)
    if found is None:
        accounts: AccountService | None = getattr(connection.app.state, "accounts", None)
        box = SecretBox.from_settings(backend.settings)
        if accounts is None:
            accounts = AccountService(backend.store, access_ttl_s=backend.settings.auth_access_ttl_s, box=box)
            connection.app.state.accounts = accounts
        signing_key: Callable[[], Awaitable[str]] = accounts.signing_key
        found = PlayerSessions(backend.store, signing_key, box)
        connection.app.state.player_sessions = found
    return found


def session_key(session: PlayerSession, rate: float) -> ApiKey:
    """The stand-in key a session is admitted as: its id names the session's rate bucket."""
    return ApiKey(
        id=f"session:{session.sid}",
        tenant_id=session.tenant,
        project_id=session.project,
        name=f"player session of {session.player_id}",
        prefix="",
        secret_hash="",
        scopes=SESSION_SCOPES,
        created_at="",
        rate_limit_per_second=max(1, int(rate)),
    )


def problem_of(error: PlayerAuthError) -> ProblemError:
    return ProblemError(error.slug, error.detail)


async def admit_session(
    connection: HTTPConnection, backend: Backend, token: str, tenant: str, project: str, *, write: bool = False
) -> PlayerSession:
    """The session a bearer token stands for on this tenant's live project (and allowed to write
    to it when `write`), else the problem."""
    _, found, tenant_document = await backend.control.admission("", tenant, project)
    check_project(found, tenant_document, tenant, project, write=write)
    try:
        return await player_sessions(connection, backend).authenticate(tenant, project, token)
    except PlayerAuthError as error:
        raise problem_of(error) from error


def own_player(connection: HTTPConnection, session: PlayerSession) -> None:
    """The path's `playerId` must be the session's player; `me` is replaced by it (before the
    route's own parameters are read: FastAPI solves dependencies first)."""
    path_params = connection.scope.get("path_params", {})
    player_id = path_params.get("playerId")
    if player_id == "me":
        path_params["playerId"] = session.player_id
    elif player_id is not None and player_id != session.player_id:
        raise problem_of(NotYourPlayerError())


async def policy_of(connection: HTTPConnection, backend: Backend, tenant: str, project: str) -> frozenset[str]:
    """The ops sessions of this project may send (`engine.client_policy`), read from the
    project's economy at most once a second per replica."""
    cache: dict[tuple[str, str], tuple[float, frozenset[str]]] | None = getattr(
        connection.app.state, "client_policies", None
    )
    if cache is None:
        cache = connection.app.state.client_policies = {}
    now = time.monotonic()
    cached = cache.get((tenant, project))
    if cached is not None and now - cached[0] < POLICY_TTL_S:
        return cached[1]
    version = await latest_version(backend.store, tenant, project)
    allow = client_allow(None if version is None else version.document)
    cache[(tenant, project)] = (now, allow)
    return allow
