"""The FastAPI app: routers, problem handlers, request ids and HTTP metrics."""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import FastAPI, Request
from prometheus_client import Counter, Histogram
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from config.settings import Settings
from serve import background, webui
from serve.api import (
    admin,
    batch,
    billing,
    client,
    client_leaderboards,
    dashboard_login,
    economy_health,
    economy_whatif,
    events,
    flags,
    health,
    inventory,
    leaderboards,
    members,
    player_auth,
    player_lookup,
    player_moderation,
    players,
    privacy,
    progress,
    remediations,
    reports,
    retention,
    shards,
    store,
    usage,
    wallet,
    webhooks,
)
from serve.backend import BackendHolder
from serve.body_limit import BodyLimit
from serve.content_policy import policy_for
from serve.player_origins import PlayerOrigins
from serve.problems import install_problem_handlers
from serve.ratelimit import LocalRateLimiter, RedisRateLimiter
from serve.realtime import route as realtime
from serve.request_ids import accepted_request_id
from serve.tracing import request_span

DESCRIPTION = """
The Ludex game API: players, progression, wallets, items, counters, quests, achievements,
the store and batches. Every economy-changing POST accepts an `Idempotency-Key` header (or an
`idempotencyKey` body field; the header wins): the same key with the same body answers the
original status and body again with `Idempotent-Replayed: true`; with another body, 422
`idempotency-key-reused`. Errors are RFC 9457 `application/problem+json`.
"""

access_log = logging.getLogger("ludex.http")
REQUESTS = Counter("ludex_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "ludex_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)


# Metric children per label values: `labels()` builds and looks up a key under a lock each call.
_latency_of: dict[tuple[str, str], Any] = {}
_requests_of: dict[tuple[str, str, int], Any] = {}


class RequestContext:
    """Request id, HTTP metrics and the access log, as plain ASGI middleware (Starlette's
    `BaseHTTPMiddleware` runs every request in an extra task and stream, which costs a hot path
    measurably). Module-level on purpose: Serve pickles the app, and a nested function would carry
    copies of the metrics instead of the replica's."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        request_id = accepted_request_id(request.headers.get("x-request-id"))
        request.state.request_id = request_id
        sets_request_id = not scope["app"].state.proxy_sets_request_id
        status = 500
        started = time.perf_counter()

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in getattr(request.state, "rate_limit_headers", {}).items():
                    headers[name] = value
                if sets_request_id:
                    headers["x-request-id"] = request_id
                _secure(headers, scope["path"], request.headers.get("host"))
            await send(message)

        with request_span(request) as span:
            try:
                await self.app(scope, receive, send_with_headers)
            finally:
                route = getattr(scope.get("route"), "path", "unmatched")
                if span is not None:
                    span.set_attribute("http.route", route)
                    span.set_attribute("http.response.status_code", status)
                self._record(request, route, status, time.perf_counter() - started)

    @staticmethod
    def _record(request: Request, route: str, status: int, elapsed: float) -> None:
        method = request.method
        latency = _latency_of.get((method, route))
        if latency is None:
            latency = _latency_of[(method, route)] = LATENCY.labels(method, route)
        latency.observe(elapsed)
        requests = _requests_of.get((method, route, status))
        if requests is None:
            requests = _requests_of[(method, route, status)] = REQUESTS.labels(method, route, str(status))
        requests.inc()
        if not access_log.isEnabledFor(logging.INFO):
            return
        params = request.path_params
        access_log.info(
            "%s %s %s",
            request.method,
            request.url.path,
            status,
            extra={
                "requestId": request.state.request_id,
                "tenantId": request.headers.get("x-tenant-id"),
                "projectId": params.get("projectId"),
                "playerId": params.get("playerId"),
                "method": request.method,
                "route": route,
                "status": status,
                "durationMs": round(elapsed * 1000, 2),
            },
        )


def _secure(headers: MutableHeaders, path: str, host: str | None) -> None:
    """Headers every answer carries: no MIME sniffing, no referrer leaking ids, no framing of
    pages, and nothing an API answer holds (tokens, keys, secrets, player data) kept by a cache."""
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    if "cache-control" not in headers and path.startswith("/v1/"):
        headers["Cache-Control"] = "no-store"
    if headers.get("content-type", "").startswith("text/html"):
        headers["Content-Security-Policy"] = policy_for(path, host)
        headers["X-Frame-Options"] = "DENY"


def create_app(settings: Settings | None = None) -> FastAPI:
    app = FastAPI(
        lifespan=background.lifespan,
        title="Ludex",
        version="1.0.0",
        description=DESCRIPTION,
        openapi_url="/v1/openapi.json",
        docs_url=None,  # serve.webui serves /v1/docs from packaged assets (works offline)
        redoc_url=None,
    )
    settings = settings or Settings()
    app.state.backend_holder = BackendHolder(settings)
    app.state.rate_limiter = (
        RedisRateLimiter(settings.redis_url, settings.default_rate_limit_per_s)
        if settings.redis_url
        else LocalRateLimiter(settings.default_rate_limit_per_s)
    )
    app.state.proxy_sets_request_id = False
    app.state.tracing_enabled = settings.tracing_enabled
    install_problem_handlers(app)
    for module in (
        health,
        dashboard_login,
        player_auth,
        players,
        wallet,
        inventory,
        progress,
        flags,
        leaderboards,
        store,
        batch,
        admin,
        retention,
        shards,
        usage,
        billing,
        client,
        members,
        player_lookup,
        player_moderation,
        client_leaderboards,
        privacy,
        economy_whatif,
        remediations,
        economy_health,  # before `reports`: its path is more specific than reports/{report}
        reports,
        events,
        realtime,
        webhooks,
    ):
        app.include_router(module.router)
    app.include_router(player_auth.devices)
    webui.install(app)

    app.add_middleware(PlayerOrigins)  # inside RequestContext: its refusals carry the request id
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContext)
    return app
