"""Optional OpenTelemetry tracing (`LUDEX_TRACING_ENABLED=true`): one server span per request,
with the request id, tenant, project and route as attributes. Which exporter receives the spans
is the operator's choice through OpenTelemetry's own setup (e.g. `opentelemetry-instrument`
and `OTEL_*` variables); `LUDEX_TRACING_CONSOLE=true` prints them, for a quick look."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

from fastapi import Request

from config.settings import Settings


def configure_tracing(settings: Settings) -> None:
    if not (settings.tracing_enabled and settings.tracing_console):
        return
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)


def request_span(request: Request) -> AbstractContextManager[Any]:
    """A span when the app was built with `LUDEX_TRACING_ENABLED` (`app.state.tracing_enabled`)."""
    if not request.app.state.tracing_enabled:
        return nullcontext()
    from opentelemetry import trace

    return trace.get_tracer("ludex.http").start_as_current_span(
        f"{request.method} {request.url.path}",
        kind=trace.SpanKind.SERVER,
        attributes={
            "http.request.method": request.method,
            "url.path": request.url.path,
            "ludex.request_id": request.state.request_id,
            "ludex.tenant_id": request.headers.get("x-tenant-id") or "",
        },
    )
