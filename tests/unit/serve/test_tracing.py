"""Tracing is off unless asked for, and on it makes one server span per request."""

from __future__ import annotations

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from serve.app import create_app

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))


async def get_health(headers: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://ludex") as client:
        return await client.get("/v1/health", headers=headers)


async def test_no_span_is_made_when_tracing_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LUDEX_TRACING_ENABLED", raising=False)
    monkeypatch.setattr(trace, "get_tracer", lambda *a, **k: pytest.fail("tracer used while tracing is off"))
    assert (await get_health({})).status_code == 200


async def test_each_request_makes_a_server_span_with_its_request_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LUDEX_TRACING_ENABLED", "true")
    monkeypatch.setattr(trace, "get_tracer", lambda name, *a, **k: provider.get_tracer(name))
    exporter.clear()
    response = await get_health({"x-request-id": "trace-me", "x-tenant-id": "t1"})
    assert response.status_code == 200 and response.headers["x-request-id"] == "trace-me"
    (span,) = exporter.get_finished_spans()
    assert span.kind == trace.SpanKind.SERVER
    assert span.attributes is not None
    assert span.attributes["ludex.request_id"] == "trace-me"
    assert span.attributes["ludex.tenant_id"] == "t1"
    assert span.attributes["http.route"] == "/v1/health"
    assert span.attributes["http.response.status_code"] == 200
