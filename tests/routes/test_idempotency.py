"""Idempotent replay over HTTP: same key and body → same answer, one effect (concurrent copies:
`tests/e2e/test_concurrency.py`)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.helpers import assert_problem, balances, credit, new_player, unique
from tests.routes.conftest import RouteApi as Api

REPLAYED = "idempotent-replayed"


def post_keyed(api: Api, path: str, body: Any, key: str) -> httpx.Response:
    return api.post(path, body, headers={"Idempotency-Key": key})


def test_the_same_key_and_body_replays_the_answer_without_a_second_effect(api: Api, player: str) -> None:
    key = unique("k")
    first = post_keyed(api, f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 5}, key)
    again = post_keyed(api, f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 5}, key)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert REPLAYED not in first.headers
    assert again.headers[REPLAYED] == "true"
    assert balances(api, player) == {"coins": 5}
    history = api.get(f"/players/{player}/wallet/history").json()["items"]
    assert [(e["delta"], e["idempotencyKey"]) for e in history] == [(5, key)]


def test_the_body_field_idempotency_key_works_like_the_header(api: Api, player: str) -> None:
    body = {"currency": "coins", "amount": 5, "idempotencyKey": unique("k")}
    first = api.post(f"/players/{player}/wallet/credit", body)
    again = api.post(f"/players/{player}/wallet/credit", body)
    assert again.json() == first.json()
    assert again.headers[REPLAYED] == "true"
    assert balances(api, player) == {"coins": 5}


def test_the_header_wins_over_the_body_field(api: Api, player: str) -> None:
    header_key, body_key = unique("header"), unique("body")
    first = post_keyed(api, f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 5}, header_key)
    # Same header, another body key: the header names the request, so this is a replay.
    replay = post_keyed(
        api,
        f"/players/{player}/wallet/credit",
        {"currency": "coins", "amount": 5, "idempotencyKey": body_key},
        header_key,
    )
    assert replay.headers[REPLAYED] == "true"
    assert replay.json() == first.json()
    assert balances(api, player) == {"coins": 5}
    # The body key was never used: on its own it is a new request.
    fresh = api.post(f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 5, "idempotencyKey": body_key})
    assert REPLAYED not in fresh.headers
    assert fresh.json()["balance"] == 10
    history = api.get(f"/players/{player}/wallet/history").json()["items"]
    assert [e["idempotencyKey"] for e in history] == [header_key, body_key]


def test_reusing_a_key_with_another_body_answers_422_and_changes_nothing(api: Api, player: str) -> None:
    key = unique("k")
    post_keyed(api, f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 5}, key)
    response = post_keyed(api, f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 6}, key)
    assert_problem(response, 422, "idempotency-key-reused")
    assert REPLAYED not in response.headers
    other_op = post_keyed(api, f"/players/{player}/wallet/debit", {"currency": "coins", "amount": 5}, key)
    assert_problem(other_op, 422, "idempotency-key-reused")
    other_reason = post_keyed(
        api, f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 5, "reason": "x"}, key
    )
    assert_problem(other_reason, 422, "idempotency-key-reused")
    assert balances(api, player) == {"coins": 5}


def test_a_rejection_is_replayed_too(api: Api, player: str) -> None:
    key = unique("k")
    first = post_keyed(api, f"/players/{player}/wallet/debit", {"currency": "coins", "amount": 50}, key)
    assert_problem(first, 409, "insufficient-funds")
    credit(api, player, "coins", 100)
    again = post_keyed(api, f"/players/{player}/wallet/debit", {"currency": "coins", "amount": 50}, key)
    body = assert_problem(again, 409, "insufficient-funds")
    assert again.headers[REPLAYED] == "true"
    assert body["detail"] == first.json()["detail"]
    assert balances(api, player) == {"coins": 100}


def test_a_keyed_creation_without_player_id_refuses_another_body(api: Api) -> None:
    key = unique("create")
    first = api.post("/players", {"username": unique("a")}, headers={"Idempotency-Key": key})
    assert first.status_code == 201
    other = api.post("/players", {"username": unique("b")}, headers={"Idempotency-Key": key})
    assert_problem(other, 422, "idempotency-key-reused")
    assert api.get(f"/players/{first.json()['playerId']}").json()["username"] == first.json()["username"]


def test_keys_are_scoped_to_the_player(api: Api, player: str) -> None:
    other = new_player(api)
    key = unique("k")
    mine = post_keyed(api, f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 5}, key)
    theirs = post_keyed(api, f"/players/{other}/wallet/credit", {"currency": "coins", "amount": 5}, key)
    assert REPLAYED not in mine.headers
    assert REPLAYED not in theirs.headers
    assert balances(api, player) == balances(api, other) == {"coins": 5}


def test_every_economy_changing_post_replays(api: Api, player: str) -> None:
    credit(api, player, "coins", 101)
    calls: list[tuple[str, dict[str, Any] | None]] = [
        (f"/players/{player}/xp", {"amount": 120}),
        (f"/players/{player}/wallet/debit", {"currency": "coins", "amount": 1}),
        (f"/players/{player}/items/grant", {"itemId": "potion", "quantity": 2}),
        (f"/players/{player}/items/consume", {"itemId": "potion", "quantity": 1}),
        (f"/players/{player}/counters/wins/increment", {"by": 2}),
        (f"/players/{player}/counters/wins/reset", None),
        (f"/players/{player}/quests/daily-battles/progress", {"objectiveId": "battles", "by": 1}),
        (f"/players/{player}/purchases", {"sku": "potion-pack", "quantity": 1}),
    ]
    for path, body in calls:
        key = unique("k")
        first = post_keyed(api, path, body, key)
        assert first.status_code in (200, 201), (path, first.text)
        before = api.get(f"/players/{player}").json()
        again = post_keyed(api, path, body, key)
        assert (again.status_code, again.json()) == (first.status_code, first.json()), path
        assert again.headers[REPLAYED] == "true", path
        assert api.get(f"/players/{player}").json() == before, path
    profile = api.get(f"/players/{player}").json()
    assert profile["wallet"] == {"coins": 0}
    assert profile["inventory"] == [{"itemId": "potion", "quantity": 6}]
    assert (profile["xp"], profile["counters"]) == (120, {"wins": 0})
    assert profile["quests"]["active"][0]["objectives"][0]["progress"] == 1
