"""Batches over HTTP: results in order, per-player order, several shards, per-command keys."""

from __future__ import annotations

from typing import Any

from actors.sharding import shard_for
from tests.e2e.helpers import assert_problem, assert_problem_shape, balances, credit, new_player, unique
from tests.routes.conftest import RouteApi as Api

RESULT_KEYS = {"ok", "status", "body", "problem", "replayed"}


def run(api: Api, commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
    response = api.post("/commands", {"commands": commands})
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    assert len(results) == len(commands)
    for result in results:
        assert set(result) <= RESULT_KEYS
        assert {"ok", "status", "replayed"} <= set(result)
        if result["ok"]:
            assert result.get("problem") is None
        else:
            assert result.get("body") is None
            assert result["problem"]["status"] == result["status"]
            assert result["problem"]["instance"] == response.request.url.path
            assert result["problem"]["requestId"] == response.headers["x-request-id"]
    return results


def test_a_batch_answers_every_op_in_order(api: Api, player: str) -> None:
    credit(api, player, "coins", 100)
    results = run(
        api,
        [
            {"op": "xp", "playerId": player, "amount": 120},
            {"op": "credit", "playerId": player, "currency": "gems", "amount": 4},
            {"op": "debit", "playerId": player, "currency": "gems", "amount": 1},
            {"op": "grant", "playerId": player, "itemId": "potion", "quantity": 3},
            {"op": "consume", "playerId": player, "itemId": "potion", "quantity": 1},
            {"op": "increment", "playerId": player, "counterId": "wins"},
            {"op": "purchase", "playerId": player, "sku": "potion-pack"},
        ],
    )
    assert [(r["ok"], r["status"], r["replayed"]) for r in results] == [(True, 200, False)] * 6 + [(True, 201, False)]
    bodies = [r["body"] for r in results]
    assert bodies[0] == {"xp": 120, "level": 2, "leveledUp": True, "levelsGained": 1, "nextLevelXp": 250}
    assert (bodies[1]["currency"], bodies[1]["balance"]) == ("gems", 4)
    assert (bodies[2]["currency"], bodies[2]["balance"]) == ("gems", 3)
    assert bodies[3] == {"itemId": "potion", "quantity": 3}
    assert bodies[4] == {"itemId": "potion", "quantity": 2}
    assert bodies[5] == {"counterId": "wins", "value": 1, "unlocked": ["first-win"]}
    assert (bodies[6]["sku"], bodies[6]["balances"]) == ("potion-pack", {"coins": 0, "gems": 3})
    profile = api.get(f"/players/{player}").json()
    assert profile["wallet"] == {"coins": 0, "gems": 3}
    assert profile["inventory"] == [{"itemId": "potion", "quantity": 7}]
    assert (profile["xp"], profile["counters"]) == (120, {"wins": 1})


def test_commands_for_one_player_apply_in_array_order(api: Api, player: str) -> None:
    results = run(
        api,
        [
            {"op": "credit", "playerId": player, "currency": "coins", "amount": 10},
            {"op": "debit", "playerId": player, "currency": "coins", "amount": 10},
            {"op": "debit", "playerId": player, "currency": "coins", "amount": 1},
        ],
    )
    assert [r["ok"] for r in results] == [True, True, False]
    assert [r["body"]["balance"] for r in results[:2]] == [10, 0]
    assert results[2]["status"] == 409
    assert_problem_shape(results[2]["problem"], 409, "insufficient-funds")
    assert results[2]["replayed"] is False
    assert balances(api, player) == {"coins": 0}


def test_a_long_sequence_for_one_player_keeps_its_order(api: Api, player: str) -> None:
    commands = [{"op": "credit", "playerId": player, "currency": "coins", "amount": 1} for _ in range(40)]
    results = run(api, commands)
    assert [r["body"]["balance"] for r in results] == list(range(1, 41))


def ids_on_every_shard(count: int, shards: int) -> list[str]:
    """Fresh player ids, alternating between shards so the spread never depends on luck."""
    by_shard: dict[int, list[str]] = {shard: [] for shard in range(shards)}
    while min(len(ids) for ids in by_shard.values()) < count // shards + 1:
        player_id = unique("pl")
        by_shard[shard_for("demo", "demo", player_id, shards)].append(player_id)
    return [by_shard[i % shards][i // shards] for i in range(count)]


def test_a_batch_spans_players_on_several_shards(api: Api) -> None:
    players = [new_player(api, playerId=player_id) for player_id in ids_on_every_shard(8, shards=2)]
    assert len({shard_for("demo", "demo", p, 2) for p in players}) == 2, "expected players on both shards"
    commands = []
    for i, p in enumerate(players):
        commands.append({"op": "credit", "playerId": p, "currency": "coins", "amount": 10 * (i + 1)})
        commands.append({"op": "debit", "playerId": p, "currency": "coins", "amount": i + 1})
    results = run(api, commands)
    for i, p in enumerate(players):
        credit_result, debit_result = results[2 * i], results[2 * i + 1]
        assert credit_result["body"]["balance"] == 10 * (i + 1)
        assert debit_result["body"]["balance"] == 9 * (i + 1)
        assert balances(api, p) == {"coins": 9 * (i + 1)}


def test_a_failing_command_does_not_stop_the_others(api: Api, player: str) -> None:
    ghost = unique("ghost")
    results = run(
        api,
        [
            {"op": "credit", "playerId": ghost, "currency": "coins", "amount": 1},
            {"op": "credit", "playerId": player, "currency": "zorkmids", "amount": 1},
            {"op": "grant", "playerId": player, "itemId": "sword", "quantity": 2},
            {"op": "purchase", "playerId": player, "sku": "nope"},
            {"op": "increment", "playerId": player, "counterId": "losses"},
            {"op": "credit", "playerId": player, "currency": "coins", "amount": 5},
        ],
    )
    expected = [
        (404, "player-not-found"),
        (422, "unknown-currency"),
        (409, "stack-limit"),
        (404, "unknown-sku"),
        (404, "unknown-counter"),
    ]
    for result, (status, slug) in zip(results[:5], expected, strict=True):
        assert (result["ok"], result["status"]) == (False, status)
        assert_problem_shape(result["problem"], status, slug)
    assert results[5]["ok"] is True
    assert balances(api, player) == {"coins": 5}


def test_per_command_idempotency_keys_replay(api: Api, player: str) -> None:
    commands = [
        {"op": "credit", "playerId": player, "currency": "coins", "amount": 100, "idempotencyKey": "b-credit"},
        {"op": "purchase", "playerId": player, "sku": "potion-pack", "idempotencyKey": "b-buy"},
        {"op": "xp", "playerId": player, "amount": 30, "idempotencyKey": "b-xp"},
    ]
    first = run(api, commands)
    assert [r["replayed"] for r in first] == [False, False, False]
    again = run(api, commands)
    assert [r["replayed"] for r in again] == [True, True, True]
    assert [(r["status"], r["body"]) for r in again] == [(r["status"], r["body"]) for r in first]
    assert balances(api, player) == {"coins": 0}
    assert api.get(f"/players/{player}/inventory").json() == {"items": [{"itemId": "potion", "quantity": 5}]}
    assert api.get(f"/players/{player}/progression").json()["xp"] == 30


def test_a_key_used_by_a_single_call_replays_in_a_batch(api: Api, player: str) -> None:
    single = api.post(
        f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 9}, headers={"Idempotency-Key": "shared"}
    )
    results = run(
        api, [{"op": "credit", "playerId": player, "currency": "coins", "amount": 9, "idempotencyKey": "shared"}]
    )
    assert (results[0]["replayed"], results[0]["body"]) == (True, single.json())
    assert balances(api, player) == {"coins": 9}


def test_one_key_twice_in_one_batch_has_one_effect(api: Api, player: str) -> None:
    op = {"op": "credit", "playerId": player, "currency": "coins", "amount": 3, "idempotencyKey": "dup"}
    results = run(api, [op, op, {**op, "amount": 4}])
    assert [(r["ok"], r["replayed"]) for r in results[:2]] == [(True, False), (True, True)]
    assert results[0]["body"] == results[1]["body"]
    assert_problem_shape(results[2]["problem"], 422, "idempotency-key-reused")
    assert balances(api, player) == {"coins": 3}


def test_an_empty_batch_answers_422(api: Api) -> None:
    assert_problem(api.post("/commands", {"commands": []}), 422, "validation-error")


def test_an_unknown_op_answers_422_naming_the_command(api: Api, player: str) -> None:
    body = assert_problem(
        api.post("/commands", {"commands": [{"op": "fly", "playerId": player}]}), 422, "validation-error"
    )
    assert [e["field"] for e in body["errors"]] == ["commands.0"]


def test_an_invalid_command_rejects_the_whole_batch(api: Api, player: str) -> None:
    commands = [
        {"op": "credit", "playerId": player, "currency": "coins", "amount": 5},
        {"op": "credit", "playerId": player, "currency": "coins", "amount": "5"},
    ]
    body = assert_problem(api.post("/commands", {"commands": commands}), 422, "validation-error")
    assert body["errors"][0]["field"].startswith("commands.1")
    assert balances(api, player) == {}
