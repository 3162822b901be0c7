"""The command stream over real WebSockets through Serve: commands sent as messages on
`/v1/realtime` and answered as results — what HTTP answers, one player's results in send order,
idempotent replays shared with HTTP, per-op scopes, rate limits, bad messages answered with
problems, and another tenant's key that reaches nothing of this tenant's."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from actors.directory import ShardDirectory
from serve.launcher import Launched
from tests.e2e.conftest import Api
from tests.e2e.helpers import assert_problem_shape, balances, new_player, tenant_with_quotas, unique
from tests.e2e.test_quotas import tenant_on_plan
from tests.e2e.test_realtime import closed_with, credentials, receive, ws_url

RESULT_KEYS = {"type", "id", "ok", "status", "body", "problem", "retryAfterS", "replayed"}


@contextmanager
def stream(base_url: str, creds: dict[str, str]) -> Iterator[ClientConnection]:
    """A connection past `hello`."""
    with connect(ws_url(base_url), additional_headers=creds, open_timeout=30) as ws:
        hello = receive(ws)
        assert hello["type"] == "hello", hello
        yield ws


def send(ws: ClientConnection, ident: str | int, op: str, player: str, **fields: Any) -> None:
    ws.send(json.dumps({"action": "command", "id": ident, "op": op, "playerId": player, **fields}))


def results(ws: ClientConnection, count: int) -> list[dict[str, Any]]:
    """The next `count` results, in the order they arrive, each checked for its shape."""
    found: list[dict[str, Any]] = []
    while len(found) < count:
        message = receive(ws, 30)
        assert message["type"] == "result", message
        assert set(message) <= RESULT_KEYS, message
        if message["ok"]:
            assert "problem" not in message
        else:
            assert "body" not in message
            assert_problem_shape(message["problem"], message["status"], message["problem"]["type"].rsplit("/", 1)[1])
            assert message["problem"]["instance"] == "/v1/realtime"
        found.append(message)
    return found


def test_commands_answer_what_http_answers(ludex: Launched, api: Api, player: str) -> None:
    other = new_player(api)
    with stream(ludex.base_url, credentials(ludex)) as ws:
        send(ws, "a", "credit", player, currency="coins", amount=100)
        send(ws, "b", "xp", player, amount=120)
        send(ws, 3, "grant", other, itemId="potion", quantity=3)
        send(ws, "d", "purchase", player, sku="potion-pack")
        send(ws, "e", "debit", player, currency="coins", amount=1_000)
        send(ws, "f", "increment", other, counterId="wins")
        answers = {r["id"]: r for r in results(ws, 6)}
    assert (answers["a"]["status"], answers["a"]["body"]["balance"]) == (200, 100)
    assert answers["b"]["body"] == {"xp": 120, "level": 2, "leveledUp": True, "levelsGained": 1, "nextLevelXp": 250}
    assert answers[3]["body"] == {"itemId": "potion", "quantity": 3}
    assert (answers["d"]["status"], answers["d"]["body"]["sku"]) == (201, "potion-pack")
    assert answers["e"]["status"] == 409 and answers["e"]["problem"]["type"].endswith("/insufficient-funds")
    assert answers["f"]["body"] == {"counterId": "wins", "value": 1, "unlocked": ["first-win"]}
    assert all(r["replayed"] is False for r in answers.values())
    assert balances(api, player) == {"coins": 0}
    assert api.get(f"/players/{other}/inventory").json() == {"items": [{"itemId": "potion", "quantity": 3}]}


def test_one_players_results_come_in_send_order_while_others_interleave(ludex: Launched, api: Api) -> None:
    players = [new_player(api) for _ in range(3)]
    with stream(ludex.base_url, credentials(ludex)) as ws:
        for i in range(30):  # sent without waiting for any answer
            send(ws, i, "credit", players[i % 3], currency="coins", amount=1)
        answers = results(ws, 30)
    for index, player in enumerate(players):
        mine = [r for r in answers if r["id"] % 3 == index]
        assert [r["id"] for r in mine] == list(range(index, 30, 3))
        assert [r["body"]["balance"] for r in mine] == list(range(1, 11))
        assert balances(api, player) == {"coins": 10}


def test_an_idempotency_key_replays_on_the_stream_and_over_http(ludex: Launched, api: Api, player: str) -> None:
    with stream(ludex.base_url, credentials(ludex)) as ws:
        send(ws, 1, "credit", player, currency="coins", amount=25, idempotencyKey="s-gift")
        send(ws, 2, "credit", player, currency="coins", amount=25, idempotencyKey="s-gift")  # a copy in flight
        send(ws, 3, "credit", player, currency="coins", amount=30, idempotencyKey="s-gift")  # another body
        first, copy, other = results(ws, 3)
    assert (first["ok"], first["replayed"], copy["replayed"]) == (True, False, True)
    assert copy["body"] == first["body"] and copy["status"] == first["status"]
    assert other["status"] == 422 and other["problem"]["type"].endswith("/idempotency-key-reused")
    with stream(ludex.base_url, credentials(ludex)) as ws:  # a later socket
        send(ws, "again", "credit", player, currency="coins", amount=25, idempotencyKey="s-gift")
        (again,) = results(ws, 1)
    assert (again["replayed"], again["body"]) == (True, first["body"])
    over_http = api.post(
        f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 25}, headers={"Idempotency-Key": "s-gift"}
    )
    assert over_http.headers["Idempotent-Replayed"] == "true" and over_http.json() == first["body"]
    assert balances(api, player) == {"coins": 25}


def test_each_command_needs_its_ops_scope(ludex: Launched, api: Api, player: str, control_plane: Any) -> None:
    _, xp_only = control_plane.create_api_key("demo", "demo", unique("xp-only"), scopes=("realtime", "players:write"))
    with stream(ludex.base_url, {**credentials(ludex), "x-api-key": xp_only}) as ws:
        send(ws, "c", "credit", player, currency="coins", amount=5)
        send(ws, "p", "purchase", player, sku="potion-pack")
        send(ws, "x", "xp", player, amount=10)
        refused_credit, refused_purchase, awarded = results(ws, 3)
    for refused, scope in ((refused_credit, "economy:write"), (refused_purchase, "store:purchase")):
        assert refused["status"] == 403 and refused["problem"]["type"].endswith("/insufficient-scope")
        assert scope in refused["problem"]["detail"]
    assert awarded["ok"] and awarded["body"]["xp"] == 10
    assert balances(api, player) == {}


def test_bad_messages_are_answered_and_change_nothing(ludex: Launched, api: Api, player: str) -> None:
    with stream(ludex.base_url, credentials(ludex)) as ws:
        send(ws, "text", "credit", player, currency="coins", amount="5")
        (wrong_type,) = results(ws, 1)
        assert wrong_type["status"] == 422 and wrong_type["problem"]["type"].endswith("/validation-error")
        assert [e["field"] for e in wrong_type["problem"]["errors"]] == ["amount"]
        send(ws, "fly", "fly", player)
        (unknown_op,) = results(ws, 1)
        assert unknown_op["status"] == 422 and unknown_op["problem"]["errors"][0]["field"] == "op"
        send(ws, "bad-id", "credit", "not a valid id!", currency="coins", amount=5)
        assert results(ws, 1)[0]["problem"]["errors"][0]["field"] == "playerId"
        send(ws, "extra", "credit", player, currency="coins", amount=5, tenantId="other", projectId="other")
        extra = results(ws, 1)[0]
        assert extra["status"] == 422 and {e["field"] for e in extra["problem"]["errors"]} == {"tenantId", "projectId"}
        ws.send(json.dumps({"action": "command", "op": "credit", "playerId": player, "currency": "coins", "amount": 5}))
        assert receive(ws)["error"] == "invalid_message"  # no id to answer with
        send(ws, {"an": "object"}, "credit", player, currency="coins", amount=5)  # type: ignore[arg-type]
        assert receive(ws)["error"] == "invalid_message"
        ws.send(json.dumps({"action": "ping"}))
        assert receive(ws) == {"type": "pong"}, "the socket stays open"
    assert balances(api, player) == {}


def test_commands_spend_the_keys_rate_limit(ludex: Launched, api: Api, player: str, control_plane: Any) -> None:
    _, slow = control_plane.create_api_key("demo", "demo", unique("slow"), rate_limit_per_second=1)
    with stream(ludex.base_url, {**credentials(ludex), "x-api-key": slow}) as ws:  # the socket costs a token
        for i in range(10):
            send(ws, i, "credit", player, currency="coins", amount=1)
        answers = results(ws, 10)
    refused = [r for r in answers if not r["ok"]]
    assert refused, "a bucket of 2 tokens at 1/s cannot admit 11 calls in a burst"
    for result in refused:
        assert result["status"] == 429 and result["problem"]["type"].endswith("/rate-limited")
        assert result["retryAfterS"] >= 1
    assert balances(api, player) == ({"coins": 10 - len(refused)} if len(refused) < 10 else {})


@pytest.fixture(scope="module")
def rival(ludex: Launched, control_plane: Any, demo_economy_document: dict[str, Any]) -> dict[str, str]:
    """Another tenant with a project on the demo economy and its own all-scope key."""
    tenant = unique("rival")
    control_plane.ensure_tenant(tenant, "Rival Games")
    control_plane.ensure_project(tenant, "game", "Game")
    outcome = asyncio.run(ShardDirectory.connect(ludex.settings).define_economy(tenant, "game", demo_economy_document))
    assert outcome.ok, outcome
    _, key = control_plane.create_api_key(tenant, "game", "rival-key")
    return {"x-api-key": str(key), "x-tenant-id": tenant, "x-project-id": "game"}


def test_another_tenants_key_reaches_only_its_own_players(
    ludex: Launched, api: Api, player: str, rival: dict[str, str]
) -> None:
    api.post(f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 7})
    with stream(ludex.base_url, rival) as ws:
        send(ws, "theirs", "debit", player, currency="coins", amount=7)
        (missing,) = results(ws, 1)
        assert missing["status"] == 404 and missing["problem"]["type"].endswith("/player-not-found")
    rival_api = Api(ludex.base_url, rival["x-tenant-id"], "game", rival["x-api-key"])
    new_player(rival_api, playerId=player)  # the same id, in the rival's project
    with stream(ludex.base_url, rival) as ws:
        send(ws, "own", "credit", player, currency="coins", amount=3)
        (own,) = results(ws, 1)
    assert own["ok"] and own["body"]["balance"] == 3
    assert balances(api, player) == {"coins": 7}, "the demo tenant's player is untouched"
    assert balances(rival_api, player) == {"coins": 3}


def test_a_flood_of_refused_commands_closes_the_socket(ludex: Launched, player: str, control_plane: Any) -> None:
    _, slow = control_plane.create_api_key("demo", "demo", unique("flood"), rate_limit_per_second=1)
    with stream(ludex.base_url, {**credentials(ludex), "x-api-key": slow}) as ws:
        for i in range(ludex.settings.realtime_rate_limit_strikes + 5):
            send(ws, i, "xp", player, amount=1)
        code, _ = closed_with_after_results(ws)
    assert code == 4429


def closed_with_after_results(ws: ClientConnection) -> tuple[int | None, str | None]:
    """Reads results until the server closes; the close code and reason."""
    while True:
        try:
            message = receive(ws, 30)
        except TimeoutError:
            raise AssertionError("the server kept the socket open") from None
        except Exception:  # noqa: BLE001 - the close, read below
            return closed_with(ws)
        if message["type"] == "error":
            assert message["error"] == "rate_limited"
            return closed_with(ws)


def test_the_monthly_quota_refuses_new_commands_and_keys_still_replay(
    ludex: Launched, backoffice: Any, demo_economy_document: dict[str, Any]
) -> None:
    tenant, api = tenant_on_plan(ludex, backoffice, demo_economy_document, eventsPerMonth=3)
    player = new_player(api)  # one event
    creds = {"x-api-key": api.client.headers["x-api-key"], "x-tenant-id": tenant, "x-project-id": "game"}
    with stream(ludex.base_url, creds) as ws:
        send(ws, "first", "credit", player, currency="coins", amount=1, idempotencyKey="q-first")
        (first,) = results(ws, 1)
        assert first["ok"], first
        answers: list[dict[str, Any]] = []
        for i in range(10):  # one at a time, so each sees the events counted before it
            send(ws, i, "credit", player, currency="coins", amount=1)
            answers.extend(results(ws, 1))
            if not answers[-1]["ok"]:
                break
        refused = answers[-1]
        assert refused["status"] == 429 and refused["problem"]["type"].endswith("/quota-exceeded"), answers
        assert refused["retryAfterS"] >= 1
        send(ws, "again", "credit", player, currency="coins", amount=1, idempotencyKey="q-first")
        (again,) = results(ws, 1)
    assert (again["ok"], again["replayed"], again["body"]) == (True, True, first["body"]), "a spent quota still replays"
    accepted = 1 + sum(1 for answer in answers if answer["ok"])
    assert balances(api, player) == {"coins": accepted}


def test_a_spent_quota_refuses_new_commands_before_any_host_as_a_single_call_does(
    ludex: Launched, backoffice: Any
) -> None:
    """The one command path: a project with no economy answers 409 `economy-not-defined` from
    its host, so 429 `quota-exceeded` shows an unkeyed command refused before any host, on the
    stream as over HTTP (`tests/routes/test_command_path.py`); a keyed one still reaches its host."""
    tenant, token = tenant_with_quotas(backoffice, "path", requestsPerMonth=1)
    with stream(ludex.base_url, {"x-api-key": token, "x-tenant-id": tenant, "x-project-id": "game"}) as ws:
        send(ws, "new", "xp", "ada", amount=5)  # opening the socket was the month's one request
        (new,) = results(ws, 1)
        send(ws, "keyed", "xp", "ada", amount=5, idempotencyKey="k-stream")
        (keyed,) = results(ws, 1)
    assert (new["ok"], new["status"], new["replayed"]) == (False, 429, False), new
    assert new["problem"]["type"].endswith("/quota-exceeded") and new["retryAfterS"] >= 1
    assert keyed["status"] == 409 and keyed["problem"]["type"].endswith("/economy-not-defined"), keyed
    single = Api(ludex.base_url, tenant, "game", token).post("/players/ada/xp", {"amount": 5})
    assert single.status_code == 429 and single.json()["type"] == new["problem"]["type"]


def test_invalid_commands_spend_the_sockets_message_bucket(ludex: Launched) -> None:
    errors: list[str] = []
    with stream(ludex.base_url, credentials(ludex)) as ws:
        for _ in range(60):  # no id: invalid, so each costs a token of the socket's bucket (burst 20)
            ws.send(json.dumps({"action": "command", "op": "xp", "playerId": "p", "amount": 1}))
        try:
            while len(errors) < 60:
                errors.append(receive(ws)["error"])
        except ConnectionClosed:
            pass  # 20 refused in a row close the socket
    assert set(errors) <= {"invalid_message", "rate_limited"}
    assert "rate_limited" in errors
