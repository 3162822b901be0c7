"""Players and progression over HTTP: creation, listing, updates, soft deletion, XP and levels."""

from __future__ import annotations

from tests.e2e.helpers import assert_problem, new_player, unique
from tests.routes.conftest import RouteApi as Api


def test_creating_a_player_answers_201_with_the_player(api: Api) -> None:
    player_id = unique("pl")
    response = api.post("/players", {"playerId": player_id, "username": "ada", "metadata": {"team": "red"}})
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"playerId", "username", "metadata", "createdAt", "updatedAt"}
    assert (body["playerId"], body["username"], body["metadata"]) == (player_id, "ada", {"team": "red"})
    assert body["createdAt"] == body["updatedAt"]
    assert body["createdAt"].endswith("Z")


def test_creating_the_same_player_with_the_same_body_answers_200_with_the_same_player(api: Api) -> None:
    player_id = unique("pl")
    payload = {"playerId": player_id, "username": "ada", "metadata": {"team": "red"}}
    first = api.post("/players", payload)
    again = api.post("/players", payload)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert "idempotent-replayed" not in again.headers


def test_creating_an_existing_player_with_another_body_answers_409_player_exists(api: Api) -> None:
    player_id = new_player(api, username="ada")
    assert_problem(api.post("/players", {"playerId": player_id, "username": "bob"}), 409, "player-exists")
    other_metadata = {"playerId": player_id, "username": "ada", "metadata": {"x": 1}}
    assert_problem(api.post("/players", other_metadata), 409, "player-exists")
    assert api.get(f"/players/{player_id}").json()["username"] == "ada"


def test_creating_without_player_id_but_with_an_idempotency_key_twice_yields_one_player(api: Api) -> None:
    key, username = unique("create"), unique("anon")
    first = api.post("/players", {"username": username}, headers={"Idempotency-Key": key})
    again = api.post("/players", {"username": username}, headers={"Idempotency-Key": key})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    player_id = first.json()["playerId"]
    assert api.get(f"/players/{player_id}").status_code == 200
    listed = api.get("/players", params={"username": username}).json()["items"]
    assert [p["playerId"] for p in listed] == [player_id]


def test_creating_without_player_id_with_the_body_idempotency_key_twice_yields_one_player(api: Api) -> None:
    payload = {"username": unique("anon"), "idempotencyKey": unique("create")}
    first = api.post("/players", payload)
    again = api.post("/players", payload)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"


def test_creating_without_player_id_and_without_a_key_makes_distinct_players(api: Api) -> None:
    username = unique("anon")
    first = api.post("/players", {"username": username})
    second = api.post("/players", {"username": username})
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["playerId"] != second.json()["playerId"]


def test_a_new_player_has_an_empty_profile(api: Api) -> None:
    player_id = new_player(api, username="fresh", metadata={"a": [1, 2]})
    profile = api.get(f"/players/{player_id}").json()
    created = profile.pop("createdAt")
    assert profile.pop("updatedAt") == created
    assert profile == {
        "playerId": player_id,
        "username": "fresh",
        "metadata": {"a": [1, 2]},
        "level": 1,
        "xp": 0,
        "nextLevelXp": 100,
        "wallet": {},
        "inventory": [],
        "achievements": [],
        "quests": {
            "active": [
                {
                    "questId": "daily-battles",
                    "title": "Daily battles",
                    "objectives": [{"objectiveId": "battles", "progress": 0, "target": 3}],
                    "completed": False,
                    "completedAt": None,
                }
            ],
            "completed": [],
        },
        "counters": {},
        "boosts": [],
    }


def test_getting_an_unknown_player_answers_404_player_not_found(api: Api) -> None:
    assert_problem(api.get(f"/players/{unique('ghost')}"), 404, "player-not-found")


def test_listing_by_username_walks_every_page_without_duplicates(api: Api) -> None:
    username = unique("walk")
    created = sorted(new_player(api, playerId=f"{username}-{i}", username=username) for i in range(5))
    new_player(api, username=unique("someone-else"))
    seen: list[str] = []
    pages = 0
    cursor = None
    while True:
        params: dict[str, str | int] = {"username": username, "limit": 2}
        if cursor is not None:
            params["cursor"] = cursor
        response = api.get("/players", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert set(page) == {"items", "nextCursor"}
        assert len(page["items"]) <= 2
        assert all(item["username"] == username for item in page["items"])
        seen += [item["playerId"] for item in page["items"]]
        pages += 1
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == created  # ordered by id, each exactly once


def test_listing_with_a_page_larger_than_the_matches_has_no_next_cursor(api: Api) -> None:
    username = unique("solo")
    player_id = new_player(api, username=username)
    page = api.get("/players", params={"username": username, "limit": 50}).json()
    assert [item["playerId"] for item in page["items"]] == [player_id]
    assert page["nextCursor"] is None
    item = page["items"][0]
    assert set(item) == {"playerId", "username", "metadata", "createdAt", "updatedAt", "level", "xp"}


def test_listing_with_an_invalid_cursor_answers_422_invalid_cursor(api: Api) -> None:
    assert_problem(api.get("/players", params={"cursor": "not-a-cursor!"}), 422, "invalid-cursor")


def test_listing_with_a_limit_out_of_range_answers_422(api: Api) -> None:
    assert_problem(api.get("/players", params={"limit": 0}), 422, "validation-error")
    assert_problem(api.get("/players", params={"limit": 201}), 422, "validation-error")


def test_patching_a_player_changes_username_and_metadata(api: Api) -> None:
    old_name, new_name = unique("old"), unique("new")
    player_id = new_player(api, username=old_name, metadata={"a": 1})
    response = api.patch(f"/players/{player_id}", {"username": new_name, "metadata": {"b": 2}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["playerId"], body["username"], body["metadata"]) == (player_id, new_name, {"b": 2})
    assert body["updatedAt"] >= body["createdAt"]
    profile = api.get(f"/players/{player_id}").json()
    assert (profile["username"], profile["metadata"]) == (new_name, {"b": 2})
    assert [p["playerId"] for p in api.get("/players", params={"username": new_name}).json()["items"]] == [player_id]
    assert api.get("/players", params={"username": old_name}).json()["items"] == []


def test_patching_only_the_username_keeps_the_metadata(api: Api) -> None:
    player_id = new_player(api, metadata={"keep": True})
    body = api.patch(f"/players/{player_id}", {"username": "renamed"}).json()
    assert (body["username"], body["metadata"]) == ("renamed", {"keep": True})


def test_patching_an_unknown_player_answers_404(api: Api) -> None:
    assert_problem(api.patch(f"/players/{unique('ghost')}", {"username": "x"}), 404, "player-not-found")


def test_deleting_a_player_answers_204_and_later_calls_answer_404(api: Api) -> None:
    username = unique("doomed")
    player_id = new_player(api, username=username)
    response = api.delete(f"/players/{player_id}")
    assert response.status_code == 204
    assert response.content == b""
    assert_problem(api.get(f"/players/{player_id}"), 404, "player-not-found")
    assert_problem(api.get(f"/players/{player_id}/wallet"), 404, "player-not-found")
    assert_problem(api.post(f"/players/{player_id}/xp", {"amount": 10}), 404, "player-not-found")
    assert_problem(
        api.post(f"/players/{player_id}/wallet/credit", {"currency": "coins", "amount": 1}), 404, "player-not-found"
    )
    assert_problem(api.get(f"/players/{player_id}/progression"), 404, "player-not-found")
    assert_problem(api.get(f"/players/{player_id}/wallet/history"), 404, "player-not-found")
    assert_problem(api.delete(f"/players/{player_id}"), 404, "player-not-found")
    assert api.get("/players", params={"username": username}).json()["items"] == []


def test_awarding_xp_below_the_next_level_keeps_the_level(api: Api, player: str) -> None:
    response = api.post(f"/players/{player}/xp", {"amount": 99, "reason": "match"})
    assert response.status_code == 200, response.text
    assert response.json() == {"xp": 99, "level": 1, "leveledUp": False, "levelsGained": 0, "nextLevelXp": 100}


def test_one_xp_award_can_gain_several_levels(api: Api, player: str) -> None:
    award = api.post(f"/players/{player}/xp", {"amount": 1000})
    assert award.json() == {"xp": 1000, "level": 6, "leveledUp": True, "levelsGained": 5, "nextLevelXp": 1400}
    progression = api.get(f"/players/{player}/progression")
    assert progression.status_code == 200
    assert progression.json() == {"xp": 1000, "level": 6, "currentLevelXp": 1000, "nextLevelXp": 1400}
    profile = api.get(f"/players/{player}").json()
    assert (profile["xp"], profile["level"], profile["nextLevelXp"]) == (1000, 6, 1400)


def test_reaching_the_last_level_has_no_next_level(api: Api, player: str) -> None:
    api.post(f"/players/{player}/xp", {"amount": 449})
    award = api.post(f"/players/{player}/xp", {"amount": 5000})
    assert award.json() == {"xp": 5449, "level": 10, "leveledUp": True, "levelsGained": 7, "nextLevelXp": None}
    progression = api.get(f"/players/{player}/progression").json()
    assert progression == {"xp": 5449, "level": 10, "currentLevelXp": 3200, "nextLevelXp": None}


def test_progression_of_a_new_player_starts_at_level_one(api: Api, player: str) -> None:
    assert api.get(f"/players/{player}/progression").json() == {
        "xp": 0,
        "level": 1,
        "currentLevelXp": 0,
        "nextLevelXp": 100,
    }


def test_awarding_zero_or_negative_xp_answers_422(api: Api, player: str) -> None:
    assert_problem(api.post(f"/players/{player}/xp", {"amount": 0}), 422, "validation-error")
    assert_problem(api.post(f"/players/{player}/xp", {"amount": -5}), 422, "validation-error")
    assert api.get(f"/players/{player}/progression").json()["xp"] == 0
