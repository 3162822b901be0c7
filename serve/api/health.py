"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import hmac
import logging

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from actors.cluster import webhook_stats
from serve.backend import Backend, backend
from serve.metrics import render
from serve.problems import ProblemError, problem_responses
from serve.schemas import Health

router = APIRouter(tags=["health"])
log = logging.getLogger("ludex.health")


@router.get("/v1/health", response_model=Health, summary="Liveness")
async def health() -> Health:
    """200 while the process serves HTTP."""
    return Health(status="ok")


@router.get("/v1/health/ready", response_model=Health, responses=problem_responses(503), summary="Readiness")
async def ready(request: Request) -> Health:
    """200 only when the store answers and every shard host is up."""
    try:
        connected: Backend = await backend(request)
        await connected.store.get_document("tenants", "-")
    except Exception as error:  # noqa: BLE001 - any failure means not ready
        # The reason goes to the log, not to whoever probes: store errors name hosts and users.
        log.warning("readiness: the store is not reachable: %s", error)
        raise ProblemError("not-ready", "the store is not reachable") from error
    if not await connected.directory.ready():
        raise ProblemError("not-ready", "a shard host is not up")
    return Health(status="ready", shards=len(connected.directory.handles))


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """Prometheus text: the ingress's HTTP metrics and every shard host's command, journal and
    entity metrics (pulled at scrape time). With `LUDEX_METRICS_TOKEN` set, only a scraper that
    sends it as a bearer token reads them."""
    expected = request.app.state.backend_holder.settings.metrics_token
    if expected is not None:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
            raise ProblemError("missing-token", "GET /metrics needs the metrics bearer token")
    try:
        connected = await backend(request)
        snapshots = await connected.directory.stats()
        webhooks = await webhook_stats(connected.settings.deployment)
    except Exception:  # noqa: BLE001 - a scrape must still show the ingress's own metrics
        snapshots, webhooks = [], None
    return Response(render(snapshots, webhooks), media_type=CONTENT_TYPE_LATEST)
