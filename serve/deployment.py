"""The Ray Serve deployment hosting the FastAPI app."""

from __future__ import annotations

from typing import Any

from ray import serve

from config.logging import configure_logging
from config.settings import Settings
from serve.app import create_app
from serve.tracing import configure_tracing

APP_NAME = "ludex"


def build_application(settings: Settings, *, replicas: int = 1) -> Any:
    app = create_app(settings)
    app.state.proxy_sets_request_id = True  # Serve's proxy echoes or makes x-request-id itself

    @serve.deployment(
        name=f"{settings.deployment}-ingress",
        num_replicas=replicas,
        ray_actor_options={"num_cpus": 0},
        # A realtime socket holds a Serve request slot for its whole life: sockets get slots of
        # their own (`realtime_max_connections`, enforced by the app) on top of the HTTP ones, so
        # idle sockets can never take the ingress's HTTP capacity.
        max_ongoing_requests=settings.http_max_ongoing_requests + settings.realtime_max_connections,
        # The app writes one JSON access line per request (with tenant, route and request id);
        # Serve's own access line would double the logging cost on the hot path.
        logging_config={"enable_access_log": False},
    )
    @serve.ingress(app)
    class LudexIngress:
        """Transport only: every request is handled by the FastAPI app."""

        def __init__(self) -> None:
            configure_logging()
            configure_tracing(settings)

    return LudexIngress.bind()  # type: ignore[attr-defined]
