"""Item effects at the route seam (no Ray): consuming applies them, the profile shows the running
boosts, later awards are multiplied, the events are the direct commands' events, and a bad effect
is refused with its path. Boost expiry is the engine's (tests/unit/engine/test_item_effects.py)."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.helpers import assert_problem, new_player
from tests.routes.conftest import Dashboard, RouteApi, Seam, project_api

ECONOMY: dict[str, Any] = {
    "currencies": [{"id": "coins", "kind": "soft"}],
    "items": [
        {"id": "gem", "stackLimit": 100},
        {
            "id": "chest",
            "stackLimit": 10,
            "effects": [
                {"kind": "currency", "currency": "coins", "amount": 5},
                {"kind": "item", "itemId": "gem", "quantity": 2},
                {"kind": "counter", "counterId": "opened", "amount": 1},
                {"kind": "flag", "flag": "vip", "value": True},
                {"kind": "boost", "metric": "xp", "multiplier": 2, "durationS": 3600},
            ],
        },
    ],
    "counters": [{"id": "opened"}],
    "featureFlags": {"vip": False},
    "xpCurve": {"levels": [0, 100, 1000]},
}


@pytest.fixture(scope="module")
def game(office: Seam, office_admin: Dashboard) -> RouteApi:
    scopes = ["players:read", "players:write", "economy:write", "events:read"]
    return project_api(office, office_admin, ECONOMY, scopes, prefix="eff")


def test_consuming_applies_the_effects_and_the_profile_shows_the_boost(game: RouteApi) -> None:
    player = new_player(game)
    assert game.post(f"/players/{player}/items/grant", {"itemId": "chest", "quantity": 2}).status_code == 200
    before = datetime.now(UTC)
    consumed = game.post(f"/players/{player}/items/consume", {"itemId": "chest", "quantity": 2})
    assert consumed.status_code == 200, consumed.text
    assert consumed.json() == {"itemId": "chest", "quantity": 0}
    profile = game.get(f"/players/{player}").json()
    assert profile["wallet"] == {"coins": 10}
    assert profile["inventory"] == [{"itemId": "gem", "quantity": 4}]
    assert profile["counters"] == {"opened": 2}
    [boost] = profile["boosts"]
    assert boost["metric"] == "xp" and boost["multiplier"] == 2
    ends = datetime.fromisoformat(boost["endsAt"].replace("Z", "+00:00"))
    assert before + timedelta(hours=2) - timedelta(seconds=5) <= ends <= datetime.now(UTC) + timedelta(hours=2)
    assert game.get(f"/players/{player}/flags").json()["flags"] == {"vip": True}
    awarded = game.post(f"/players/{player}/xp", {"amount": 60})
    assert awarded.json()["xp"] == 120 and awarded.json()["level"] == 2


def test_the_events_are_the_direct_commands_events(game: RouteApi) -> None:
    player = new_player(game)
    game.post(f"/players/{player}/items/grant", {"itemId": "chest", "quantity": 1})
    game.post(f"/players/{player}/items/consume", {"itemId": "chest", "quantity": 1})
    events = game.get("/events", params={"playerId": player}).json()["items"]
    assert [ev["type"] for ev in events][-6:] == [
        "item.consumed",
        "wallet.credited",
        "item.granted",
        "counter.incremented",
        "player.flag.set",
        "player.boost.started",
    ]
    credited = next(ev for ev in events if ev["type"] == "wallet.credited")
    assert credited["data"]["reason"] == "item:chest"
    started = events[-1]["data"]
    assert started["itemId"] == "chest" and started["metric"] == "xp"
    ledger = game.get(f"/players/{player}/wallet/history").json()["items"]
    assert [(entry["delta"], entry["reason"]) for entry in ledger] == [(5, "item:chest")]


def test_a_consumption_whose_effect_cannot_apply_changes_nothing(game: RouteApi) -> None:
    player = new_player(game)
    game.post(f"/players/{player}/items/grant", {"itemId": "gem", "quantity": 99})
    game.post(f"/players/{player}/items/grant", {"itemId": "chest", "quantity": 1})
    before = game.get(f"/players/{player}").json()
    refused = game.post(f"/players/{player}/items/consume", {"itemId": "chest", "quantity": 1})
    assert_problem(refused, 409, "stack-limit")
    assert game.get(f"/players/{player}").json() == before


def test_an_effect_naming_what_the_economy_lacks_is_refused_with_its_path(office_admin: Dashboard) -> None:
    project = f"/v1/client/projects/{uuid.uuid4().hex[:8]}"
    office_admin.post("/v1/client/projects", json={"id": project.rsplit("/", 1)[1], "name": "effects"})
    unknown = copy.deepcopy(ECONOMY)
    unknown["items"][1]["effects"][0]["currency"] = "gold"
    loop = copy.deepcopy(ECONOMY)
    loop["items"][0]["effects"] = [{"kind": "item", "itemId": "chest", "quantity": 1}]
    for document, field, message in (
        (unknown, "items[1].effects[0].currency", "unknown currency 'gold'"),
        (loop, "items", "item effects grant each other in a loop: chest -> gem -> chest"),
    ):
        problem = assert_problem(office_admin.put(f"{project}/economy", json=document), 422, "invalid-definition")
        assert {"field": field, "message": message} in problem["errors"]
    assert_problem(office_admin.get(f"{project}/economy"), 404, "not-found")


def test_the_export_and_the_time_travel_keep_the_boosts_and_flags(game: RouteApi, office_admin: Dashboard) -> None:
    player = new_player(game)
    game.post(f"/players/{player}/items/grant", {"itemId": "chest", "quantity": 1})
    game.post(f"/players/{player}/items/consume", {"itemId": "chest", "quantity": 1})
    [boost] = game.get(f"/players/{player}").json()["boosts"]
    base = f"/v1/client/projects/{game.project}/players/{player}"
    exported = office_admin.get(f"{base}/export")
    assert exported.status_code == 200, exported.text
    assert exported.json()["boosts"] == [boost]
    assert exported.json()["flags"] == {"vip": True}
    assert "player.boost.started" in [event["type"] for event in exported.json()["events"]]
    at = office_admin.get(f"{base}/state", params={"seq": 3})
    assert at.status_code == 200, at.text
    assert at.json()["boosts"] == [boost] and at.json()["wallet"] == {"coins": 5}
    assert office_admin.get(f"{base}/state", params={"seq": 2}).json()["boosts"] == []


def test_a_batch_consume_applies_the_effects_and_boosts_the_ops_after_it(game: RouteApi) -> None:
    player = new_player(game)
    commands = [
        {"op": "grant", "playerId": player, "itemId": "chest", "quantity": 1},
        {"op": "xp", "playerId": player, "amount": 10},
        {"op": "consume", "playerId": player, "itemId": "chest", "quantity": 1},
        {"op": "xp", "playerId": player, "amount": 10},
    ]
    response = game.post("/commands", {"commands": commands})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["ok"] for r in results] == [True] * 4
    assert [results[1]["body"]["xp"], results[3]["body"]["xp"]] == [10, 30]
    assert game.get(f"/players/{player}").json()["wallet"] == {"coins": 5}
