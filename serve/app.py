"""The FastAPI app: routers, problem handlers, request ids and HTTP metrics."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import Counter, Histogram

from config.settings import Settings
from serve import realtime
from serve.api import (
    admin,
    auth,
    batch,
    client,
    events,
    health,
    inventory,
    members,
    players,
    progress,
    reports,
    store,
    usage,
    wallet,
    webhooks,
)
from serve.backend import BackendHolder
from serve.problems import install_problem_handlers
from serve.ratelimit import LocalRateLimiter, RedisRateLimiter
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


async def request_context(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Request id, HTTP metrics and the access log. Module-level on purpose: Serve pickles the
    app, and a nested function would carry copies of the metrics instead of the replica's."""
    request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
    request.state.request_id = request_id
    started = time.perf_counter()
    with request_span(request) as span:
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        if span is not None:
            span.set_attribute("http.route", route)
            span.set_attribute("http.response.status_code", response.status_code)
    elapsed = time.perf_counter() - started
    LATENCY.labels(request.method, route).observe(elapsed)
    REQUESTS.labels(request.method, route, str(response.status_code)).inc()
    if access_log.isEnabledFor(logging.INFO):
        params = request.path_params
        access_log.info(
            "%s %s %s",
            request.method,
            request.url.path,
            response.status_code,
            extra={
                "requestId": request.state.request_id,
                "tenantId": request.headers.get("x-tenant-id"),
                "projectId": params.get("projectId"),
                "playerId": params.get("playerId"),
                "method": request.method,
                "route": route,
                "status": response.status_code,
                "durationMs": round(elapsed * 1000, 2),
            },
        )
    response.headers.update(getattr(request.state, "rate_limit_headers", {}))
    if not request.app.state.proxy_sets_request_id:
        response.headers["x-request-id"] = request.state.request_id
    return response


def create_app(settings: Settings | None = None) -> FastAPI:
    app = FastAPI(
        title="Ludex",
        version="1.0.0",
        description=DESCRIPTION,
        openapi_url="/v1/openapi.json",
        docs_url="/v1/docs",
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
    install_problem_handlers(app)
    for module in (
        health,
        auth,
        players,
        wallet,
        inventory,
        progress,
        store,
        batch,
        admin,
        usage,
        client,
        members,
        reports,
        events,
        realtime,
        webhooks,
    ):
        app.include_router(module.router)

    app.middleware("http")(request_context)
    return app
