"""The placeholder `ludex serve` deploys while it starts (`serve/starting.py`): every route answers
503 problem `starting` with `Retry-After` (never a bare 404, which no client retries), liveness
answers 200, and a WebSocket is told to come back later (1013)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from serve.problems import PROBLEM_BASE, PROBLEM_JSON
from serve.starting import TRY_AGAIN_LATER, starting_app


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
