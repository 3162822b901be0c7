"""Feature flags at the route seam (no Ray): a player's flags follow the economy's rollouts and
targeting rules, bad overrides change nothing, the OpenAPI states what an override may be, and
other tenants see nothing. tests/e2e/test_flags.py keeps the overrides winning for every player
through Ray Serve."""

from __future__ import annotations

from typing import Any

import pytest

from engine.flags import MAX_SAFE_INTEGER, is_in_rollout
from tests.e2e.helpers import assert_problem, new_player
from tests.routes.conftest import Dashboard, RouteApi, Seam, api_with_key, project_api


@pytest.fixture(scope="module")
def flagged(office: Seam, office_admin: Dashboard, demo_economy_document: Any) -> dict[str, Any]:
    """A fresh project of the demo tenant on the demo economy (which defines three flags)."""
    game = project_api(office, office_admin, demo_economy_document, ["players:read", "players:write"], prefix="flg")
    project = game.project
    writer = office_admin.post(
        f"/v1/client/projects/{project}/api-keys", json={"name": "w", "scopes": ["players:write"]}
    )
    return {
        "project": project,
        "game": game,
        "writeOnly": writer.json()["apiKey"],
        "overrides": f"/v1/client/projects/{project}/flags/overrides",
    }


def flags_of(game: RouteApi, player_id: str) -> dict[str, Any]:
    response = game.get(f"/players/{player_id}/flags")
    assert response.status_code == 200, response.text
    flags: dict[str, Any] = response.json()["flags"]
    return flags


def test_a_new_player_gets_defaults_and_the_rollout_its_id_buckets_into(flagged: dict[str, Any]) -> None:
    game = flagged["game"]
    for _ in range(4):
        player = new_player(game)
        flags = flags_of(game, player)
        assert flags == {"doubleXp": False, "newShop": is_in_rollout("newShop", player, 25), "veteranOffer": "none"}
        assert flags_of(game, player) == flags, "stable from one read to the next"


def test_a_player_who_meets_every_targeting_rule_gets_the_targeted_value(flagged: dict[str, Any]) -> None:
    game = flagged["game"]
    player = new_player(game, metadata={"country": "BR"})
    assert flags_of(game, player)["veteranOffer"] == "none"
    assert game.post(f"/players/{player}/xp", {"amount": 460}).status_code == 200  # level 4
    assert flags_of(game, player)["veteranOffer"] == "none", "no first-win yet"
    assert game.post(f"/players/{player}/counters/wins/increment", {"by": 1}).status_code == 200
    assert flags_of(game, player)["veteranOffer"] == "veteran-pack"
    assert game.patch(f"/players/{player}", {"metadata": {"country": "US"}}).status_code == 200
    assert flags_of(game, player)["veteranOffer"] == "none"


@pytest.mark.parametrize(
    "body",
    [{"overrides": {"noSuchFlag": True}}, {"overrides": {"newShop": 0.5}}, {"overrides": []}, {"other": 1}],
)
def test_a_bad_override_is_422_and_changes_nothing(
    flagged: dict[str, Any], office_admin: Dashboard, body: dict[str, Any]
) -> None:
    admin = office_admin
    before = admin.get(flagged["overrides"]).json()
    assert_problem(admin.put(flagged["overrides"], json=body), 422, "validation-error")
    assert admin.get(flagged["overrides"]).json() == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"newShop": "yes"}, "overrides.newShop"),
        ({"doubleXp": 1}, "overrides.doubleXp"),
        ({"newShop": True, "veteranOffer": False}, "overrides.veteranOffer"),
        ({"veteranOffer": 7}, "overrides.veteranOffer"),
    ],
    ids=["string-for-boolean", "integer-for-boolean", "boolean-for-string", "integer-for-string"],
)
def test_an_override_of_another_type_than_its_flag_is_422_with_its_path_and_changes_nothing(
    flagged: dict[str, Any], office_admin: Dashboard, overrides: dict[str, Any], field: str
) -> None:
    admin = office_admin
    assert admin.put(flagged["overrides"], json={"overrides": {"veteranOffer": "vip"}}).status_code == 200
    before = admin.get(flagged["overrides"]).json()
    problem = assert_problem(admin.put(flagged["overrides"], json={"overrides": overrides}), 422, "validation-error")
    assert [error["field"] for error in problem["errors"]] == [field], problem
    assert admin.get(flagged["overrides"]).json() == before
    assert admin.put(flagged["overrides"], json={"overrides": {}}).status_code == 200


def test_flags_need_players_read_and_a_live_player(flagged: dict[str, Any], office: Seam) -> None:
    game = flagged["game"]
    player = new_player(game)
    with api_with_key(office, flagged["writeOnly"], project=flagged["project"]) as writer:
        assert_problem(writer.get(f"/players/{player}/flags"), 403, "insufficient-scope")
    assert_problem(game.get("/players/nobody-here/flags"), 404, "player-not-found")


def test_another_tenant_cannot_read_or_set_this_project_s_flags(
    flagged: dict[str, Any], office: Seam, office_control: Any, office_admin: Dashboard
) -> None:
    admin, control_plane = office_admin, office_control
    control_plane.ensure_tenant("other", "Other Corp")
    control_plane.ensure_project("other", "other-proj", "Other Corp secret project")
    _, other_key = control_plane.create_api_key("other", "other-proj", "other-key")
    player = new_player(flagged["game"])
    with api_with_key(office, str(other_key), tenant="other", project=flagged["project"]) as outsider:
        response = outsider.get(f"/players/{player}/flags")
        assert response.status_code in (403, 404), response.text
        assert "flags" not in response.json()
    other = admin.get("/v1/client/projects/other-proj/flags/overrides", headers={"x-tenant-id": "demo"})
    assert_problem(other, 404, "project-not-found")
    refused = admin.put(
        "/v1/client/projects/other-proj/flags/overrides",
        json={"overrides": {}},
        headers={"x-tenant-id": "demo"},
    )
    assert_problem(refused, 404, "project-not-found")


def test_the_openapi_states_what_an_override_may_be_and_the_route_agrees(
    flagged: dict[str, Any], office: Seam, office_admin: Dashboard
) -> None:
    """Integers within ±(2^53 - 1) and non-empty flag names, in the schema as in the
    checks: a body the schema allows is refused only for a rule it cannot state (no such flag in
    the economy, or another type than the flag's), with 422 naming the override."""
    spec = office.client.get("/v1/openapi.json").json()
    overrides = spec["components"]["schemas"]["FlagOverridesUpdate"]["properties"]["overrides"]
    integer = next(kind for kind in overrides["additionalProperties"]["anyOf"] if kind["type"] == "integer")
    assert (integer["minimum"], integer["maximum"]) == (-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
    assert overrides["propertyNames"]["minLength"] == 1
    admin = office_admin
    before = admin.get(flagged["overrides"]).json()
    too_big = admin.put(flagged["overrides"], json={"overrides": {"veteranOffer": MAX_SAFE_INTEGER + 1}})
    assert_problem(too_big, 422, "validation-error")
    bad_id = admin.put(flagged["overrides"], json={"overrides": {"": True}})
    assert_problem(bad_id, 422, "validation-error")
    assert admin.get(flagged["overrides"]).json() == before
