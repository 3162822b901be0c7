"""Leaderboards over HTTP against the launched server (demo economy: `xp-all-time`,
`weekly-wins`, `high-score`). Other tests share the demo project, so scores here come from
ranges no other test uses and ranks are compared with each other, not with fixed numbers."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from websockets.sync.client import connect

from engine.leaderboards import MAX_SCORE
from serve.launcher import Launched
from serve.pagination import encode_cursor
from tests.e2e.conftest import Api
from tests.e2e.helpers import api_with_key, assert_problem, new_player, unique
from tests.e2e.test_realtime import credentials, receive, ws_url

BOARDS = "/leaderboards"


def submit(api: Api, player: str, score: int, key: str | None = None, board: str = "high-score") -> Any:
    headers = {"Idempotency-Key": key} if key else {}
    return api.post(f"{BOARDS}/{board}/scores", {"playerId": player, "score": score}, headers=headers)


def standing(api: Api, player: str, board: str = "high-score", **params: Any) -> dict[str, Any]:
    response = api.get(f"{BOARDS}/{board}/players/{player}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def base_score() -> int:
    """A score range of this test's own: 2**52 plus a random multiple of 1000."""
    return 2**52 + random.randrange(10**6) * 1000


def test_the_project_lists_its_boards_with_their_current_periods(api: Api) -> None:
    response = api.get(BOARDS)
    assert response.status_code == 200, response.text
    boards = {board["id"]: board for board in response.json()["items"]}
    assert set(boards) == {"xp-all-time", "weekly-wins", "high-score"}
    assert boards["high-score"]["operator"] == "best" and boards["high-score"]["period"]["id"] == "all"
    monday = datetime.now(UTC).date() - timedelta(days=datetime.now(UTC).weekday())
    assert boards["weekly-wins"]["period"]["startsAt"] == f"{monday.isoformat()}T00:00:00Z"


def test_a_submission_answers_the_rank_it_reached_and_ties_go_to_the_first(api: Api) -> None:
    base = base_score()
    first, second, low = (new_player(api, username=f"user-{n}") for n in ("first", "second", "low"))
    answer = submit(api, first, base + 1)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body == {
        "boardId": "high-score",
        "playerId": first,
        "score": base + 1,
        "rank": body["rank"],
        "periodId": "all",
    }
    assert submit(api, second, base + 1).status_code == 200
    assert submit(api, low, base).status_code == 200
    ranks = [standing(api, p)["rank"] for p in (first, second, low)]
    assert ranks[1] == ranks[0] + 1 and ranks[2] == ranks[1] + 1
    assert ranks[0] == body["rank"]
    page = api.get(f"{BOARDS}/high-score", params={"limit": 100}).json()
    assert page["period"] == {"id": "all", "startsAt": None, "endsAt": None}
    listed = standing(api, second, around=1)["around"]
    assert [(e["playerId"], e["username"], e["score"]) for e in listed] == [
        (first, "user-first", base + 1),
        (second, "user-second", base + 1),
        (low, "user-low", base),
    ]


def test_a_retried_submission_counts_once_and_a_worse_score_keeps_the_best(api: Api) -> None:
    base, player, key = base_score(), new_player(api), unique("score")
    first = submit(api, player, base + 500, key)
    again = submit(api, player, base + 500, key)
    assert first.status_code == again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") == "true" and "Idempotent-Replayed" not in first.headers
    assert_problem(submit(api, player, base + 501, key), 422, "idempotency-key-reused")
    worse = submit(api, player, base, unique("score"))
    assert worse.json()["score"] == base + 500
    events = api.get("/events", params={"type": "leaderboard.score.submitted", "playerId": player}).json()["items"]
    assert [e["data"]["score"] for e in events] == [base + 500, base]


def test_bad_submissions_are_problems_and_change_nothing(api: Api, player: str) -> None:
    assert_problem(submit(api, player, 5, board="xp-all-time"), 409, "not-submittable")
    assert_problem(submit(api, player, 5, board="no-such-board"), 404, "leaderboard-not-found")
    assert_problem(submit(api, "nobody-" + player, 5), 404, "player-not-found")
    for bad in (1.5, "7", MAX_SCORE + 1, True):
        response = api.post(f"{BOARDS}/high-score/scores", {"playerId": player, "score": bad})
        assert_problem(response, 422, "validation-error")
    assert_problem(api.get(f"{BOARDS}/high-score/players/{player}"), 404, "not-ranked")
    assert_problem(api.get(f"{BOARDS}/xp-all-time/players/{player}"), 404, "not-ranked")
    assert_problem(api.get(f"{BOARDS}/high-score", params={"period": "2026-W01"}), 404, "period-not-found")
    for forged in (
        "bm9wZQ",
        encode_cursor([10**30, 0, "x", 1]),
        encode_cursor([0, -1, "x", 1]),
        encode_cursor([0, 0, "x", 0]),
    ):
        assert_problem(api.get(f"{BOARDS}/high-score", params={"cursor": forged}), 422, "invalid-cursor")
    assert api.get("/events", params={"playerId": player, "type": "leaderboard.score.submitted"}).json()["items"] == []


def test_around_me_at_the_top_and_the_bottom_edges(api: Api) -> None:
    top, bottom = new_player(api), new_player(api)
    assert submit(api, top, MAX_SCORE).status_code == 200
    assert submit(api, bottom, -MAX_SCORE).status_code == 200
    at_top = standing(api, top, around=2)
    assert at_top["rank"] == 1 and at_top["around"][0]["playerId"] == top and at_top["around"][0]["rank"] == 1
    assert 1 <= len(at_top["around"]) <= 3
    at_bottom = standing(api, bottom, around=2)
    assert at_bottom["around"][-1] == {**at_bottom["around"][-1], "playerId": bottom, "rank": at_bottom["rank"]}
    assert len(at_bottom["around"]) == min(3, at_bottom["rank"])
    last_page = api.get(f"{BOARDS}/high-score", params={"limit": 100}).json()
    while last_page["nextCursor"]:
        last_page = api.get(f"{BOARDS}/high-score", params={"limit": 100, "cursor": last_page["nextCursor"]}).json()
    assert last_page["items"][-1]["playerId"] == bottom


def test_an_acknowledged_xp_award_is_on_the_board_and_a_refused_or_replayed_one_is_not(api: Api, player: str) -> None:
    key = unique("xp")
    for _ in range(2):
        assert api.post(f"/players/{player}/xp", {"amount": 120}, headers={"Idempotency-Key": key}).status_code == 200
        assert standing(api, player, board="xp-all-time")["score"] == 120
    assert api.post(f"/players/{player}/xp", {"amount": 0}).status_code == 422
    assert api.post(f"/players/{player}/xp", {"amount": 30}).status_code == 200
    assert standing(api, player, board="xp-all-time")["score"] == 150


def test_wins_feed_this_weeks_board_and_the_last_week_stays_readable(api: Api, player: str) -> None:
    assert api.post(f"/players/{player}/counters/wins/increment", {"by": 2}).status_code == 200
    mine = standing(api, player, board="weekly-wins")
    now = datetime.now(UTC)
    year, week, _ = now.isocalendar()
    assert mine["score"] == 2 and mine["period"]["id"] == f"{year}-W{week:02d}"
    previous = api.get(f"{BOARDS}/weekly-wins", params={"period": "previous"})
    assert previous.status_code == 200, previous.text
    assert previous.json()["period"]["endsAt"] == mine["period"]["startsAt"]
    assert player not in previous.text


def test_a_deleted_player_drops_out(api: Api, player: str) -> None:
    assert submit(api, player, base_score()).status_code == 200
    assert api.delete(f"/players/{player}").status_code == 204
    assert_problem(api.get(f"{BOARDS}/high-score/players/{player}"), 404, "not-ranked")


def test_a_read_only_key_reads_but_cannot_submit(ludex: Launched, control_plane: Any, api: Api, player: str) -> None:
    _, read_only = control_plane.create_api_key("demo", "demo", unique("reader"), scopes=("players:read",))
    with api_with_key(ludex.base_url, str(read_only)) as reader:
        assert reader.get(f"{BOARDS}/high-score").status_code == 200
        assert_problem(submit(reader, player, 1), 403, "insufficient-scope")
    assert_problem(api.get(f"{BOARDS}/high-score/players/{player}"), 404, "not-ranked")


@pytest.fixture(scope="module")
def other_tenant(control_plane: Any) -> dict[str, str]:
    control_plane.ensure_tenant("rival", "Rival Studio")
    control_plane.ensure_project("rival", "rival-game", "Rival game")
    _, api_key = control_plane.create_api_key("rival", "rival-game", "rival-key")
    return {"apiKey": str(api_key)}


def test_another_tenants_key_gets_404_and_none_of_the_board(
    ludex: Launched, api: Api, other_tenant: dict[str, str]
) -> None:
    player = new_player(api, username="secret-champion")
    assert submit(api, player, base_score()).status_code == 200
    with api_with_key(ludex.base_url, other_tenant["apiKey"], tenant="rival") as outsider:
        for path in (f"{BOARDS}/high-score", f"{BOARDS}/high-score/players/{player}", BOARDS):
            response = outsider.get(path)
            body = assert_problem(response, 404, "project-not-found")
            assert player not in body["detail"] and "secret-champion" not in response.text
        assert_problem(submit(outsider, player, MAX_SCORE), 404, "project-not-found")
    with api_with_key(ludex.base_url, other_tenant["apiKey"], tenant="demo") as disguised:
        response = disguised.get(f"{BOARDS}/high-score")
        assert response.status_code in (403, 404) and player not in response.text, response.text
    with api_with_key(ludex.base_url, other_tenant["apiKey"], tenant="rival", project="rival-game") as own:
        assert_problem(own.get(f"{BOARDS}/high-score"), 409, "economy-not-defined")  # no economy there
    assert standing(api, player)["score"] < MAX_SCORE


def test_realtime_watchers_get_the_top_when_it_changes(ludex: Launched, api: Api) -> None:
    with connect(ws_url(ludex.base_url, **credentials(ludex)), open_timeout=30) as ws:
        assert receive(ws)["type"] == "hello"
        ws.send(json.dumps({"action": "watch-leaderboard", "boardId": "no-such-board"}))
        assert receive(ws) == {"type": "error", "error": "unknown_leaderboard", "boardId": "no-such-board"}
        ws.send(json.dumps({"action": "watch-leaderboard", "boardId": "high-score", "top": 0}))
        assert receive(ws) == {"type": "error", "error": "invalid_message"}
        ws.send(json.dumps({"action": "watch-leaderboard", "boardId": "high-score", "top": 5}))
        assert receive(ws) == {"type": "watching", "boardId": "high-score", "top": 5}
        first = receive(ws)["event"]
        assert first["type"] == "leaderboard.rank.changed" and first["data"]["periodId"] == "all"
        champion = new_player(api, username="realtime-champion")
        assert submit(api, champion, MAX_SCORE - 1).status_code == 200  # at most second: only one test posts MAX
        for _ in range(20):  # pushes are throttled (1 s) and only sent when the top changed
            event = receive(ws)["event"]
            assert event["type"] == "leaderboard.rank.changed"
            if any(entry["playerId"] == champion for entry in event["data"]["top"]):
                break
        else:
            raise AssertionError("the new top was never pushed")
        entry = next(entry for entry in event["data"]["top"] if entry["playerId"] == champion)
        assert entry["score"] == MAX_SCORE - 1 and entry["username"] == "realtime-champion" and entry["rank"] <= 2
