"""Who is calling: the tenant header and the game API key with its scopes. Order of checks:
tenant header (400), key present and valid (401), project of that tenant (404, never revealing
another tenant's data), key of that project with the scope (403), then the key's rate limit
(429 `rate-limited`). An admitted call counts as one request of its tenant's month; its commands
then go through `serve.commanding.execute`, which decides the month's quota (429
`quota-exceeded`) and counts the events they produced. A route that runs commands asks for the
scope they declare (`require_to_run`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from actors.ingress.metering import Metering
from actors.ingress.player_sessions import PlayerSession
from engine.access import ApiKey
from engine.commands import Command
from engine.quotas import Usage
from serve.backend import Backend, backend
from serve.player_sessions import admit_session, own_player, policy_of, session_key
from serve.problems import ProblemError
from serve.project_admission import SAFE_METHODS, check_project
from serve.ratelimit import rate_limit_headers

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$"
api_key_header = APIKeyHeader(
    name="x-api-key", auto_error=False, description="A project API key: `ldx_<prefix>_<secret>`."
)
player_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="PlayerSession",
    bearerFormat="JWT",
    description="A player session's access token (`POST /v1/projects/{projectId}/auth/device|custom|refresh`):"
    " its own player only (`me`), reads and the commands the economy's `clientPolicy` allows.",
)


@dataclass(frozen=True)
class Caller:
    """An admitted game API call: whose, with which key, and the tenant's plan and month's usage
    as counted on admission (the command path decides the quota from them)."""

    tenant: str
    project: str
    key: ApiKey
    backend: Backend
    metering: Metering
    plan: dict[str, Any] | None
    usage: Usage
    # A player session's call (None: a key's): its player, and the ops its project's client
    # policy lets it send (`serve.commanding.execute` decides from them).
    session: PlayerSession | None = None
    client_allow: frozenset[str] = frozenset()


def metering(request: HTTPConnection, backend: Backend) -> Metering:
    """The replica's usage meter and plan cache, made on first use (Redis when configured);
    shared by HTTP requests and realtime sockets."""
    found: Metering | None = getattr(request.app.state, "metering", None)
    if found is None:
        found = Metering.for_deployment(backend.store, backend.settings.redis_url)
        request.app.state.metering = found
    return found


async def tenant_id(
    x_tenant_id: Annotated[
        str, Header(description="The tenant the call acts for.", examples=["demo"], max_length=64)
    ] = None,  # type: ignore[assignment]  # checked below (400 `missing-tenant`); no `null` in the OpenAPI
) -> str:
    if not x_tenant_id:
        raise ProblemError("missing-tenant", "the x-tenant-id header is required")
    return x_tenant_id


ProjectId = Annotated[str, Path(pattern=ID_PATTERN, description="The project's id.", examples=["demo"])]
PlayerId = Annotated[str, Path(pattern=ID_PATTERN, description="The player's id.", examples=["player-1"])]


async def admit_key(
    backend: Backend, token: str, tenant: str, project: str, scope: str | None, *, write: bool = False
) -> ApiKey:
    """The key `token` names if it may act on that tenant's live project with `scope` (any when
    None), and write to it when `write` (a read-only tenant: 403 `tenant-read-only`); else the
    problem saying why. Shared by HTTP routes and the realtime WebSocket."""
    key, found, tenant_document = await backend.control.admission(token, tenant, project)
    if key is None:
        raise ProblemError("invalid-api-key", "the API key is unknown, revoked or expired")
    if key.tenant_id != tenant:
        # Decided before what was read of the project is used, so a key cannot probe another
        # tenant's projects.
        raise ProblemError("wrong-project", "the API key belongs to another tenant's project")
    check_project(found, tenant_document, tenant, project, write=write)
    if key.project_id != project:
        raise ProblemError("wrong-project", "the API key belongs to another project")
    if scope is not None and scope not in key.scopes:
        raise missing_scope(scope)
    return key


def missing_scope(scope: str) -> ProblemError:
    return ProblemError("insufficient-scope", f"the API key lacks the '{scope}' scope")


def require(scope: str | None, *, sessions: bool = False) -> Callable[..., Awaitable[Caller]]:
    """A dependency admitting keys of the path's project with `scope` (any scope when None), and
    player sessions on the routes of one player (a `playerId` in the path: their own) or, with
    `sessions`, on a route every session may use (leaderboard pages, the catalog, batches)."""

    async def caller(
        request: Request,
        projectId: ProjectId,
        tenant: Annotated[str, Depends(tenant_id)],
        token: Annotated[str | None, Depends(api_key_header)],
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(player_bearer)],
        backend: Annotated[Backend, Depends(backend)],
    ) -> Caller:
        if not token and bearer is not None and bearer.credentials:
            return await session_caller(request, backend, bearer.credentials, tenant, projectId, sessions)
        if not token:
            raise ProblemError(
                "missing-api-key", "the x-api-key header (or a player session's bearer token) is required"
            )
        key = await admit_key(backend, token, tenant, projectId, scope, write=request.method not in SAFE_METHODS)
        meter = metering(request, backend)
        plan = await meter.plans.plan_of(tenant)
        await charge(request, tenant, key, plan, 1)
        usage = await meter.count_request(tenant)
        return Caller(tenant, projectId, key, backend, meter, plan, usage)

    return caller


async def session_caller(
    request: Request, backend: Backend, token: str, tenant: str, project: str, anywhere: bool
) -> Caller:
    """A player session's call (`serve.player_sessions`), charged to the session's own bucket."""
    session = await admit_session(request, backend, token, tenant, project, write=request.method not in SAFE_METHODS)
    if not anywhere and "playerId" not in request.path_params:
        raise ProblemError("not-client-callable", "this route is for server keys; a player session may not call it")
    own_player(request, session)
    key = session_key(session, backend.settings.player_session_rate_per_s)
    meter = metering(request, backend)
    plan = await meter.plans.plan_of(tenant)
    await charge(request, tenant, key, plan, 1)
    usage = await meter.count_request(tenant)
    allow = await policy_of(request, backend, tenant, project)
    return Caller(tenant, project, key, backend, meter, plan, usage, session, allow)


def require_to_run(*commands: type[Command]) -> Callable[..., Awaitable[Caller]]:
    """`require` with the scope these commands declare (`Command.scope`), which must be one:
    a route's key is checked before its rate limit is spent, as for any route."""
    scopes = {command.scope for command in commands}
    if len(scopes) != 1:
        raise ValueError(f"commands of one route need one scope, not {sorted(scopes)}")
    return require(scopes.pop())


async def charge(request: HTTPConnection, tenant: str, key: ApiKey, plan: dict[str, Any] | None, cost: int) -> None:
    """Takes `cost` tokens from the key's bucket (its own rate, else its plan's, else the
    deployment default) and from the tenant's (its plan's rate, else the default), shared by all
    the tenant's keys; 429 `rate-limited` when either is short."""
    plan_rate = (plan or {}).get("apiRequestsPerSecond")
    per_second = key.rate_limit_per_second or plan_rate
    decision = await request.app.state.rate_limiter.hit(key.id, per_second, cost=cost, tenant=(tenant, plan_rate))
    request.state.rate_limit_headers = rate_limit_headers(decision)
    if not decision.allowed:
        what = f"{cost} requests' worth" if cost > 1 else "a request"
        raise ProblemError(
            "rate-limited",
            f"the rate limit (burst {decision.limit}, key and tenant together) has no room for {what}",
            headers={"Retry-After": str(decision.retry_after_s)},
        )
