"""The economy-health report over HTTP: game calls on a fresh project show up as sources, sinks,
net, supply and the top 1 %'s share for today, as JSON and CSV; it agrees with the players'
wallets; it is kept incrementally; bad windows are 422 and other tenants' projects 404."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from actors.economy_health import CURSORS
from serve.launcher import Launched
from tests.e2e.helpers import assert_problem, balances, new_player, new_project


@pytest.fixture(scope="module")
def economy(ludex: Launched, admin: httpx.Client, demo_economy_document: Any) -> dict[str, Any]:
    """A fresh project where ada earns, buys and pays a repair, and bob buys a bundle with gems
    and completes a quest."""
    scopes = ["players:read", "players:write", "economy:write", "store:purchase"]
    game = new_project(admin, ludex.base_url, demo_economy_document, scopes, prefix="eh")
    project = game.project
    ada, bob = new_player(game), new_player(game)
    calls = [
        game.post(f"/players/{ada}/wallet/credit", {"currency": "coins", "amount": 500, "reason": "daily-login"}),
        game.post(f"/players/{ada}/purchases", {"sku": "potion-pack", "quantity": 2}),
        game.post(f"/players/{ada}/wallet/debit", {"currency": "coins", "amount": 20, "reason": "repair"}),
        game.post(f"/players/{bob}/wallet/credit", {"currency": "gems", "amount": 10}),
        game.post(f"/players/{bob}/purchases", {"sku": "starter-bundle"}),
        *(
            game.post(f"/players/{bob}/quests/daily-battles/progress", {"objectiveId": "battles", "by": 1})
            for _ in range(3)
        ),
    ]
    assert all(c.status_code in (200, 201) for c in calls), [c.text for c in calls]
    assert game.post(f"/players/{bob}/purchases", {"sku": "starter-bundle"}).status_code == 409, "refused: no effect"
    return {"project": project, "game": game, "players": (ada, bob), "path": f"/v1/client/projects/{project}/reports"}


def around_today() -> dict[str, str]:
    now = datetime.now(UTC).date()
    return {"from": (now - timedelta(days=1)).isoformat(), "to": (now + timedelta(days=2)).isoformat()}


def report(client: httpx.Client, economy: dict[str, Any], **params: str) -> dict[str, Any]:
    response = client.get(f"{economy['path']}/economy-health", params={**around_today(), **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["report"] == "economy-health" and body["from"] == around_today()["from"]
    return body


def test_sources_sinks_net_and_supply_per_currency(admin: httpx.Client, economy: dict[str, Any]) -> None:
    rows = {row["currency"]: row for row in report(admin, economy)["rows"]}
    coins, gems = rows["coins"], rows["gems"]
    assert coins["sources"] == {
        "credits": {"daily-login": 500},
        "purchases": {"starter-bundle": 500},
        "quests": {"daily-battles": 50},
        "achievements": {},
        "total": 1050,
    }
    assert coins["sinks"] == {"debits": {"repair": 20}, "purchases": {"potion-pack": 200}, "total": 220}
    assert (coins["net"], coins["supply"], coins["holders"]) == (830, 830, 2)
    assert coins["top1PercentShare"] == round(550 / 830, 6), "bob's 550 of 830: the top 1 % of 2 holders is 1"
    assert gems["sources"]["credits"] == {"(none)": 10} and gems["sinks"]["purchases"] == {"starter-bundle": 10}
    assert (gems["net"], gems["supply"], gems["holders"], gems["top1PercentShare"]) == (0, 0, 0, 0.0)


def test_supply_equals_the_sum_of_the_players_balances(admin: httpx.Client, economy: dict[str, Any]) -> None:
    wallets = [balances(economy["game"], player) for player in economy["players"]]
    rows = report(admin, economy)["rows"]
    for row in rows:
        assert row["supply"] == sum(wallet.get(row["currency"], 0) for wallet in wallets)


def test_one_currency_and_csv_by_accept_header_or_format(admin: httpx.Client, economy: dict[str, Any]) -> None:
    only = report(admin, economy, currency="coins")
    assert only["currency"] == "coins" and [row["currency"] for row in only["rows"]] == ["coins"]
    url = f"{economy['path']}/economy-health"
    by_header = admin.get(url, params={**around_today(), "currency": "coins"}, headers={"accept": "text/csv"})
    by_query = admin.get(url, params={**around_today(), "currency": "coins", "format": "csv"})
    for response in (by_header, by_query):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        (line,) = list(csv.DictReader(io.StringIO(response.text)))
        assert line["currency"] == "coins" and line["supply"] == "830" and line["net"] == "830"
        assert line["sources.quests.daily-battles"] == "50" and line["sinks.purchases.potion-pack"] == "200"


def test_the_report_is_kept_incrementally(
    admin: httpx.Client, economy: dict[str, Any], direct_store: tuple[Any, Any]
) -> None:
    loop, store = direct_store
    before = report(admin, economy, currency="coins")["rows"][0]
    cursor = loop.run_until_complete(store.get_document(CURSORS, f"demo/{economy['project']}"))
    assert cursor is not None and cursor["currencies"] == ["coins", "gems"]
    ada = economy["players"][0]
    credited = economy["game"].post(f"/players/{ada}/wallet/credit", {"currency": "coins", "amount": 7})
    assert credited.status_code == 200
    after = report(admin, economy, currency="coins")["rows"][0]
    assert (after["supply"], after["net"]) == (before["supply"] + 7, before["net"] + 7)
    moved = loop.run_until_complete(store.get_document(CURSORS, f"demo/{economy['project']}"))
    assert moved["cursor"] > cursor["cursor"], "the cursor moves past the new event, and only it is folded"
    assert report(admin, economy, currency="coins")["rows"][0] == after, "reading again folds nothing new"


def test_a_window_without_movement_has_no_rows(admin: httpx.Client, economy: dict[str, Any]) -> None:
    response = admin.get(f"{economy['path']}/economy-health", params={"from": "2020-01-01", "to": "2020-02-01"})
    assert response.status_code == 200, response.text
    assert response.json()["rows"] == []


@pytest.mark.parametrize(
    "params",
    [{"from": "2026-03-05", "to": "2026-03-01"}, {"from": "2026-02-30"}, {"from": "2024-01-01", "to": "2026-01-01"}],
)
def test_a_bad_window_is_422(admin: httpx.Client, economy: dict[str, Any], params: dict[str, str]) -> None:
    assert_problem(admin.get(f"{economy['path']}/economy-health", params=params), 422, "validation-error")


def test_another_tenant_s_project_is_404(admin: httpx.Client, control_plane: Any) -> None:
    control_plane.ensure_tenant("other", "Other Corp")
    control_plane.ensure_project("other", "other-proj", "Other Corp secret project")
    response = admin.get("/v1/client/projects/other-proj/reports/economy-health", headers={"x-tenant-id": "demo"})
    assert_problem(response, 404, "project-not-found")
