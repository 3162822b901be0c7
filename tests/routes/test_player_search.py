"""Players found by username and id prefix and sorted by created, updated, level and XP, over
HTTP: every page in order with each player once, and a sort the API does not know refused."""

from __future__ import annotations

from typing import Any

from tests.e2e.helpers import assert_problem, new_player, unique
from tests.routes.conftest import RouteApi as Api


def walk(api: Api, **params: Any) -> list[dict[str, Any]]:
    """Every page of `GET /players` with these filters, two at a time."""
    found: list[dict[str, Any]] = []
    query = {**params, "limit": 2}
    while True:
        response = api.get("/players", params=query)
        assert response.status_code == 200, response.text
        found += response.json()["items"]
        if not (cursor := response.json()["nextCursor"]):
            return found
        query["cursor"] = cursor


def squad(api: Api) -> tuple[str, dict[str, int]]:
    """Five players under one fresh prefix (ids and usernames alike), with XP out of id order."""
    prefix = unique("sq")
    xp = {"a": 460, "b": 0, "c": 120, "d": 460, "e": 30}
    for suffix, amount in xp.items():
        player = new_player(api, playerId=f"{prefix}-{suffix}", username=f"{prefix}-{'edcba'.index(suffix)}")
        if amount:
            assert api.post(f"/players/{player}/xp", {"amount": amount}).status_code == 200
    return prefix, xp


def test_a_username_prefix_finds_only_its_players_ordered_by_username(api: Api) -> None:
    prefix, _ = squad(api)
    new_player(api, username=unique("other"))
    found = walk(api, usernamePrefix=prefix)
    assert [p["username"] for p in found] == [f"{prefix}-{n}" for n in range(5)]
    assert [p["playerId"] for p in found] == [f"{prefix}-{s}" for s in "edcba"]
    assert walk(api, usernamePrefix=prefix, sort="-username")[0]["username"] == f"{prefix}-4"


def test_an_id_prefix_sorts_by_xp_level_and_creation_either_way(api: Api) -> None:
    prefix, xp = squad(api)
    by_xp = walk(api, idPrefix=prefix, sort="-xp")
    assert [p["playerId"].removeprefix(f"{prefix}-") for p in by_xp] == ["d", "a", "c", "e", "b"]
    assert [p["xp"] for p in by_xp] == sorted(xp.values(), reverse=True)
    assert [p["level"] for p in walk(api, idPrefix=prefix, sort="level")] == [1, 1, 2, 4, 4]
    assert [p["playerId"][-1] for p in walk(api, idPrefix=prefix, sort="createdAt")] == list("abcde")
    assert [p["playerId"][-1] for p in walk(api, idPrefix=prefix, sort="-createdAt")] == list("edcba")
    assert [p["playerId"][-1] for p in walk(api, idPrefix=prefix)] == list("abcde")
    assert {p["playerId"][-1] for p in walk(api, idPrefix=prefix, sort="updatedAt")} == set("abcde")


def test_an_unknown_sort_field_answers_422_and_a_cursor_of_another_sort_is_refused(api: Api) -> None:
    prefix, _ = squad(api)
    assert_problem(api.get("/players", params={"sort": "password"}), 422, "validation-error")
    assert_problem(api.get("/players", params={"sort": "-"}), 422, "validation-error")
    assert_problem(api.get("/players", params={"usernamePrefix": ""}), 422, "validation-error")
    by_id = api.get("/players", params={"idPrefix": prefix, "limit": 1}).json()["nextCursor"]
    assert_problem(api.get("/players", params={"sort": "xp", "cursor": by_id}), 422, "invalid-cursor")


def test_the_backoffice_lookup_searches_and_sorts_as_the_game_api_does(api: Api, control_plane: Any, seam: Any) -> None:
    from tests.routes.conftest import sign_in

    prefix, _ = squad(api)
    creds = seam.credentials
    dashboard = sign_in(seam, creds["adminEmail"], creds["adminPassword"], creds["tenantId"])
    path = f"/v1/client/projects/{creds['projectId']}/players"
    response = dashboard.get(path, params={"usernamePrefix": prefix, "sort": "-xp", "limit": 3})
    assert response.status_code == 200, response.text
    game = api.get("/players", params={"usernamePrefix": prefix, "sort": "-xp", "limit": 3})
    assert response.json() == game.json()
    assert_problem(dashboard.get(path, params={"sort": "name"}), 422, "validation-error")
