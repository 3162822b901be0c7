"""Economy guardrails at the route seam (no Ray): a per-player cap refuses with 429
`guardrail-tripped` (its `guardrail`, `Retry-After`) and changes nothing, a replay of the refused
key answers the same refusal, a `flag` guardrail applies the command and flags the player, both
announce `economy.guardrail.tripped`, and the economy validates and round-trips its guardrails."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.e2e.helpers import assert_problem, balances
from tests.routes.conftest import Dashboard, RouteApi, Seam, project_api

ECONOMY: dict[str, Any] = {
    "currencies": [{"id": "coins", "kind": "soft"}, {"id": "gems", "kind": "hard"}],
    "items": [{"id": "sword", "stackLimit": 1000}],
    "xpCurve": {"levels": [0, 100]},
    "skus": [{"sku": "gem-bundle", "price": {"coins": 10}, "grants": {"currencies": {"gems": 5}}}],
    "guardrails": [
        {"id": "coin-cap", "currency": "coins", "perPlayer": {"amount": 100, "per": "hour"}, "action": "refuse"},
        {
            "id": "gem-watch",
            "currency": "gems",
            "source": "gem-bundle",
            "perPlayer": {"amount": 10, "per": "day"},
            "action": "flag",
        },
        {"id": "sword-budget", "itemId": "sword", "project": {"amount": 50, "per": "day"}, "action": "refuse"},
    ],
}
SCOPES = ["players:read", "players:write", "economy:write", "store:purchase", "events:read"]


@pytest.fixture(scope="module")
def api(office: Seam, office_admin: Dashboard) -> RouteApi:
    return project_api(office, office_admin, ECONOMY, SCOPES, prefix="gr")


@pytest.fixture
def player(api: RouteApi) -> str:
    player_id = f"pl-{uuid.uuid4().hex[:10]}"
    assert api.post("/players", {"playerId": player_id, "username": player_id}).status_code == 201
    return player_id


def credit(api: RouteApi, player: str, amount: int, key: str | None = None) -> Any:
    headers = {} if key is None else {"idempotency-key": key}
    return api.post(f"/players/{player}/wallet/credit", {"currency": "coins", "amount": amount}, headers=headers)


def tripped_events(api: RouteApi, player: str) -> list[dict[str, Any]]:
    response = api.get("/events", params={"type": "economy.guardrail.tripped", "playerId": player})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_a_per_player_cap_refuses_the_command_that_would_pass_it(api: RouteApi, player: str) -> None:
    assert credit(api, player, 60).status_code == 200
    assert credit(api, player, 40).status_code == 200  # exactly at the cap
    refused = credit(api, player, 1)
    problem = assert_problem(refused, 429, "guardrail-tripped")
    assert problem["guardrail"] == "coin-cap"
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert balances(api, player) == {"coins": 100}
    (event,) = tripped_events(api, player)
    assert event["data"]["guardrailId"] == "coin-cap"
    assert event["data"]["action"] == "refuse"


def test_a_refusal_is_remembered_per_idempotency_key(api: RouteApi, player: str) -> None:
    assert credit(api, player, 100).status_code == 200
    first = credit(api, player, 5, key="k-over")
    assert_problem(first, 429, "guardrail-tripped")
    again = credit(api, player, 5, key="k-over")
    problem = assert_problem(again, 429, "guardrail-tripped")
    assert problem["guardrail"] == "coin-cap"
    assert again.headers["Retry-After"]
    assert len(tripped_events(api, player)) == 1  # the replay announced nothing new
    assert balances(api, player) == {"coins": 100}


def test_a_flag_guardrail_applies_the_command_and_flags_the_player(api: RouteApi, player: str) -> None:
    assert credit(api, player, 100).status_code == 200
    for _ in range(2):
        assert api.post(f"/players/{player}/purchases", {"sku": "gem-bundle"}).status_code == 201
    assert "guardrail:gem-watch" not in api.get(f"/players/{player}/flags").json()["flags"]
    third = api.post(f"/players/{player}/purchases", {"sku": "gem-bundle"})
    assert third.status_code == 201, third.text
    assert balances(api, player)["gems"] == 15
    assert api.get(f"/players/{player}/flags").json()["flags"]["guardrail:gem-watch"] is True
    (event,) = tripped_events(api, player)
    assert (event["data"]["guardrailId"], event["data"]["action"]) == ("gem-watch", "flag")


def test_a_project_budget_holds_across_players(api: RouteApi) -> None:
    given = 0
    refused = 0
    for _ in range(8):
        player_id = f"pl-{uuid.uuid4().hex[:10]}"
        assert api.post("/players", {"playerId": player_id, "username": player_id}).status_code == 201
        response = api.post(f"/players/{player_id}/items/grant", {"itemId": "sword", "quantity": 10})
        if response.status_code == 200:
            given += 10
        else:
            assert assert_problem(response, 429, "guardrail-tripped")["guardrail"] == "sword-budget"
            refused += 1
    assert given == 50
    assert refused == 3


@pytest.mark.parametrize(
    ("guardrail", "field"),
    [
        (
            {"id": "x", "currency": "silver", "perPlayer": {"amount": 1, "per": "hour"}, "action": "refuse"},
            "guardrails[0].currency",
        ),
        (
            {"id": "x", "itemId": "axe", "perPlayer": {"amount": 1, "per": "hour"}, "action": "refuse"},
            "guardrails[0].itemId",
        ),
        (
            {"id": "x", "currency": "coins", "perPlayer": {"amount": 1, "per": "week"}, "action": "refuse"},
            "guardrails[0].perPlayer.per",
        ),
        (
            {"id": "x", "currency": "coins", "project": {"amount": 0, "per": "day"}, "action": "flag"},
            "guardrails[0].project.amount",
        ),
        (
            {"id": "x", "currency": "coins", "perPlayer": {"amount": 1, "per": "hour"}, "action": "ban"},
            "guardrails[0].action",
        ),
    ],
)
def test_a_bad_guardrail_is_refused_naming_its_field(
    office_admin: Dashboard, guardrail: dict[str, Any], field: str
) -> None:
    project = f"grv-{uuid.uuid4().hex[:8]}"
    assert office_admin.post("/v1/client/projects", json={"id": project, "name": project}).status_code == 201
    response = office_admin.put(f"/v1/client/projects/{project}/economy", json={**ECONOMY, "guardrails": [guardrail]})
    problem = assert_problem(response, 422, "invalid-definition")
    assert field in [error["field"] for error in problem["errors"]], problem


def test_duplicate_guardrail_ids_are_refused(office_admin: Dashboard) -> None:
    project = f"grv-{uuid.uuid4().hex[:8]}"
    assert office_admin.post("/v1/client/projects", json={"id": project, "name": project}).status_code == 201
    twice = [ECONOMY["guardrails"][0], ECONOMY["guardrails"][0]]
    response = office_admin.put(f"/v1/client/projects/{project}/economy", json={**ECONOMY, "guardrails": twice})
    problem = assert_problem(response, 422, "invalid-definition")
    assert any("duplicate id" in error["message"] for error in problem["errors"]), problem


def test_guardrails_round_trip_through_the_economy(api: RouteApi, office_admin: Dashboard) -> None:
    document = office_admin.get(f"/v1/client/projects/{api.project}/economy").json()["document"]
    assert document["guardrails"] == ECONOMY["guardrails"]
