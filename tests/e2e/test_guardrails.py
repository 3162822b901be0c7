"""Guardrails over Ray Serve with two shard hosts, under load: 50 players buy a mispriced bundle
in a loop at once; the project budget on what it grants holds across both hosts (never passed,
at most one lease per host unspent), each player's cap holds, and every refusal is a 429
`guardrail-tripped` with `Retry-After`, announced as an event."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from actors.guardrail_leases import lease_share
from tests.e2e.conftest import Api
from tests.e2e.helpers import new_project, unique

BUDGET = 600
PER_PLAYER = 40
ECONOMY: dict[str, Any] = {
    "currencies": [{"id": "coins", "kind": "soft"}, {"id": "gems", "kind": "hard"}],
    "xpCurve": {"levels": [0, 100]},
    "skus": [{"sku": "oops-bundle", "price": {"coins": 1}, "grants": {"currencies": {"gems": 10}}}],
    "guardrails": [
        {"id": "gem-budget", "currency": "gems", "project": {"amount": BUDGET, "per": "day"}, "action": "refuse"},
        {"id": "gem-cap", "currency": "gems", "perPlayer": {"amount": PER_PLAYER, "per": "hour"}, "action": "refuse"},
        {
            "id": "bundle-watch",
            "currency": "gems",
            "source": "oops-bundle",
            "perPlayer": {"amount": 20, "per": "day"},
            "action": "flag",
        },
    ],
}


def exploit(api: Api, player: str) -> tuple[int, list[str]]:
    """Buys the bundle 8 times; answers the gems received and the guardrails that refused."""
    refused: list[str] = []
    received = 0
    for attempt in range(8):
        response = api.post(
            f"/players/{player}/purchases", {"sku": "oops-bundle"}, headers={"idempotency-key": f"{player}-{attempt}"}
        )
        if response.status_code == 201:
            received += 10
        else:
            assert response.status_code == 429, response.text
            assert response.json()["type"].endswith("/guardrail-tripped")
            assert int(response.headers["Retry-After"]) >= 1
            refused.append(response.json()["guardrail"])
    return received, refused


def test_an_exploit_under_load_stays_within_the_budget_on_every_host(admin: httpx.Client, ludex: Any) -> None:
    api = new_project(
        admin,
        ludex.base_url,
        ECONOMY,
        ["players:read", "players:write", "economy:write", "store:purchase", "events:read"],
        prefix="grd",
    )
    players = [unique("ex") for _ in range(50)]
    for player in players:
        assert api.post("/players", {"playerId": player, "username": player}).status_code == 201
        assert api.post(f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 100}).status_code == 200
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda player: exploit(api, player), players))
    total = sum(received for received, _ in results)
    assert total <= BUDGET
    assert total >= BUDGET - 2 * max(lease_share(BUDGET), 10)  # two hosts, at most one unspent lease each
    assert all(received <= PER_PLAYER for received, _ in results)
    assert {guardrail for _, refused in results for guardrail in refused} <= {"gem-budget", "gem-cap"}
    flagged = api.get(f"/players/{players[0]}/flags").json()["flags"]
    assert flagged.get("guardrail:bundle-watch") is (results[0][0] > 20)
    events: list[dict[str, Any]] = []
    params: dict[str, Any] = {"type": "economy.guardrail.tripped", "limit": 100}
    while True:
        page = api.get("/events", params=params)
        assert page.status_code == 200, page.text
        events += page.json()["items"]
        if page.json()["nextCursor"] is None:
            break
        params["cursor"] = page.json()["nextCursor"]
    refusals = sum(len(refused) for _, refused in results)
    # one refused command journals one record, with an event per guardrail it went over
    refused_records = {(event["playerId"], event["seq"]) for event in events if event["data"]["action"] == "refuse"}
    assert len(refused_records) == refusals
