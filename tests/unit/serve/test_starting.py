"""The placeholder `ludex serve` deploys while it starts (`serve/starting.py`): every route answers
503 problem `starting` with `Retry-After` (never a bare 404, which no client retries), liveness
answers 200, and a WebSocket is told to come back later (1013)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from serve.problems import PROBLEM_BASE, PROBLEM_JSON
from serve.starting import TRY_AGAIN_LATER, StartingBeforeTheApp, starting_app


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/projects/demo/players/p1/wallet"),
        ("POST", "/v1/projects/demo/commands"),
        ("GET", "/v1/health/ready"),
    ],
)
async def test_every_route_answers_503_starting_with_retry_after(method: str, path: str) -> None:
    transport = httpx.ASGITransport(app=starting_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ludex") as client:
        answer = await client.request(method, path, headers={"x-request-id": "req-1"})
    assert answer.status_code == 503
    assert answer.headers["content-type"].startswith(PROBLEM_JSON)
    assert int(answer.headers["retry-after"]) >= 1
    body = answer.json()
    assert body["type"] == PROBLEM_BASE + "starting" and body["status"] == 503
    assert (body["instance"], body["requestId"]) == (path, "req-1")


async def test_liveness_says_the_process_is_alive_and_starting() -> None:
    transport = httpx.ASGITransport(app=starting_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ludex") as client:
        answer = await client.get("/v1/health")
    assert (answer.status_code, answer.json()) == (200, {"status": "starting"})


async def test_a_websocket_is_told_to_come_back_later() -> None:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "websocket", "path": "/v1/realtime", "headers": [], "query_string": b"", "root_path": ""}
    await starting_app(scope, receive, send)
    assert [(m["type"], m.get("code")) for m in sent] == [("websocket.close", TRY_AGAIN_LATER)]


def answering(status: int, content_type: bytes, body: bytes) -> Any:
    """An ASGI app that answers one fixed response, as Serve's proxy does for an unrouted path."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", content_type)]})
        await send({"type": "http.response.body", "body": body})

    return app


async def test_the_proxys_own_404_becomes_503_starting_before_any_app_is_deployed() -> None:
    proxy_404 = answering(404, b"text/plain; charset=utf-8", b"Path '/v1/x' not found. Ping /-/routes")
    transport = httpx.ASGITransport(app=StartingBeforeTheApp(proxy_404))
    async with httpx.AsyncClient(transport=transport, base_url="http://ludex") as client:
        answer = await client.get("/v1/x", headers={"x-request-id": "r-1"})
    assert answer.status_code == 503
    assert answer.headers["content-type"].startswith(PROBLEM_JSON)
    assert answer.headers["retry-after"] == "2"
    assert answer.json()["type"] == PROBLEM_BASE + "starting" and answer.json()["requestId"] == "r-1"


@pytest.mark.parametrize(
    ("status", "content_type"), [(404, PROBLEM_JSON.encode()), (200, b"application/json"), (500, b"text/plain")]
)
async def test_the_apps_own_answers_pass_the_proxy_unchanged(status: int, content_type: bytes) -> None:
    transport = httpx.ASGITransport(app=StartingBeforeTheApp(answering(status, content_type, b"{}")))
    async with httpx.AsyncClient(transport=transport, base_url="http://ludex") as client:
        answer = await client.get("/v1/projects/demo/players/nobody")
    assert (answer.status_code, answer.headers["content-type"], answer.text) == (status, content_type.decode(), "{}")
