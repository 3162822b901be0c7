"""Monthly plan quotas and usage through HTTP: a tenant on a tiny plan makes economy calls until
its events quota is used up, then gets 429 `quota-exceeded` with Retry-After (reads still
work); the operators' `/v1/admin/usage` (JSON and CSV) and `/v1/admin/metrics` show the counts."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from actors.directory import ShardDirectory
from engine.quotas import month_of, seconds_to_next_month
from serve.launcher import Launched
from tests.e2e.conftest import Api
from tests.e2e.helpers import assert_problem, login, tenant_with_quotas

EVENTS_PER_MONTH = 5


@pytest.fixture(scope="module")
def admin(ludex: Launched) -> httpx.Client:
    creds = ludex.credentials
    login = httpx.post(
        f"{ludex.base_url}/v1/auth/login",
        json={"email": creds["adminEmail"], "password": creds["adminPassword"]},
        timeout=30,
    )
    assert login.status_code == 200, login.text
    return httpx.Client(
        base_url=f"{ludex.base_url}/v1/admin",
        headers={"Authorization": f"Bearer {login.json()['accessToken']}"},
        timeout=30,
    )


def tenant_on_plan(ludex: Launched, backoffice: Any, economy: dict[str, Any], **quotas: int) -> tuple[str, Api]:
    """A fresh tenant on a fresh plan with `quotas`, a project with the demo economy, and an
    all-scope key for it."""
    tenant, token = tenant_with_quotas(backoffice, "quota", **quotas)
    directory = ShardDirectory.connect(ludex.settings)
    outcome = asyncio.run(directory.define_economy(tenant, "game", economy))
    assert outcome.ok, outcome
    return tenant, Api(ludex.base_url, tenant, "game", token)


def test_economy_calls_stop_at_the_events_quota_and_usage_shows_it(
    ludex: Launched, backoffice: Any, demo_economy_document: dict[str, Any], admin: httpx.Client
) -> None:
    tenant, api = tenant_on_plan(ludex, backoffice, demo_economy_document, eventsPerMonth=EVENTS_PER_MONTH)
    calls = 0

    def call(response: httpx.Response) -> httpx.Response:
        nonlocal calls
        calls += 1
        return response

    assert call(api.post("/players", {"playerId": "p1", "username": "p1"})).status_code == 201  # 1 event
    early = {"currency": "coins", "amount": 10}
    first = call(api.post("/players/p1/wallet/credit", early, headers={"Idempotency-Key": "early"}))
    assert first.status_code == 200
    accepted = 2
    while True:
        answer = call(api.post("/players/p1/wallet/credit", {"currency": "coins", "amount": 10}))
        if answer.status_code != 200:
            break
        accepted += 1
        assert accepted <= EVENTS_PER_MONTH, "every accepted call writes at least one event"
    body = assert_problem(answer, 429, "quota-exceeded")
    assert "5 events per month" in body["detail"]
    retry_after = int(answer.headers["Retry-After"])
    assert abs(retry_after - seconds_to_next_month(datetime.now(UTC))) <= 60

    replay = call(api.post("/players/p1/wallet/credit", early, headers={"Idempotency-Key": "early"}))
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true", "a spent quota still replays"
    assert replay.json() == first.json()

    batch = call(
        api.post("/commands", {"commands": [{"op": "xp", "playerId": "p1", "idempotencyKey": "k1", "amount": 5}]})
    )
    assert batch.status_code == 200
    [result] = batch.json()["results"]
    assert result["status"] == 429 and result["problem"]["type"].endswith("/quota-exceeded")
    wallet = call(api.get("/players/p1/wallet"))
    assert wallet.status_code == 200, "reads keep working past the quota"
    assert wallet.json()["balances"]["coins"] == 10 * (accepted - 1)

    month = month_of(datetime.now(UTC))
    listed = admin.get("/usage", params={"tenantId": tenant, "month": month})
    assert listed.status_code == 200, listed.text
    [row] = listed.json()["items"]
    assert row["tenantId"] == tenant and row["month"] == month and row["planId"] == f"plan-{tenant}"
    assert row["requests"] == calls
    assert row["events"] >= EVENTS_PER_MONTH and row["eventsPerMonth"] == EVENTS_PER_MONTH
    assert row["eventsUse"] == pytest.approx(row["events"] / EVENTS_PER_MONTH)
    assert row["requestsPerMonth"] is None and row["requestsUse"] is None

    export = admin.get("/usage", params={"tenantId": tenant, "format": "csv"})
    assert export.status_code == 200, export.text
    assert export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    records = list(csv.DictReader(io.StringIO(export.text)))
    assert [r["tenantId"] for r in records] == [tenant]
    assert (records[0]["month"], int(records[0]["requests"]), int(records[0]["events"])) == (
        month,
        calls,
        row["events"],
    )
    assert records[0]["requestsPerMonth"] == ""

    metrics = admin.get("/metrics")
    assert metrics.status_code == 200, metrics.text
    figures = metrics.json()
    assert figures["month"] == month and figures["tenants"] >= 2 and figures["projects"] >= 2
    assert figures["players"] >= 1 and figures["eventsThisMonth"] >= row["events"]
    assert set(figures["deliveries"]) == {"ok", "failed"} and min(figures["deliveries"].values()) >= 0
    [use] = [u for u in figures["quotaUse"] if u["tenantId"] == tenant]
    assert use["events"] == row["events"] and use["eventsPerMonth"] == EVENTS_PER_MONTH


def test_the_plans_rate_applies_to_keys_without_their_own(
    ludex: Launched, backoffice: Any, demo_economy_document: dict[str, Any]
) -> None:
    _, api = tenant_on_plan(ludex, backoffice, demo_economy_document, apiRequestsPerSecond=3)
    answer = api.get("/store/catalog")
    assert answer.status_code == 200, answer.text
    assert answer.headers["RateLimit-Limit"] == "6"


def test_usage_and_metrics_need_a_platform_role(ludex: Launched, admin: httpx.Client) -> None:
    assert_problem(httpx.get(f"{ludex.base_url}/v1/admin/usage", timeout=30), 401, "missing-token")
    assert_problem(httpx.get(f"{ludex.base_url}/v1/admin/metrics", timeout=30), 401, "missing-token")
    assert_problem(admin.get("/usage", params={"month": "2026-13"}), 422, "validation-error")


def test_the_plans_projects_quota_stops_project_creation(
    ludex: Launched, backoffice: Any, demo_economy_document: dict[str, Any]
) -> None:
    tenant, _ = tenant_on_plan(ludex, backoffice, demo_economy_document, projects=2)  # "game" is one
    creds = ludex.credentials
    with login(ludex.base_url, creds["adminEmail"], creds["adminPassword"], tenant) as client:
        assert client.post("/v1/client/projects", json={"id": "second", "name": "Second"}).status_code == 201
        refused = client.post("/v1/client/projects", json={"id": "third", "name": "Third"})
        assert_problem(refused, 403, "plan-limit")
        assert "2 project" in refused.json()["detail"]
        assert client.get("/v1/client/projects/third").status_code == 404
        assert client.delete("/v1/client/projects/second").status_code == 204
        assert client.post("/v1/client/projects", json={"id": "third", "name": "Third"}).status_code == 201


def test_the_plans_players_quota_stops_player_creation(
    ludex: Launched, backoffice: Any, demo_economy_document: dict[str, Any]
) -> None:
    _, api = tenant_on_plan(ludex, backoffice, demo_economy_document, players=2)
    for player in ("one", "two"):
        assert api.post("/players", {"playerId": player, "username": player}).status_code == 201
    refused = api.post("/players", {"playerId": "three", "username": "three"})
    body = assert_problem(refused, 403, "plan-limit")
    assert "2 player" in body["detail"]
    assert api.get("/players/three").status_code == 404
    assert api.post("/players/one/xp", {"amount": 5}).status_code == 200  # existing players still play


def test_a_suspended_tenants_keys_are_refused_until_it_is_resumed(
    ludex: Launched, backoffice: Any, demo_economy_document: dict[str, Any], admin: httpx.Client
) -> None:
    tenant, api = tenant_on_plan(ludex, backoffice, demo_economy_document)
    assert api.post("/players", {"playerId": "p1", "username": "p1"}).status_code == 201
    suspended = admin.patch(f"/tenants/{tenant}", json={"suspended": True})
    assert suspended.status_code == 200 and suspended.json()["suspended"] is True
    refused = api.post("/players/p1/xp", {"amount": 5})
    assert_problem(refused, 403, "tenant-suspended")
    assert_problem(api.get("/players/p1"), 403, "tenant-suspended")
    assert admin.patch(f"/tenants/{tenant}", json={"suspended": False}).json()["suspended"] is False
    assert api.post("/players/p1/xp", {"amount": 5}).status_code == 200
    assert api.get("/players/p1/progression").json()["xp"] == 5  # the refused award changed nothing
