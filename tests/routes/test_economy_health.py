"""The economy-health report at the route seam (no Ray): game calls on a fresh project show up
as sources, sinks, net, supply and the top 1 %'s share for today, as JSON and CSV; it agrees with
the players' wallets; bad windows are 422 and other tenants' projects 404.
tests/e2e/test_economy_health.py keeps the report kept incrementally through Ray Serve."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.e2e.helpers import assert_problem, balances
from tests.routes.conftest import Dashboard, Seam, project_api
from tests.support.economy_health import SCOPES, around_today, played, report


@pytest.fixture(scope="module")
def admin(office_admin: Dashboard) -> Dashboard:
    return office_admin


@pytest.fixture(scope="module")
def economy(office: Seam, admin: Dashboard, demo_economy_document: Any) -> dict[str, Any]:
    """A fresh project where the economy-health calls were played (`tests/support/economy_health.py`)."""
    return played(project_api(office, admin, demo_economy_document, SCOPES, prefix="eh"))


def test_sources_sinks_net_and_supply_per_currency(admin: Dashboard, economy: dict[str, Any]) -> None:
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


def test_supply_equals_the_sum_of_the_players_balances(admin: Dashboard, economy: dict[str, Any]) -> None:
    wallets = [balances(economy["game"], player) for player in economy["players"]]
    rows = report(admin, economy)["rows"]
    for row in rows:
        assert row["supply"] == sum(wallet.get(row["currency"], 0) for wallet in wallets)


def test_one_currency_and_csv_by_accept_header_or_format(admin: Dashboard, economy: dict[str, Any]) -> None:
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


def test_a_window_without_movement_has_no_rows(admin: Dashboard, economy: dict[str, Any]) -> None:
    response = admin.get(f"{economy['path']}/economy-health", params={"from": "2020-01-01", "to": "2020-02-01"})
    assert response.status_code == 200, response.text
    assert response.json()["rows"] == []


@pytest.mark.parametrize(
    "params",
    [{"from": "2026-03-05", "to": "2026-03-01"}, {"from": "2026-02-30"}, {"from": "2024-01-01", "to": "2026-01-01"}],
)
def test_a_bad_window_is_422(admin: Dashboard, economy: dict[str, Any], params: dict[str, str]) -> None:
    assert_problem(admin.get(f"{economy['path']}/economy-health", params=params), 422, "validation-error")


def test_another_tenant_s_project_is_404(admin: Dashboard, office_control: Any) -> None:
    control_plane = office_control
    control_plane.ensure_tenant("other", "Other Corp")
    control_plane.ensure_project("other", "other-proj", "Other Corp secret project")
    response = admin.get("/v1/client/projects/other-proj/reports/economy-health", headers={"x-tenant-id": "demo"})
    assert_problem(response, 404, "project-not-found")
