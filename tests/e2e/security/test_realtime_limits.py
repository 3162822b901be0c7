"""Hostile and careless realtime clients against a real `ludex serve` with small limits: connection
caps per key and tenant, message size and rate, bounded `since` replays scoped to the caller's
project, keys re-checked while a socket is open, credentials in the first message, sockets
metered in usage, and idle sockets that leave the HTTP capacity alone.

The server runs as its own `ludex serve` process (its settings come from `LUDEX_*` variables);
tenants, projects and keys are made with the Backoffice over its SQLite file, as an operator's
control plane would."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from actors.ingress.control_plane import Backoffice
from actors.stores.sqlite import SqliteStore
from engine.quotas import month_of
from tests.e2e.conftest import Api
from tests.e2e.helpers import login, new_player
from tests.e2e.test_cli import stop, wait_ready
from tests.e2e.test_realtime import award, receive, start_replicas, ws_url
from tests.support.services import free_port

PER_KEY, PER_TENANT, PER_REPLICA, HTTP_SLOTS = 3, 5, 8, 2
MAX_REPLAY, RECHECK_S, AUTH_TIMEOUT_S = 5, 1.0, 5.0
BURST, STRIKES = 5, 5
LIMITS = {
    "LUDEX_REALTIME_MAX_CONNECTIONS_PER_KEY": str(PER_KEY),
    "LUDEX_REALTIME_MAX_CONNECTIONS_PER_TENANT": str(PER_TENANT),
    "LUDEX_REALTIME_MAX_CONNECTIONS": str(PER_REPLICA),
    "LUDEX_HTTP_MAX_ONGOING_REQUESTS": str(HTTP_SLOTS),
    "LUDEX_REALTIME_MAX_REPLAY": str(MAX_REPLAY),
    "LUDEX_REALTIME_RECHECK_S": str(RECHECK_S),
    "LUDEX_REALTIME_AUTH_TIMEOUT_S": str(AUTH_TIMEOUT_S),
    "LUDEX_REALTIME_MESSAGES_PER_S": "2",
    "LUDEX_REALTIME_MESSAGE_BURST": str(BURST),
    "LUDEX_REALTIME_RATE_LIMIT_STRIKES": str(STRIKES),
}


@dataclass
class Server:
    base_url: str
    credentials: dict[str, str]
    backoffice: Backoffice
    loop: asyncio.AbstractEventLoop

    def run(self, awaitable: Any) -> Any:
        return self.loop.run_until_complete(awaitable)

    def tenant(self) -> tuple[str, str]:
        """A fresh tenant with one project."""
        tenant = f"t-{uuid.uuid4().hex[:8]}"
        self.run(self.backoffice.ensure_tenant(tenant, tenant))
        self.run(self.backoffice.ensure_project(tenant, "game", "Game"))
        return tenant, "game"

    def key(self, tenant: str, project: str) -> tuple[str, dict[str, str]]:
        """A fresh key's id and the realtime credentials it makes."""
        key, token = self.run(self.backoffice.create_api_key(tenant, project, f"k-{uuid.uuid4().hex[:6]}"))
        return key.id, {"x-api-key": token, "x-tenant-id": tenant, "x-project-id": project}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir, port = tmp_path_factory.mktemp("realtime-limits") / "data", free_port()
    base_url = f"http://127.0.0.1:{port}"
    process = start_replicas(data_dir, port, 1, **LIMITS)
    loop = asyncio.new_event_loop()
    store = SqliteStore(data_dir / "ludex.sqlite3")
    try:
        wait_ready(base_url, process)
        creds = json.loads((data_dir / "demo-credentials.json").read_text())
        loop.run_until_complete(store.open())
        yield Server(base_url, creds, Backoffice(store), loop)
    finally:
        loop.run_until_complete(store.close())
        loop.close()
        output, alive = stop(process)
        assert alive == [], output


def demo(server: Server) -> dict[str, str]:
    creds = server.credentials
    return {"x-api-key": creds["apiKey"], "x-tenant-id": creds["tenantId"], "x-project-id": creds["projectId"]}


def opened(server: Server, creds: dict[str, str], stack: ExitStack) -> ClientConnection:
    """A connection past `hello`, credentials in headers."""
    ws = stack.enter_context(connect(ws_url(server.base_url), additional_headers=creds, open_timeout=30))
    hello = receive(ws)
    assert hello["type"] == "hello", hello
    return ws


def refusal(ws: ClientConnection) -> tuple[list[dict[str, Any]], int | None]:
    """Every message up to the server's close, and the close code."""
    messages = []
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            messages.append(json.loads(ws.recv(timeout=15)))
    received = closed.value.rcvd
    return messages, received.code if received is not None else None


def refused(server: Server, creds: dict[str, str]) -> tuple[list[dict[str, Any]], int | None]:
    with connect(ws_url(server.base_url), additional_headers=creds, open_timeout=30) as ws:
        return refusal(ws)


# ---------------------------------------------------------------------------------- connections


def test_connections_are_capped_per_key_with_4429(server: Server) -> None:
    tenant, project = server.tenant()
    _, creds = server.key(tenant, project)
    with ExitStack() as stack:
        sockets = [opened(server, creds, stack) for _ in range(PER_KEY)]
        assert refused(server, creds) == ([{"type": "error", "error": "too_many_connections"}], 4429)
        _, other = server.key(tenant, project)
        opened(server, other, stack)  # another key of the tenant still gets in
        sockets[0].close()
        deadline = time.monotonic() + 10
        while True:  # the server releases the slot once it sees the close
            with connect(ws_url(server.base_url), additional_headers=creds, open_timeout=30) as ws:
                if receive(ws)["type"] == "hello":
                    break
            assert time.monotonic() < deadline, "the closed socket's slot was never released"
            time.sleep(0.2)


def test_opening_sockets_spends_the_keys_rate_limit(server: Server) -> None:
    tenant, project = server.tenant()
    _, token = server.run(server.backoffice.create_api_key(tenant, project, "slow", rate_limit_per_second=1))
    creds = {"x-api-key": token, "x-tenant-id": tenant, "x-project-id": project}
    outcomes = []
    for _ in range(8):  # a burst of 2 at 1/s: 8 back-to-back connects cannot all get in
        with connect(ws_url(server.base_url), additional_headers=creds, open_timeout=30) as ws:
            first = receive(ws)
            outcomes.append(first.get("error", first["type"]))
            if first["type"] == "error":
                assert refusal(ws) == ([], 4429)
    assert outcomes[:2] == ["hello", "hello"] and "rate_limited" in outcomes, outcomes


def test_idle_sockets_at_the_tenant_cap_leave_http_answering(server: Server) -> None:
    tenant, project = server.tenant()
    keys = [server.key(tenant, project)[1] for _ in range(2)]
    with ExitStack() as stack:
        for index in range(PER_TENANT):  # more idle sockets than the replica's HTTP slots
            opened(server, keys[index % 2], stack)
        _, third = server.key(tenant, project)
        assert refused(server, third) == ([{"type": "error", "error": "too_many_connections"}], 4429)
        demo_api = Api(server.base_url, "demo", "demo", server.credentials["apiKey"])

        def call(index: int) -> int:
            if index % 2:
                return httpx.get(f"{server.base_url}/v1/health/ready", timeout=30).status_code
            player = f"idle-{uuid.uuid4().hex[:8]}"
            return demo_api.post("/players", {"playerId": player, "username": player}).status_code

        with ThreadPoolExecutor(4) as pool:
            statuses = list(pool.map(call, range(8)))
        assert statuses == [201, 200] * 4
        assert demo_api.get("/events", params={"limit": 1}).status_code == 200


def test_sockets_waiting_to_authenticate_count_against_the_replica_cap(server: Server) -> None:
    """Unauthenticated sockets hold Serve slots until their auth timeout: they are capped too."""
    with ExitStack() as stack:
        silent = [
            stack.enter_context(connect(ws_url(server.base_url), open_timeout=30)) for _ in range(PER_REPLICA + 1)
        ]
        errors = [receive(ws, timeout_s=AUTH_TIMEOUT_S + 10)["error"] for ws in silent]
    # Admitted ones wait for an auth message until the timeout; the one past the cap is refused
    # at once (one more may be, while a socket of an earlier test is still closing).
    assert errors.count("auth_timeout") in (PER_REPLICA - 1, PER_REPLICA), errors
    assert errors.count("too_many_connections") == len(errors) - errors.count("auth_timeout") >= 1, errors
    with connect(ws_url(server.base_url), additional_headers=demo(server), open_timeout=30) as ws:
        assert receive(ws)["type"] == "hello"  # the timed-out ones gave their slots back


# ---------------------------------------------------------------------------------- messages


def test_a_message_over_the_size_cap_closes_with_1009(server: Server) -> None:
    with ExitStack() as stack:
        ws = opened(server, demo(server), stack)
        ws.send(json.dumps({"action": "ping", "padding": "x" * 16 * 1024}))
        assert refusal(ws) == ([{"type": "error", "error": "message_too_large"}], 1009)


def test_messages_are_rate_limited_then_a_flood_is_closed_with_4429(server: Server) -> None:
    with ExitStack() as stack:
        ws = opened(server, demo(server), stack)
        for _ in range(BURST + 1):
            ws.send(json.dumps({"action": "ping"}))
        answers = [receive(ws) for _ in range(BURST + 1)]
        assert answers[:BURST] == [{"type": "pong"}] * BURST
        assert answers[BURST]["error"] == "rate_limited" and answers[BURST]["retryAfterS"] >= 1
        time.sleep(1.0)  # the bucket refills: a client that slows down is served again
        ws.send(json.dumps({"action": "ping"}))
        assert receive(ws) == {"type": "pong"}
        for _ in range(BURST + STRIKES + 5):
            ws.send(json.dumps({"action": "ping"}))
        messages, code = refusal(ws)
    assert code == 4429
    assert messages[-1] == {"type": "error", "error": "rate_limited"}
    assert sum(m.get("error") == "rate_limited" for m in messages) == STRIKES


# ---------------------------------------------------------------------------------- since


def events_of_player(api: Api, player: str) -> list[dict[str, Any]]:
    response = api.get("/events", params={"playerId": player, "limit": 100})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def subscribe(ws: ClientConnection, since: str, types: list[str] | None = None) -> dict[str, Any]:
    ws.send(json.dumps({"action": "subscribe", "eventTypes": types or ["*"], "since": since}))
    return receive(ws)


def test_since_replays_are_bounded(server: Server) -> None:
    api = Api(server.base_url, "demo", "demo", server.credentials["apiKey"])
    player = new_player(api)
    for _ in range(MAX_REPLAY + 1):
        award(api, player, 1)
    events = events_of_player(api, player)
    assert len(events) == MAX_REPLAY + 2  # created, then one xp.added per award
    with ExitStack() as stack:
        ws = opened(server, demo(server), stack)
        too_old = subscribe(ws, events[0]["id"])
        assert too_old["type"] == "error" and too_old["error"] == "since_too_old"
        assert too_old["maxReplay"] == MAX_REPLAY and "/v1/projects/demo/events" in too_old["detail"]
        assert subscribe(ws, events[1]["id"]) == {"type": "subscribed", "eventTypes": ["*"]}
        replayed = [receive(ws)["event"] for _ in range(MAX_REPLAY)]
    assert replayed == events[2:]


def test_since_resolves_only_inside_the_callers_tenant_and_project(server: Server) -> None:
    other_tenant, project = server.tenant()
    _, other = server.key(other_tenant, project)
    demo_api = Api(server.base_url, "demo", "demo", server.credentials["apiKey"])
    demo_event = events_of_player(demo_api, new_player(demo_api))[0]
    with ExitStack() as stack:
        ws = opened(server, other, stack)
        unknown = subscribe(ws, "evt_does_not_exist")
        foreign = subscribe(ws, demo_event["id"])
        assert unknown == foreign == {"type": "error", "error": "unknown_event"}
        ws.send(json.dumps({"action": "ping"}))  # the refusals left the connection usable
        assert receive(ws) == {"type": "pong"}
    # The same id from the demo tenant's own project resolves.
    with ExitStack() as stack:
        ws = opened(server, demo(server), stack)
        assert subscribe(ws, demo_event["id"]) == {"type": "subscribed", "eventTypes": ["*"]}


# ---------------------------------------------------------------------------------- keys


def test_a_key_revoked_while_its_socket_is_open_closes_it_with_4401(server: Server) -> None:
    tenant, project = server.tenant()
    key_id, creds = server.key(tenant, project)
    with ExitStack() as stack:
        ws = opened(server, creds, stack)
        ws.send(json.dumps({"action": "ping"}))
        assert receive(ws) == {"type": "pong"}
        server.run(server.backoffice.revoke_api_key(key_id))
        revoked_at = time.monotonic()
        messages, code = refusal(ws)
        waited = time.monotonic() - revoked_at
    assert messages == [{"type": "error", "error": "key_revoked"}] and code == 4401
    assert waited < RECHECK_S + 5, f"closed {waited:.1f}s after the revocation"


def test_a_deleted_project_closes_its_sockets_with_4401(server: Server) -> None:
    tenant, project = server.tenant()
    _, creds = server.key(tenant, project)
    with ExitStack() as stack:
        ws = opened(server, creds, stack)
        server.run(server.backoffice.update_project(tenant, project, {"deleted": True}))
        assert refusal(ws) == ([{"type": "error", "error": "project_deleted"}], 4401)


def test_credentials_may_come_in_the_first_message(server: Server) -> None:
    creds = demo(server)
    auth = {"action": "auth", "apiKey": creds["x-api-key"], "tenantId": "demo", "projectId": "demo"}
    with connect(ws_url(server.base_url), open_timeout=30) as ws:
        ws.send(json.dumps(auth))
        assert receive(ws)["type"] == "hello"
        ws.send(json.dumps({"action": "ping"}))
        assert receive(ws) == {"type": "pong"}
    with connect(ws_url(server.base_url), open_timeout=30) as ws:
        ws.send(json.dumps({**auth, "apiKey": "ldx_nope_nope"}))
        assert refusal(ws) == ([{"type": "error", "error": "invalid_credentials"}], 4403)
    with connect(ws_url(server.base_url), open_timeout=30) as ws:
        ws.send(json.dumps({"action": "ping"}))
        assert refusal(ws) == ([{"type": "error", "error": "missing_credentials"}], 4401)
    with connect(ws_url(server.base_url), open_timeout=30) as ws:  # says nothing
        assert refusal(ws) == ([{"type": "error", "error": "auth_timeout"}], 4401)
    with connect(ws_url(server.base_url, **creds), open_timeout=30) as ws:  # the discouraged query form
        assert receive(ws)["type"] == "hello"


# ---------------------------------------------------------------------------------- usage


def test_sockets_and_subscriptions_count_in_the_tenants_usage(server: Server) -> None:
    tenant, project = server.tenant()
    _, creds = server.key(tenant, project)
    month = month_of(datetime.now(UTC))
    creds_file = server.credentials
    with login(server.base_url, creds_file["adminEmail"], creds_file["adminPassword"], "demo") as admin:

        def requests() -> int:
            listed = admin.get("/v1/admin/usage", params={"tenantId": tenant, "month": month})
            assert listed.status_code == 200, listed.text
            return sum(row["requests"] for row in listed.json()["items"])

        assert requests() == 0
        with ExitStack() as stack:
            ws = opened(server, creds, stack)
            ws.send(json.dumps({"action": "subscribe", "eventTypes": ["*"]}))
            assert receive(ws)["type"] == "subscribed"
            ws.send(json.dumps({"action": "ping"}))
            assert receive(ws) == {"type": "pong"}
        assert requests() == 2  # the connection and its subscribe; pings are free


def test_events_reach_a_subscriber_on_the_limited_server(server: Server) -> None:
    """The limits leave the normal flow alone: subscribe, award, receive."""
    api = Api(server.base_url, "demo", "demo", server.credentials["apiKey"])
    player = new_player(api)
    with ExitStack() as stack:
        ws = opened(server, demo(server), stack)
        ws.send(json.dumps({"action": "subscribe", "eventTypes": ["player.xp.added"]}))
        assert receive(ws)["type"] == "subscribed"
        award(api, player, 7)
        event = receive(ws)["event"]
    assert event["playerId"] == player and event["data"]["amount"] == 7
