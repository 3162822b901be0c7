"""Backoffice reports at the route seam (no Ray): game calls on a fresh project show up in the
four reports for today's UTC day, as JSON and CSV; unknown reports are 404, bad windows 422, and
an analyst of the project may read them while others may not. tests/e2e/test_reports.py keeps a
report growing with the game calls through Ray Serve."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine.rbac import Membership
from tests.e2e.helpers import assert_problem, new_player
from tests.routes.conftest import Dashboard, RouteApi, Seam, sign_in

PASSWORD = "correct-horse-battery-staple"


def today() -> datetime:
    return datetime.now(UTC)


@pytest.fixture(scope="module")
def admin(office_admin: Dashboard) -> Dashboard:
    return office_admin


@pytest.fixture(scope="module")
def played(office: Seam, admin: Dashboard, demo_economy_document: Any) -> dict[str, Any]:
    """A fresh project of the demo tenant where two players earned, spent and bought."""
    project = f"rep-{uuid.uuid4().hex[:8]}"
    assert admin.post("/v1/client/projects", json={"id": project, "name": "Reports"}).status_code == 201
    assert admin.put(f"/v1/client/projects/{project}/economy", json=demo_economy_document).status_code == 200
    scopes = ["players:read", "players:write", "economy:write", "store:purchase"]
    key = admin.post(f"/v1/client/projects/{project}/api-keys", json={"name": "reports", "scopes": scopes})
    assert key.status_code == 201, key.text
    game = RouteApi(office.client, office.credentials["tenantId"], project, key.json()["apiKey"])
    ada, bob = new_player(game), new_player(game)
    assert game.post(f"/players/{ada}/wallet/credit", {"currency": "coins", "amount": 500}).status_code == 200
    assert game.post(f"/players/{ada}/purchases", {"sku": "potion-pack", "quantity": 2}).status_code == 201
    assert game.post(f"/players/{bob}/wallet/credit", {"currency": "gems", "amount": 10}).status_code == 200
    assert game.post(f"/players/{bob}/purchases", {"sku": "starter-bundle"}).status_code == 201
    refused = game.post(f"/players/{bob}/purchases", {"sku": "starter-bundle"})
    assert refused.status_code == 409, "a refused purchase writes nothing"
    return {"project": project, "path": f"/v1/client/projects/{project}/reports"}


def around_today() -> dict[str, str]:
    """A window holding today even if the calls straddled midnight UTC."""
    now = today().date()
    return {"from": (now - timedelta(days=1)).isoformat(), "to": (now + timedelta(days=2)).isoformat()}


def read(client: Dashboard, played: dict[str, Any], report: str, **params: str) -> dict[str, Any]:
    response = client.get(f"{played['path']}/{report}", params={**around_today(), **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["report"] == report and body["from"] == around_today()["from"] and body["to"] == around_today()["to"]
    return body


def test_events_per_day_counts_the_events_of_the_game_calls(admin: Dashboard, played: dict[str, Any]) -> None:
    body = read(admin, played, "events-per-day")
    counts: dict[str, int] = {}
    for row in body["rows"]:
        assert row["day"] in {(today().date() + timedelta(days=d)).isoformat() for d in (-1, 0)}
        counts[row["type"]] = counts.get(row["type"], 0) + row["count"]
    assert counts["player.created"] == 2
    assert counts["wallet.credited"] == 3, "two credits and the bundle's coins"
    assert counts["wallet.debited"] == 2
    assert counts["store.purchase.succeeded"] == 2
    assert counts["item.granted"] == 2
    assert body["totals"]["events"] == sum(counts.values())
    assert [row["day"] for row in body["rows"]] == sorted(row["day"] for row in body["rows"])


def test_active_players_counts_each_player_once(admin: Dashboard, played: dict[str, Any]) -> None:
    body = read(admin, played, "active-players")
    assert sum(row["players"] for row in body["rows"]) >= 2
    assert body["totals"] == {"players": 2}


def test_purchases_report_count_quantity_and_revenue_per_sku(admin: Dashboard, played: dict[str, Any]) -> None:
    body = read(admin, played, "purchases")
    by_sku = {row["sku"]: row for row in body["rows"]}
    assert {k: by_sku["potion-pack"][k] for k in ("count", "quantity", "revenue")} == {
        "count": 1,
        "quantity": 2,
        "revenue": {"coins": 200},
    }
    assert {k: by_sku["starter-bundle"][k] for k in ("count", "quantity", "revenue")} == {
        "count": 1,
        "quantity": 1,
        "revenue": {"gems": 10},
    }
    assert body["totals"] == {"count": 2, "quantity": 3, "revenue": {"coins": 200, "gems": 10}}


def test_currency_flow_reports_earned_spent_and_net(admin: Dashboard, played: dict[str, Any]) -> None:
    body = read(admin, played, "currency-flow")
    assert body["totals"]["currencies"] == {
        "coins": {"earned": 1000, "spent": 200, "net": 800},
        "gems": {"earned": 10, "spent": 10, "net": 0},
    }
    assert all(row["net"] == row["earned"] - row["spent"] for row in body["rows"])


def test_the_default_window_is_the_last_30_days_including_today(admin: Dashboard, played: dict[str, Any]) -> None:
    response = admin.get(f"{played['path']}/active-players")
    assert response.status_code == 200, response.text
    now = today().date()
    assert response.json()["to"] in {(now + timedelta(days=d)).isoformat() for d in (1, 2)}
    assert (
        response.json()["from"]
        == (datetime.fromisoformat(response.json()["to"]) - timedelta(days=30)).date().isoformat()
    )
    assert response.json()["totals"] == {"players": 2}


def test_reports_stream_as_csv_with_a_header_row(admin: Dashboard, played: dict[str, Any]) -> None:
    response = admin.get(f"{played['path']}/purchases", params={**around_today(), "format": "csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == ["day", "sku", "count", "quantity", "revenue.coins", "revenue.gems"]
    potions = [row for row in rows if row["sku"] == "potion-pack"]
    assert sum(int(row["quantity"]) for row in potions) == 2
    assert sum(int(row["revenue.coins"]) for row in potions) == 200
    flow = admin.get(f"{played['path']}/currency-flow", params={**around_today(), "format": "csv"})
    assert flow.status_code == 200 and flow.text.splitlines()[0] == "day,currency,earned,spent,net"
    empty = admin.get(f"{played['path']}/events-per-day", params={"from": "2020-01-01", "format": "csv"})
    assert empty.status_code == 200 and empty.text.splitlines() == ["day,type,count"]


def test_an_unknown_report_is_a_404_problem(admin: Dashboard, played: dict[str, Any]) -> None:
    assert_problem(admin.get(f"{played['path']}/revenue-forecast"), 404, "not-found")


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-02-30"},
        {"from": "01/03/2026"},
        {"to": "2026-1-01"},
        {"from": "2026-03-02", "to": "2026-03-02"},
        {"from": "2026-03-05", "to": "2026-03-01"},
        {"from": "2025-01-01", "to": "2026-01-03"},
        {"format": "xml"},
    ],
)
def test_bad_windows_and_formats_are_422(admin: Dashboard, played: dict[str, Any], params: dict[str, str]) -> None:
    body = assert_problem(admin.get(f"{played['path']}/purchases", params=params), 422, "validation-error")
    assert body["errors"] and body["errors"][0]["field"] in {"from", "to", "format"}


def test_a_366_day_window_is_allowed(admin: Dashboard, played: dict[str, Any]) -> None:
    response = admin.get(f"{played['path']}/purchases", params={"from": "2024-01-01", "to": "2025-01-01"})
    assert response.status_code == 200 and response.json()["rows"] == []


def test_an_analyst_of_the_project_may_read_reports_and_others_may_not(
    office: Seam, office_accounts: Any, played: dict[str, Any]
) -> None:
    accounts = office_accounts
    tenant, suffix = office.credentials["tenantId"], uuid.uuid4().hex[:6]
    analyst, elsewhere = f"analyst-{suffix}@example.com", f"analyst-elsewhere-{suffix}@example.com"
    accounts.create_user(analyst, PASSWORD, None, (Membership(tenant, "analyst", (played["project"],)),))
    accounts.create_user(elsewhere, PASSWORD, None, (Membership(tenant, "analyst", ("demo",)),))
    client = sign_in(office, analyst, PASSWORD, tenant)
    assert read(client, played, "active-players")["totals"] == {"players": 2}
    assert_problem(client.get("/v1/client/projects/demo/reports/active-players"), 403, "forbidden")
    client = sign_in(office, elsewhere, PASSWORD, tenant)
    assert_problem(client.get(f"{played['path']}/active-players"), 403, "forbidden")
    anonymous = office.client.get(f"{played['path']}/active-players", headers={"x-tenant-id": tenant})
    assert_problem(anonymous, 401, "missing-token")


def test_another_tenants_project_is_not_found(admin: Dashboard, played: dict[str, Any]) -> None:
    response = admin.get(f"{played['path']}/active-players", headers={"x-tenant-id": f"nobody-{uuid.uuid4().hex[:6]}"})
    assert_problem(response, 404, "project-not-found")


def test_a_dashboard_token_reads_events_with_the_role_checks_of_the_backoffice(
    office: Seam, office_accounts: Any, played: dict[str, Any]
) -> None:
    """The events route takes a dashboard token besides an API key: an analyst of the project
    reads its events, an analyst of another project gets 403 before the project is looked up,
    and a project that does not exist is 404 `project-not-found` (`serve.backoffice.on_project`)."""
    tenant, suffix = office.credentials["tenantId"], uuid.uuid4().hex[:6]
    analyst, elsewhere = f"events-{suffix}@example.com", f"events-elsewhere-{suffix}@example.com"
    office_accounts.create_user(analyst, PASSWORD, None, (Membership(tenant, "analyst", ("*",)),))
    office_accounts.create_user(elsewhere, PASSWORD, None, (Membership(tenant, "analyst", ("demo",)),))
    client = sign_in(office, analyst, PASSWORD, tenant)
    events = client.get(f"/v1/projects/{played['project']}/events", params={"type": "player.created"})
    assert events.status_code == 200, events.text
    assert len(events.json()["items"]) == 2, "the two players of the project"
    assert_problem(client.get("/v1/projects/no-such-project/events"), 404, "project-not-found")
    client = sign_in(office, elsewhere, PASSWORD, tenant)
    assert_problem(client.get(f"/v1/projects/{played['project']}/events"), 403, "forbidden")
