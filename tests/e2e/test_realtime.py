"""`/v1/realtime` over real WebSockets through Serve: live events, type filters, `since`
replays after a reconnect, the error and close codes, ping; and fan-out across two ingress
replicas of `ludex serve` through a real `redis-server`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import redis
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from serve.launcher import Launched
from tests.e2e.conftest import Api
from tests.e2e.helpers import new_player
from tests.e2e.test_cli import stop, wait_ready
from tests.support.services import free_port

XP_ADDED, LEVELUP = "player.xp.added", "player.levelup"


def ws_url(base_url: str, **query: str) -> str:
    url = base_url.replace("http://", "ws://", 1) + "/v1/realtime"
    return f"{url}?{urlencode(query)}" if query else url


def credentials(ludex: Launched) -> dict[str, str]:
    creds = ludex.credentials
    return {"x-api-key": creds["apiKey"], "x-tenant-id": creds["tenantId"], "x-project-id": creds["projectId"]}


def receive(ws: ClientConnection, timeout_s: float = 15) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(ws.recv(timeout=timeout_s))
    return message


@contextmanager
def subscribed(
    base_url: str, creds: dict[str, str], event_types: list[str], **extra: Any
) -> Iterator[ClientConnection]:
    """A connection past `hello` and `subscribed`."""
    with connect(ws_url(base_url, **creds), open_timeout=30) as ws:
        hello = receive(ws)
        assert hello["type"] == "hello", hello
        ws.send(json.dumps({"action": "subscribe", "eventTypes": event_types, **extra}))
        assert receive(ws) == {"type": "subscribed", "eventTypes": event_types}
        yield ws


def events_of(ws: ClientConnection, player: str, count: int, timeout_s: float = 15) -> list[dict[str, Any]]:
    """The next `count` events of `player` (events of other players are skipped)."""
    deadline = time.monotonic() + timeout_s
    found: list[dict[str, Any]] = []
    while len(found) < count:
        message = receive(ws, max(0.01, deadline - time.monotonic()))
        assert message["type"] == "event", message
        if message["event"]["playerId"] == player:
            found.append(message["event"])
    return found


def nothing_more(ws: ClientConnection, player: str, wait_s: float = 0.5) -> None:
    deadline = time.monotonic() + wait_s
    while (left := deadline - time.monotonic()) > 0:
        try:
            message = receive(ws, left)
        except TimeoutError:
            return
        assert message.get("event", {}).get("playerId") != player, message


def events_until(
    ws: ClientConnection, player: str, last: Callable[[dict[str, Any]], bool], timeout_s: float = 15
) -> list[dict[str, Any]]:
    """Events of `player` up to and including the first one `last` accepts."""
    deadline = time.monotonic() + timeout_s
    found: list[dict[str, Any]] = []
    while not found or not last(found[-1]):
        found.extend(events_of(ws, player, 1, max(0.01, deadline - time.monotonic())))
    return found


def award(api: Api, player: str, amount: int) -> dict[str, Any]:
    response = api.post(f"/players/{player}/xp", {"amount": amount})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def closed_with(ws: ClientConnection) -> tuple[int | None, str | None]:
    with pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=10)
    received = closed.value.rcvd
    return (received.code, received.reason) if received is not None else (None, None)


def test_an_xp_award_that_crosses_a_level_reaches_a_subscriber(ludex: Launched, api: Api, player: str) -> None:
    creds = credentials(ludex)
    with connect(ws_url(ludex.base_url, **creds), open_timeout=30) as ws:
        hello = receive(ws)
        assert hello["type"] == "hello" and hello["tenantId"] == "demo" and hello["projectId"] == "demo"
        assert isinstance(hello["connectionId"], str) and "-" in hello["connectionId"]
        ws.send(json.dumps({"action": "subscribe", "eventTypes": ["*"]}))
        assert receive(ws) == {"type": "subscribed", "eventTypes": ["*"]}
        assert award(api, player, 150)["leveledUp"] is True
        events = events_until(ws, player, lambda e: e["type"] == LEVELUP)
    xp, levelup = events[0], events[-1]
    assert xp["type"] == XP_ADDED and xp["data"]["amount"] == 150 and levelup["data"]["level"] == 2
    for event in events:
        assert set(event) == {"id", "type", "tenantId", "projectId", "playerId", "seq", "data", "occurredAt"}
        assert (event["tenantId"], event["projectId"], event["playerId"]) == ("demo", "demo", player)
    assert xp["seq"] == levelup["seq"] and xp["id"] != levelup["id"]


def test_credentials_may_come_as_headers(ludex: Launched) -> None:
    with connect(ws_url(ludex.base_url), additional_headers=credentials(ludex), open_timeout=30) as ws:
        assert receive(ws)["type"] == "hello"


def test_explicit_event_types_filter_out_the_others(ludex: Launched, api: Api, player: str) -> None:
    with subscribed(ludex.base_url, credentials(ludex), [LEVELUP]) as ws:
        assert award(api, player, 50)["leveledUp"] is False
        assert award(api, player, 60)["leveledUp"] is True
        (only,) = events_of(ws, player, 1)
        assert only["type"] == LEVELUP and only["data"]["level"] == 2
        nothing_more(ws, player)


def test_prefix_patterns_match_live_and_replayed_events(ludex: Launched, api: Api, player: str) -> None:
    creds = credentials(ludex)
    with subscribed(ludex.base_url, creds, ["player.*"]) as ws:
        award(api, player, 10)
        first = events_of(ws, player, 1)[0]
        assert first["type"] == XP_ADDED
    api.post(f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 1})
    award(api, player, 200)  # xp.added, levelup, level.updated: all player.*
    with subscribed(ludex.base_url, creds, ["player.*"], since=first["id"]) as ws:
        replayed = events_until(ws, player, lambda e: e["type"] == "player.level.updated")
    assert all(e["type"].startswith("player.") for e in replayed)
    assert [e["type"] for e in replayed][0] == XP_ADDED and LEVELUP in [e["type"] for e in replayed]


def test_a_reconnect_with_since_receives_exactly_what_it_missed_then_live_events(
    ludex: Launched, api: Api, player: str
) -> None:
    creds = credentials(ludex)
    with subscribed(ludex.base_url, creds, ["*"]) as witness:  # connected throughout: the reference
        with subscribed(ludex.base_url, creds, ["*"]) as ws:
            award(api, player, 10)
            (seen,) = events_of(ws, player, 1)
        award(api, player, 20)
        award(api, player, 100)  # crosses a level
        award(api, player, 30)
        with subscribed(ludex.base_url, creds, ["*"], since=seen["id"]) as ws:
            award(api, player, 5)  # live, after the replay
            received = events_until(ws, player, lambda e: e["data"].get("amount") == 5)
            nothing_more(ws, player)
        everything = events_until(witness, player, lambda e: e["data"].get("amount") == 5)
    assert everything[0] == seen
    assert received == everything[1:]
    assert [e["data"]["amount"] for e in received if e["type"] == XP_ADDED] == [20, 100, 30, 5]
    assert LEVELUP in [e["type"] for e in received]
    assert [e["seq"] for e in received] == sorted(e["seq"] for e in received)
    assert len({e["id"] for e in received}) == len(received)


def test_a_since_with_an_unknown_event_is_an_error(ludex: Launched) -> None:
    with connect(ws_url(ludex.base_url, **credentials(ludex)), open_timeout=30) as ws:
        receive(ws)
        ws.send(json.dumps({"action": "subscribe", "eventTypes": ["*"], "since": "evt_nope"}))
        assert receive(ws) == {"type": "error", "error": "unknown_event"}


def test_missing_credentials_are_refused_with_4401(ludex: Launched) -> None:
    creds = credentials(ludex)
    del creds["x-project-id"]
    with connect(ws_url(ludex.base_url, **creds), open_timeout=30) as ws:
        assert receive(ws) == {"type": "error", "error": "missing_headers"}
        assert closed_with(ws)[0] == 4401


@pytest.mark.parametrize(
    "change",
    [
        {"x-api-key": "ldx_nope_nope"},
        {"x-tenant-id": "someone-else"},
        {"x-project-id": "other-project"},
    ],
)
def test_bad_credentials_are_refused_with_4403(ludex: Launched, change: dict[str, str]) -> None:
    with connect(ws_url(ludex.base_url, **{**credentials(ludex), **change}), open_timeout=30) as ws:
        assert receive(ws) == {"type": "error", "error": "invalid_credentials"}
        assert closed_with(ws)[0] == 4403


def test_a_key_without_the_realtime_scope_is_refused_with_4403(ludex: Launched, control_plane: Any) -> None:
    _, reader_key = control_plane.create_api_key("demo", "demo", "no-realtime", scopes=("players:read",))
    with connect(ws_url(ludex.base_url, **{**credentials(ludex), "x-api-key": reader_key}), open_timeout=30) as ws:
        assert receive(ws) == {"type": "error", "error": "invalid_credentials"}
        assert closed_with(ws)[0] == 4403


def test_ping_unknown_actions_invalid_messages_and_too_many_event_types(ludex: Launched) -> None:
    with connect(ws_url(ludex.base_url, **credentials(ludex)), open_timeout=30) as ws:
        assert receive(ws)["type"] == "hello"
        ws.send(json.dumps({"action": "ping"}))
        assert receive(ws) == {"type": "pong"}
        ws.send(json.dumps({"action": "dance"}))
        assert receive(ws) == {"type": "error", "error": "unknown_action"}
        ws.send("{not json")
        assert receive(ws) == {"type": "error", "error": "invalid_message"}
        too_many = [f"type.{i}" for i in range(ludex.settings.realtime_max_eventtypes + 1)]
        ws.send(json.dumps({"action": "subscribe", "eventTypes": too_many}))
        assert receive(ws) == {"type": "error", "error": "too_many_event_types"}
        at_most = too_many[:-1]
        ws.send(json.dumps({"action": "subscribe", "eventTypes": at_most}))
        assert receive(ws) == {"type": "subscribed", "eventTypes": at_most}
        ws.send(json.dumps({"action": "ping"}))
        assert receive(ws) == {"type": "pong"}


# ---------------------------------------------------------------------------------- replicas


def start_replicas(data_dir: Path, port: int, replicas: int, **env_vars: str) -> subprocess.Popen[str]:
    ludex = Path(sys.executable).with_name("ludex")
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", **env_vars}
    env.pop("RAY_ADDRESS", None)
    argv = [str(ludex), "serve", "--data-dir", str(data_dir), "--port", str(port), "--shards", "2"]
    return subprocess.Popen(
        [*argv, "--replicas", str(replicas)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )


def test_events_fan_out_to_subscribers_on_every_replica_through_redis(tmp_path: Path, redis_url: str) -> None:
    data_dir, port = tmp_path / "data", free_port()
    base_url = f"http://127.0.0.1:{port}"
    # The key's cap (shared through Redis) must leave room for the sockets piling on the first replica.
    process = start_replicas(data_dir, port, 2, LUDEX_REDIS_URL=redis_url, LUDEX_REALTIME_MAX_CONNECTIONS_PER_KEY="64")
    announcements = redis.Redis.from_url(redis_url).pubsub()  # type: ignore[no-untyped-call]
    announcements.psubscribe("ludex:events:*")
    try:
        wait_ready(base_url, process)
        creds = json.loads((data_dir / "demo-credentials.json").read_text())
        query = {"x-api-key": creds["apiKey"], "x-tenant-id": "demo", "x-project-id": "demo"}
        with ExitStack() as stack:
            sockets: list[ClientConnection] = []
            replicas: set[str] = set()
            # Ready means one replica answers; the second may join the proxy's backend later.
            # Open connections stay on the first, so new ones go to the second once it is there.
            deadline = time.monotonic() + 60
            while len(sockets) < 4 or len(replicas) < 2:
                assert time.monotonic() < deadline, f"all {len(sockets)} subscribers sit on {replicas}"
                if len(sockets) >= 16:
                    time.sleep(0.5)
                ws = stack.enter_context(connect(ws_url(base_url, **query), open_timeout=30))
                hello = receive(ws)
                replicas.add(hello["connectionId"].rsplit("-", 1)[0])
                ws.send(json.dumps({"action": "subscribe", "eventTypes": ["*"]}))
                assert receive(ws)["type"] == "subscribed"
                sockets.append(ws)
            api = Api(base_url, "demo", "demo", creds["apiKey"])
            player = new_player(api)
            award(api, player, 150)
            received = [events_until(ws, player, lambda e: e["type"] == LEVELUP) for ws in sockets]
            assert [e["type"] for e in received[0]][:2] == ["player.created", XP_ADDED]
            assert all(events == received[0] for events in received)
        published: list[str] = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(player in m for m in published):
            message = announcements.get_message(ignore_subscribe_messages=True, timeout=1)
            if message is not None:
                assert message["channel"] == b"ludex:events:demo:demo"
                published.append(message["data"].decode())
        assert any(player in m for m in published), "the shard hosts announced nothing on redis"
    finally:
        announcements.close()
        output, alive = stop(process)
    assert alive == [], output
