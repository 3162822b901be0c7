"""The read-only Leaderboards page against the API: scores submitted through the game API show
in the standings the backoffice route answers (the same page as the game API's), page by page."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import Server, screenshot
from tests.browser.helpers import nav, new_player, sign_in

BOARD = "/v1/client/projects/demo/leaderboards/high-score"
PAGE_SIZE = 25  # what the console asks for


def test_leaderboards_show_the_standings_the_api_answers_page_by_page(page: Page, server: Server) -> None:
    players = [new_player(server) for _ in range(PAGE_SIZE + 1)]
    with server.game() as game:
        for n, player in enumerate(players):
            scored = game.post("/leaderboards/high-score/scores", json={"playerId": player, "score": 2**52 + n})
            assert scored.status_code == 200, scored.text
        from_game = game.get("/leaderboards/high-score", params={"limit": PAGE_SIZE}).json()
    with server.admin() as admin:
        answer = admin.get(BOARD, params={"limit": PAGE_SIZE})
        unknown = admin.get("/v1/client/projects/demo/leaderboards/no-such-board")
        bad_period = admin.get(BOARD, params={"period": "1999-W99"})
    assert answer.status_code == 200, answer.text
    first: dict[str, Any] = answer.json()
    assert first == from_game  # one shared function behind both routes
    assert first["items"][0]["playerId"] == players[-1] and first["nextCursor"]
    assert unknown.status_code == 404 and unknown.headers["content-type"].startswith("application/problem+json")
    assert unknown.json()["type"].endswith("/leaderboard-not-found")
    assert bad_period.status_code == 404 and bad_period.json()["type"].endswith("/period-not-found")

    sign_in(page, server)
    nav(page, "Leaderboards")
    page.get_by_label("Leaderboard").select_option("high-score")
    standings = page.get_by_role("table", name="Standings of high-score")
    expect(standings.get_by_role("row")).to_have_count(PAGE_SIZE + 1)  # the header too
    expect(page.get_by_text(f"Period {first['period']['id']}")).to_be_visible()
    for entry in first["items"][:3]:
        row = standings.get_by_role("row").filter(has=page.get_by_role("cell", name=entry["playerId"], exact=True))
        expect(row.get_by_role("cell").first).to_have_text(f"{entry['rank']:,}")
        expect(row).to_contain_text(f"{entry['score']:,}")
    screenshot(page, "client-leaderboards")

    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text("Page 2")).to_be_visible()
    expect(standings.get_by_role("row").filter(has_text=players[-1])).to_have_count(0)
    expect(standings.get_by_role("row").filter(has_text=players[0])).to_have_count(1)

    page.get_by_label("Period").select_option("previous")  # an all-time board has no previous period
    expect(page.get_by_role("alert")).to_contain_text("has no period 'previous'")
    page.get_by_label("Leaderboard").select_option("weekly-wins")  # last week: archived, empty here
    expect(page.get_by_text("Nobody is ranked in this period yet.")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Period \d{4}-W\d{2}$"))).to_be_visible()
