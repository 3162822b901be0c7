"""What `ludex serve` answers while it starts: until the real app is deployed, Serve's proxy
would answer a plain-text 404 to every path, which no client retries. A placeholder takes the
app's place first (`serve/launcher.py` deploys it before the shard hosts and replaces it with the
real app once they are up), so a client that calls too early gets 503 `starting` with
`Retry-After`, which the SDKs retry like any 503. Liveness (`/v1/health`) answers 200 with status
`starting` (the process is alive); readiness and every other route answer the problem; a
WebSocket is closed with 1013 (try again later)."""

from __future__ import annotations

import uuid
from typing import Any

from ray import serve
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from config.settings import Settings
from serve.problems import PROBLEM_BASE, PROBLEM_JSON, title_of

STARTING = "starting"
RETRY_AFTER_S = 2
TRY_AGAIN_LATER = 1013  # RFC 6455: the server is overloaded or not ready; reconnect later


def starting_problem(request: Request) -> JSONResponse:
    """503 `starting`, shaped as every Ludex problem is."""
    body = {
        "type": PROBLEM_BASE + STARTING,
        "title": title_of(STARTING),
        "status": 503,
        "detail": "the server is starting; retry after Retry-After",
        "instance": request.url.path,
        "requestId": request.headers.get("x-request-id") or uuid.uuid4().hex,
    }
    return JSONResponse(body, status_code=503, media_type=PROBLEM_JSON, headers={"Retry-After": str(RETRY_AFTER_S)})


async def liveness(request: Request) -> JSONResponse:
    return JSONResponse({"status": STARTING})


async def anything(request: Request) -> JSONResponse:
    return starting_problem(request)


async def socket(websocket: WebSocket) -> None:
    await websocket.close(TRY_AGAIN_LATER)


METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
starting_app = Starlette(
    routes=[
        Route("/v1/health", liveness),
        WebSocketRoute("/{path:path}", socket),
        Route("/{path:path}", anything, methods=METHODS),
    ]
)


def build_starting_application(settings: Settings) -> Any:
    """The placeholder, deployed under the real ingress's name: the real app replaces it as a new
    version of the same deployment, so the route never disappears in between."""

    @serve.deployment(name=f"{settings.deployment}-ingress", num_replicas=1, ray_actor_options={"num_cpus": 0})
    @serve.ingress(starting_app)
    class LudexStarting:
        """Answers `starting` until the real ingress replaces it."""

    return LudexStarting.bind()  # type: ignore[attr-defined]


class StartingBeforeTheApp:
    """Proxy middleware for the moments no app is deployed at all (before the placeholder, while
    Serve swaps deployments, after a restart): Serve's proxy then answers a plain-text 404 of its
    own. Every path belongs to the app (route prefix `/`), whose 404s are problem+json, so a 404
    that is not one is the proxy's and becomes 503 `starting`."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        replaced = False

        async def guarded(message: Any) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start" and message["status"] == 404 and not _is_problem(message):
                replaced = True
                await starting_problem(Request(scope))(scope, receive, send)
            elif not replaced:  # the proxy's own body is dropped with its 404
                await send(message)

        await self.app(scope, receive, guarded)


def _is_problem(start: Any) -> bool:
    return any(
        name.lower() == b"content-type" and value.startswith(PROBLEM_JSON.encode())
        for name, value in start.get("headers", [])
    )
