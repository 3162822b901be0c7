"""Revocation reaches an open command stream within a second, as it reaches HTTP at once: a key
revoked, its tenant suspended or its project deleted over the backoffice API, and the very next
command on a socket opened before is refused and the socket closed (4401, the reason named),
while the key re-check of `LUDEX_REALTIME_RECHECK_S` (30 s) is far away."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from actors.directory import ShardDirectory
from serve.launcher import Launched
from tests.e2e.conftest import Api
from tests.e2e.helpers import unique
from tests.e2e.test_command_stream import results, send, stream

PROMISED_S = 1.0  # what docs/SECURITY.md promises: a revocation reaches open sockets within it


@pytest.fixture
def tenant_key(ludex: Launched, control_plane: Any, demo_economy_document: dict[str, Any]) -> Iterator[dict[str, str]]:
    """A fresh tenant with project `game` on the demo economy and an all-scope key (its id too)."""
    tenant = unique("revoked")
    control_plane.ensure_tenant(tenant, "Revoked Games")
    control_plane.ensure_project(tenant, "game", "Game")
    outcome = asyncio.run(ShardDirectory.connect(ludex.settings).define_economy(tenant, "game", demo_economy_document))
    assert outcome.ok, outcome
    key, token = control_plane.create_api_key(tenant, "game", "stream")
    created = Api(ludex.base_url, tenant, "game", str(token)).post("/players", {"playerId": "p1", "username": "p1"})
    assert created.status_code == 201, created.text
    yield {"x-api-key": str(token), "x-tenant-id": tenant, "x-project-id": "game", "id": key.id}


def after_the_change(ws: ClientConnection) -> tuple[list[dict[str, Any]], int | None]:
    """Every message the server sends after one more command, up to its close, and the close code."""
    send(ws, "after", "credit", "p1", currency="coins", amount=5)
    messages: list[dict[str, Any]] = []
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            messages.append(json.loads(ws.recv(timeout=15)))
    received = closed.value.rcvd
    return messages, None if received is None else received.code


def revoke(admin: httpx.Client, creds: dict[str, str]) -> None:
    answer = admin.post(
        f"/v1/client/projects/game/api-keys/{creds['id']}/revoke", headers={"x-tenant-id": creds["x-tenant-id"]}
    )
    assert answer.status_code == 200, answer.text


def suspend(admin: httpx.Client, creds: dict[str, str]) -> None:
    answer = admin.patch(f"/v1/admin/tenants/{creds['x-tenant-id']}", json={"suspended": True})
    assert answer.status_code == 200, answer.text


def delete_project(admin: httpx.Client, creds: dict[str, str]) -> None:
    answer = admin.delete("/v1/client/projects/game", headers={"x-tenant-id": creds["x-tenant-id"]})
    assert answer.status_code == 204, answer.text


@pytest.mark.parametrize(
    ("change", "error", "status"),
    [(revoke, "key_revoked", 401), (suspend, "tenant_suspended", 403), (delete_project, "project_deleted", 404)],
    ids=["revoked-key", "suspended-tenant", "deleted-project"],
)
def test_the_next_command_after_a_revocation_is_refused_and_the_socket_closed(
    ludex: Launched,
    admin: httpx.Client,
    tenant_key: dict[str, str],
    change: Callable[[httpx.Client, dict[str, str]], None],
    error: str,
    status: int,
) -> None:
    creds = {name: value for name, value in tenant_key.items() if name != "id"}
    with stream(ludex.base_url, creds) as ws:
        send(ws, "before", "credit", "p1", currency="coins", amount=5)
        (before,) = results(ws, 1)
        assert before["ok"], before
        change(admin, tenant_key)
        time.sleep(PROMISED_S)
        messages, code = after_the_change(ws)
    assert code == 4401, (code, messages)
    assert not any(m.get("ok") for m in messages), f"a command ran after the change: {messages}"
    assert messages[-1] == {"type": "error", "error": error}, messages
    refused = [m for m in messages if m["type"] == "result"]
    assert all(m["status"] == status for m in refused), refused
    http = httpx.get(
        f"{ludex.base_url}/v1/projects/game/players/p1/wallet",
        headers={"x-tenant-id": creds["x-tenant-id"], "x-api-key": creds["x-api-key"]},
    )
    assert http.status_code == status, http.text  # what HTTP answered at once
