"""Inventory, items, counters, quests and achievements over HTTP."""

from __future__ import annotations

from tests.e2e.helpers import assert_problem, balances, snapshot
from tests.routes.conftest import RouteApi as Api

DAILY_BATTLES = {"questId": "daily-battles", "title": "Daily battles"}


def test_a_new_inventory_is_empty(api: Api, player: str) -> None:
    response = api.get(f"/players/{player}/inventory")
    assert response.status_code == 200
    assert response.json() == {"items": []}


def test_granting_items_answers_the_new_total(api: Api, player: str) -> None:
    first = api.post(f"/players/{player}/items/grant", {"itemId": "potion", "quantity": 3})
    assert first.status_code == 200, first.text
    assert first.json() == {"itemId": "potion", "quantity": 3}
    assert api.post(f"/players/{player}/items/grant", {"itemId": "potion", "quantity": 4}).json() == {
        "itemId": "potion",
        "quantity": 7,
    }
    assert api.post(f"/players/{player}/items/grant", {"itemId": "sword", "quantity": 1}).json() == {
        "itemId": "sword",
        "quantity": 1,
    }
    assert api.get(f"/players/{player}/inventory").json() == {
        "items": [{"itemId": "potion", "quantity": 7}, {"itemId": "sword", "quantity": 1}]
    }
    assert api.get(f"/players/{player}").json()["inventory"] == [
        {"itemId": "potion", "quantity": 7},
        {"itemId": "sword", "quantity": 1},
    ]


def test_consuming_items_answers_the_new_total_and_drops_empty_lines(api: Api, player: str) -> None:
    api.post(f"/players/{player}/items/grant", {"itemId": "potion", "quantity": 5})
    consumed = api.post(f"/players/{player}/items/consume", {"itemId": "potion", "quantity": 2})
    assert consumed.status_code == 200, consumed.text
    assert consumed.json() == {"itemId": "potion", "quantity": 3}
    assert api.post(f"/players/{player}/items/consume", {"itemId": "potion", "quantity": 3}).json() == {
        "itemId": "potion",
        "quantity": 0,
    }
    assert api.get(f"/players/{player}/inventory").json() == {"items": []}


def test_consuming_more_than_held_answers_409_insufficient_items(api: Api, player: str) -> None:
    api.post(f"/players/{player}/items/grant", {"itemId": "potion", "quantity": 2})
    response = api.post(f"/players/{player}/items/consume", {"itemId": "potion", "quantity": 3})
    assert_problem(response, 409, "insufficient-items")
    assert api.get(f"/players/{player}/inventory").json() == {"items": [{"itemId": "potion", "quantity": 2}]}


def test_granting_a_sword_beyond_its_stack_limit_answers_409_stack_limit(api: Api, player: str) -> None:
    assert_problem(api.post(f"/players/{player}/items/grant", {"itemId": "sword", "quantity": 2}), 409, "stack-limit")
    assert api.get(f"/players/{player}/inventory").json() == {"items": []}
    assert api.post(f"/players/{player}/items/grant", {"itemId": "sword", "quantity": 1}).status_code == 200
    body = assert_problem(
        api.post(f"/players/{player}/items/grant", {"itemId": "sword", "quantity": 1}), 409, "stack-limit"
    )
    assert "sword" in body["detail"]
    assert api.get(f"/players/{player}/inventory").json() == {"items": [{"itemId": "sword", "quantity": 1}]}


def test_potions_stack_up_to_ninety_nine(api: Api, player: str) -> None:
    assert api.post(f"/players/{player}/items/grant", {"itemId": "potion", "quantity": 99}).status_code == 200
    assert_problem(api.post(f"/players/{player}/items/grant", {"itemId": "potion", "quantity": 1}), 409, "stack-limit")


def test_an_unknown_item_answers_422_unknown_item(api: Api, player: str) -> None:
    assert_problem(api.post(f"/players/{player}/items/grant", {"itemId": "wand", "quantity": 1}), 422, "unknown-item")
    assert_problem(api.post(f"/players/{player}/items/consume", {"itemId": "wand", "quantity": 1}), 422, "unknown-item")


def test_counters_start_empty_and_count_up(api: Api, player: str) -> None:
    assert api.get(f"/players/{player}/counters").json() == {"counters": {}}
    first = api.post(f"/players/{player}/counters/wins/increment", {"by": 2})
    assert first.status_code == 200, first.text
    assert first.json() == {"counterId": "wins", "value": 2, "unlocked": ["first-win"]}
    default_step = api.post(f"/players/{player}/counters/wins/increment", {})
    assert default_step.json() == {"counterId": "wins", "value": 3, "unlocked": []}
    assert api.get(f"/players/{player}/counters").json() == {"counters": {"wins": 3}}


def test_counters_unlock_first_win_then_ten_wins(api: Api, player: str) -> None:
    assert api.get(f"/players/{player}/achievements").json() == {"items": []}
    first = api.post(f"/players/{player}/counters/wins/increment", {"by": 1}).json()
    assert first == {"counterId": "wins", "value": 1, "unlocked": ["first-win"]}
    achievements = api.get(f"/players/{player}/achievements").json()["items"]
    assert [a["achievementId"] for a in achievements] == ["first-win"]
    first_unlocked_at = achievements[0]["unlockedAt"]

    middle = api.post(f"/players/{player}/counters/wins/increment", {"by": 8}).json()
    assert middle == {"counterId": "wins", "value": 9, "unlocked": []}
    tenth = api.post(f"/players/{player}/counters/wins/increment", {"by": 1}).json()
    assert tenth == {"counterId": "wins", "value": 10, "unlocked": ["ten-wins"]}
    later = api.post(f"/players/{player}/counters/wins/increment", {"by": 1}).json()
    assert later == {"counterId": "wins", "value": 11, "unlocked": []}

    achievements = api.get(f"/players/{player}/achievements").json()["items"]
    assert [a["achievementId"] for a in achievements] == ["first-win", "ten-wins"]
    assert achievements[0]["unlockedAt"] == first_unlocked_at
    assert all(set(a) == {"achievementId", "unlockedAt"} for a in achievements)
    assert api.get(f"/players/{player}").json()["achievements"] == achievements


def test_one_increment_can_unlock_both_achievements(api: Api, player: str) -> None:
    body = api.post(f"/players/{player}/counters/wins/increment", {"by": 10}).json()
    assert body == {"counterId": "wins", "value": 10, "unlocked": ["first-win", "ten-wins"]}


def test_resetting_a_counter_sets_it_to_zero_and_keeps_achievements(api: Api, player: str) -> None:
    api.post(f"/players/{player}/counters/wins/increment", {"by": 4})
    response = api.post(f"/players/{player}/counters/wins/reset")
    assert response.status_code == 200, response.text
    assert response.json() == {"counterId": "wins", "value": 0}
    assert api.get(f"/players/{player}/counters").json() == {"counters": {"wins": 0}}
    assert [a["achievementId"] for a in api.get(f"/players/{player}/achievements").json()["items"]] == ["first-win"]
    again = api.post(f"/players/{player}/counters/wins/increment", {"by": 1}).json()
    assert again == {"counterId": "wins", "value": 1, "unlocked": []}


def test_an_unknown_counter_answers_404_unknown_counter(api: Api, player: str) -> None:
    assert_problem(api.post(f"/players/{player}/counters/losses/increment", {"by": 1}), 404, "unknown-counter")
    assert_problem(api.post(f"/players/{player}/counters/losses/reset"), 404, "unknown-counter")


def test_quest_progress_answers_the_quest_state(api: Api, player: str) -> None:
    response = api.post(f"/players/{player}/quests/daily-battles/progress", {"objectiveId": "battles", "by": 1})
    assert response.status_code == 200, response.text
    assert response.json() == {
        **DAILY_BATTLES,
        "objectives": [{"objectiveId": "battles", "progress": 1, "target": 3}],
        "completed": False,
        "completedAt": None,
    }
    quests = api.get(f"/players/{player}/quests").json()
    assert quests == {"active": [response.json()], "completed": []}
    assert balances(api, player) == {}


def test_completing_a_quest_pays_fifty_coins_once(api: Api, player: str) -> None:
    api.post(f"/players/{player}/quests/daily-battles/progress", {"objectiveId": "battles", "by": 1})
    api.post(f"/players/{player}/quests/daily-battles/progress", {"objectiveId": "battles", "by": 1})
    assert balances(api, player) == {}
    done = api.post(f"/players/{player}/quests/daily-battles/progress", {"objectiveId": "battles", "by": 1})
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["completed"] is True
    assert body["completedAt"].endswith("Z")
    assert body["objectives"] == [{"objectiveId": "battles", "progress": 3, "target": 3}]
    assert balances(api, player) == {"coins": 50}
    assert api.get(f"/players/{player}/quests").json() == {"active": [], "completed": [body]}
    history = api.get(f"/players/{player}/wallet/history").json()["items"]
    assert [(e["delta"], e["reason"]) for e in history] == [(50, "quest:daily-battles")]

    assert_problem(
        api.post(f"/players/{player}/quests/daily-battles/progress", {"objectiveId": "battles"}),
        409,
        "quest-completed",
    )
    assert balances(api, player) == {"coins": 50}


def test_overshooting_a_quest_objective_caps_progress_at_the_target(api: Api, player: str) -> None:
    body = api.post(f"/players/{player}/quests/daily-battles/progress", {"objectiveId": "battles", "by": 7}).json()
    assert body["objectives"] == [{"objectiveId": "battles", "progress": 3, "target": 3}]
    assert body["completed"] is True
    assert balances(api, player) == {"coins": 50}


def test_an_unknown_quest_or_objective_is_refused_without_effect(api: Api, player: str) -> None:
    before = snapshot(api, player)
    assert_problem(
        api.post(f"/players/{player}/quests/nope/progress", {"objectiveId": "battles"}), 404, "unknown-quest"
    )
    assert_problem(
        api.post(f"/players/{player}/quests/daily-battles/progress", {"objectiveId": "dragons"}),
        422,
        "unknown-objective",
    )
    assert snapshot(api, player) == before
