"""CORS for browser and WebGL games, per project: nothing is allowed by default; a project lists
its `allowedOrigins` (backoffice `PATCH /v1/client/projects/{projectId}/player-auth`).

Only the game API (`/v1/projects/{projectId}/...`) is concerned. A preflight carries no
`x-tenant-id`, so it is answered (204 with the CORS headers) when a project of that id, of any
tenant, allows the origin, and refused otherwise (403 `origin-not-allowed`). The call itself then
gets `Access-Control-Allow-Origin` only when *its* tenant's project allows the origin, so a
browser never hands another tenant's answer to the page. Requests without `Origin` (servers,
SDKs outside browsers) pass untouched. The lists are read once a second per replica and
project. Plain ASGI middleware, as `serve.app.RequestContext`: no extra task per request."""

from __future__ import annotations

import re
import time
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serve.player_sessions import player_sessions
from serve.problems import ProblemError, problem_response

GAME_PATH = re.compile(r"^/v1/projects/([A-Za-z0-9][A-Za-z0-9_.:@-]{0,63})/")
CACHE_S = 1.0
ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE"
ALLOW_HEADERS = "authorization, content-type, x-tenant-id, x-api-key, idempotency-key, x-request-id"
EXPOSE_HEADERS = "ratelimit-limit, ratelimit-remaining, ratelimit-reset, retry-after, idempotent-replayed, x-request-id"


class PlayerOrigins:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin = _header(scope, b"origin")
        found = GAME_PATH.match(scope["path"]) if origin else None
        if origin is None or found is None:
            await self.app(scope, receive, send)
            return
        project = found.group(1)
        by_tenant = await _origins(scope, project)
        if scope["method"] == "OPTIONS" and _header(scope, b"access-control-request-method"):
            await _preflight(scope, receive, send, origin, any(origin in allowed for allowed in by_tenant.values()))
            return
        tenant = _header(scope, b"x-tenant-id")
        allowed = tenant is not None and origin in by_tenant.get(tenant, [])

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.append("Vary", "Origin")
                if allowed:
                    headers["Access-Control-Allow-Origin"] = origin
                    headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_cors)


async def _preflight(scope: Scope, receive: Receive, send: Send, origin: str, allowed: bool) -> None:
    request = Request(scope, receive)
    response: Response
    if not allowed:
        refusal = ProblemError("origin-not-allowed", f"no project '{_project(scope)}' allows the origin {origin}")
        response = problem_response(request, refusal, {"Vary": "Origin"})
    else:
        response = Response(
            status_code=204,
            headers={
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": ALLOW_METHODS,
                "Access-Control-Allow-Headers": ALLOW_HEADERS,
                "Access-Control-Max-Age": "600",
                "Vary": "Origin",
            },
        )
    await response(scope, receive, send)


def _project(scope: Scope) -> str:
    found = GAME_PATH.match(scope["path"])
    return "" if found is None else found.group(1)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            decoded: str = value.decode("latin-1")
            return decoded
    return None


async def _origins(scope: Scope, project: str) -> dict[str, list[str]]:
    """Every tenant's allowed origins for projects of this id, read at most once a second."""
    app: Any = scope["app"]
    cache: dict[str, tuple[float, dict[str, list[str]]]] | None = getattr(app.state, "player_origins", None)
    if cache is None:
        cache = app.state.player_origins = {}
    now = time.monotonic()
    cached = cache.get(project)
    if cached is not None and now - cached[0] < CACHE_S:
        return cached[1]
    backend = await app.state.backend_holder.get()
    found = await player_sessions(Request(scope), backend).origins_of(project)
    cache[project] = (now, found)
    return found


def forget_origins(request: Request, project: str) -> None:
    """Drops this replica's cached origins of the project (after a change of them)."""
    cache: dict[str, Any] | None = getattr(request.app.state, "player_origins", None)
    if cache is not None:
        cache.pop(project, None)
