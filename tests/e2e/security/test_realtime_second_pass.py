"""The realtime surfaces of the second security pass against a real `ludex serve` with small
limits: sockets that never authenticate are capped per address and in all, apart from the
authenticated cap; a `since` replay costs the key's and tenant's rate limits by the events it
reads; and `watch-leaderboard`, which shows usernames, needs the `players:read` scope that the
same board over HTTP needs."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from actors.ingress.control_plane import Backoffice
from actors.stores.sqlite import SqliteStore
from tests.e2e.conftest import Api
from tests.e2e.helpers import new_player
from tests.e2e.security.test_realtime_limits import Server, demo, refusal
from tests.e2e.test_cli import stop, wait_ready
from tests.e2e.test_realtime import receive, start_replicas, ws_url
from tests.support.services import free_port

PENDING_PER_ADDRESS, PENDING, AUTH_TIMEOUT_S, MAX_REPLAY = 3, 5, 5.0, 2_000
EVENTS_PER_REQUEST = 100
LIMITS = {
    "LUDEX_REALTIME_MAX_PENDING_PER_ADDRESS": str(PENDING_PER_ADDRESS),
    "LUDEX_REALTIME_MAX_PENDING": str(PENDING),
    "LUDEX_REALTIME_AUTH_TIMEOUT_S": str(AUTH_TIMEOUT_S),
    "LUDEX_REALTIME_MAX_REPLAY": str(MAX_REPLAY),
    "LUDEX_REALTIME_REPLAY_EVENTS_PER_REQUEST": str(EVENTS_PER_REQUEST),
    # Serve's Python proxy hands the replica the client's address; HAProxy (the default) connects
    # from its own, so there every client is one address (docs/SECURITY.md, second pass).
    "LUDEX_PROXY": "python",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir, port = tmp_path_factory.mktemp("realtime-second-pass") / "data", free_port()
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
        if process.poll() is None:  # else wait_ready failed, with the server's output
            output, alive = stop(process)
            assert alive == [], output


def silent(server: Server, stack: ExitStack, address: str) -> ClientConnection:
    """A socket from `address` that never sends its credentials."""
    return stack.enter_context(connect(ws_url(server.base_url), open_timeout=30, source_address=(address, 0)))


def auth_message(server: Server) -> dict[str, str]:
    creds = demo(server)
    return {"action": "auth", "apiKey": creds["x-api-key"], "tenantId": "demo", "projectId": "demo"}


# ---------------------------------------------------------------------------------- pending sockets


def test_sockets_waiting_to_authenticate_are_capped_per_address(server: Server) -> None:
    with ExitStack() as stack:
        waiting = [silent(server, stack, "127.0.0.1") for _ in range(PENDING_PER_ADDRESS)]
        started = time.monotonic()
        extra = [silent(server, stack, "127.0.0.1") for _ in range(2)]
        for ws in extra:  # refused at once, not at the end of the auth window
            assert refusal(ws) == ([{"type": "error", "error": "too_many_connections"}], 4429)
        assert time.monotonic() - started < AUTH_TIMEOUT_S
        other = silent(server, stack, "127.0.0.2")  # another address still authenticates
        other.send(json.dumps(auth_message(server)))
        assert receive(other)["type"] == "hello"
        with connect(ws_url(server.base_url), additional_headers=demo(server), open_timeout=30) as ws:
            assert receive(ws)["type"] == "hello"  # credentials in headers never wait
        for ws in waiting:
            assert refusal(ws) == ([{"type": "error", "error": "auth_timeout"}], 4401)


def test_sockets_waiting_to_authenticate_are_capped_in_all(server: Server) -> None:
    with ExitStack() as stack:
        waiting = [silent(server, stack, f"127.0.0.{10 + i}") for i in range(PENDING)]
        last = silent(server, stack, "127.0.0.30")
        assert refusal(last) == ([{"type": "error", "error": "too_many_connections"}], 4429)
        with connect(ws_url(server.base_url), additional_headers=demo(server), open_timeout=30) as ws:
            assert receive(ws)["type"] == "hello"  # the authenticated cap is apart
        for ws in waiting:
            assert refusal(ws)[1] == 4401


# ---------------------------------------------------------------------------------- since replays


def test_a_since_replay_costs_the_keys_rate_limit_by_the_events_it_reads(server: Server) -> None:
    demo_api = Api(server.base_url, "demo", "demo", server.credentials["apiKey"])
    player = new_player(demo_api)
    for _ in range(3):
        commands = [{"op": "xp", "playerId": player, "amount": 1, "idempotencyKey": uuid.uuid4().hex}] * 100
        answer = demo_api.post("/commands", {"commands": [dict(c, idempotencyKey=uuid.uuid4().hex) for c in commands]})
        assert answer.status_code == 200, answer.text
    listed = demo_api.get("/events", params={"playerId": player, "limit": 1})
    since = listed.json()["items"][0]["id"]  # `player.created`; 300 `player.xp.added` and more follow
    _, token = server.run(server.backoffice.create_api_key("demo", "demo", "replayer", rate_limit_per_second=1))
    slow = {**demo(server), "x-api-key": token}
    with connect(ws_url(server.base_url), additional_headers=slow, open_timeout=30) as ws:
        assert receive(ws)["type"] == "hello"  # a token of the key's 2
        time.sleep(2.0)  # the bucket is full again
        started = time.monotonic()
        ws.send(json.dumps({"action": "subscribe", "eventTypes": ["*"], "since": since}))
        assert receive(ws) == {"type": "subscribed", "eventTypes": ["*"]}
        replayed = 0
        while replayed < 300:
            message = receive(ws)
            replayed += message["type"] == "event" and message["event"]["type"] == "player.xp.added"
        took = time.monotonic() - started
    # 301+ events read cost 4 requests of 100; a burst of 2 pays two at once, the other two wait
    # a second each. A slow machine only makes the replay slower, so the bound holds under load;
    # an uncharged replay of 300 events takes a fraction of that.
    assert took >= 1.5, f"the replay took {took:.2f} s: it was not charged to the key's rate limit"


def test_since_too_old_is_refused_and_the_socket_stays_usable(server: Server) -> None:
    demo_api = Api(server.base_url, "demo", "demo", server.credentials["apiKey"])
    first = demo_api.get("/events", params={"limit": 1}).json()["items"][0]["id"]
    player = new_player(demo_api)
    commands = [{"op": "xp", "playerId": player, "amount": 1, "idempotencyKey": uuid.uuid4().hex} for _ in range(500)]
    for start in range(0, 2_000, 500):
        batch = [dict(c, idempotencyKey=uuid.uuid4().hex) for c in commands]
        assert demo_api.post("/commands", {"commands": batch}).status_code == 200, start
    with connect(ws_url(server.base_url), additional_headers=demo(server), open_timeout=30) as ws:
        assert receive(ws)["type"] == "hello"
        ws.send(json.dumps({"action": "subscribe", "eventTypes": ["*"], "since": first}))
        too_old = receive(ws)
        assert too_old["error"] == "since_too_old" and too_old["maxReplay"] == MAX_REPLAY
        ws.send(json.dumps({"action": "ping"}))
        assert receive(ws) == {"type": "pong"}


# ---------------------------------------------------------------------------------- watch-leaderboard


def test_watching_a_leaderboard_needs_the_players_read_scope(server: Server) -> None:
    _, token = server.run(server.backoffice.create_api_key("demo", "demo", "listener", scopes=("realtime",)))
    listener = {**demo(server), "x-api-key": token}
    with connect(ws_url(server.base_url), additional_headers=listener, open_timeout=30) as ws:
        assert receive(ws)["type"] == "hello"
        ws.send(json.dumps({"action": "watch-leaderboard", "boardId": "xp-all-time", "top": 5}))
        answer = receive(ws)
    assert answer == {"type": "error", "error": "insufficient_scope", "scope": "players:read"}, answer
    board = httpx.get(
        f"{server.base_url}/v1/projects/demo/leaderboards/xp-all-time",
        headers={"x-tenant-id": "demo", "x-api-key": token},
    )
    assert board.status_code == 403, board.text  # what the same key reads over HTTP
    reader = server.run(
        server.backoffice.create_api_key("demo", "demo", "reader", scopes=("realtime", "players:read"))
    )[1]
    with connect(ws_url(server.base_url), additional_headers={**listener, "x-api-key": reader}, open_timeout=30) as ws:
        assert receive(ws)["type"] == "hello"
        ws.send(json.dumps({"action": "watch-leaderboard", "boardId": "xp-all-time", "top": 5}))
        assert receive(ws) == {"type": "watching", "boardId": "xp-all-time", "top": 5}
