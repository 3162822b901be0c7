"""What the ingress does for every answer before any backend is involved: bodies are capped,
security headers are set, readiness keeps store errors to the log, and `/metrics` can require a
token. Runs the real app over ASGI; the store it points at is unreachable on purpose."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from config.settings import Settings
from serve.app import create_app

UNREACHABLE_MONGO = "mongodb://ludex:hunter2@127.0.0.1:9/?serverSelectionTimeoutMS=300&connectTimeoutMS=300"


def client(settings: Settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings)), base_url="http://ludex")


async def test_a_declared_body_over_the_cap_is_refused_with_413_before_it_is_read(tmp_path: object) -> None:
    async with client(Settings(max_body_bytes=4096)) as http:
        answer = await http.post(
            "/v1/projects/demo/players",
            content=b'{"username": "' + b"a" * 10_000 + b'"}',
            headers={"content-type": "application/json", "x-tenant-id": "demo", "x-api-key": "k"},
        )
    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"].endswith("/payload-too-large") and "4096" in answer.json()["detail"]


async def test_a_chunked_body_is_cut_off_once_it_passes_the_cap() -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"username": "'
        for _ in range(100):
            sent += 1
            yield b"a" * 1024
        yield b'"}'

    async with client(Settings(max_body_bytes=4096)) as http:
        answer = await http.post(
            "/v1/projects/demo/players",
            content=chunks(),
            headers={"content-type": "application/json", "x-tenant-id": "demo", "x-api-key": "k"},
        )
    assert answer.status_code == 413
    assert answer.json()["type"].endswith("/payload-too-large")


async def test_every_answer_carries_the_security_headers() -> None:
    async with client(Settings()) as http:
        health = await http.get("/v1/health")
        docs = await http.get("/v1/docs")
        missing = await http.get("/v1/nothing-here")
    for answer in (health, docs, missing):
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "no-referrer"
    assert health.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in docs.headers["content-security-policy"]
    assert docs.headers["x-frame-options"] == "DENY"
    assert "content-security-policy" not in health.headers


async def test_readiness_does_not_echo_the_store_error(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="ludex.health"):
        async with client(Settings(mongo_url=UNREACHABLE_MONGO)) as http:
            answer = await http.get("/v1/health/ready")
    assert answer.status_code == 503
    assert answer.json()["detail"] == "the store is not reachable"
    assert "127.0.0.1:9" not in answer.text and "hunter2" not in answer.text
    assert any("127.0.0.1:9" in record.getMessage() for record in caplog.records)  # the operator still sees why


async def test_metrics_need_the_token_when_one_is_set() -> None:
    async with client(Settings(metrics_token="scrape-me", mongo_url=UNREACHABLE_MONGO)) as http:
        anonymous = await http.get("/metrics")
        wrong = await http.get("/metrics", headers={"authorization": "Bearer nope"})
        scraper = await http.get("/metrics", headers={"authorization": "Bearer scrape-me"})
    assert anonymous.status_code == 401 and wrong.status_code == 401
    assert scraper.status_code == 200 and "ludex_http_requests_total" in scraper.text


async def test_sign_ins_past_the_per_address_limit_are_refused_before_any_password_work() -> None:
    """The bucket of this client address is drained as a flood would; the next attempt is a 429
    without reaching the accounts (whose store, here, is unreachable on purpose)."""
    settings = Settings(login_rate_per_ip_per_s=1, mongo_url=UNREACHABLE_MONGO)
    app = create_app(settings)
    limiter = app.state.rate_limiter
    while (await limiter.hit("login-ip:127.0.0.1", 1, tenant=("login:all", settings.login_rate_per_s))).allowed:
        pass
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://ludex") as http:
        answer = await http.post("/v1/auth/login", json={"email": "a@example.com", "password": "x" * 12})
    assert answer.status_code == 429
    assert answer.json()["type"].endswith("/login-throttled") and int(answer.headers["Retry-After"]) >= 1
