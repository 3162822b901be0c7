"""After traffic, /metrics shows HTTP, command, journal and entity metrics with moving values;
every answer carries a request id."""

from __future__ import annotations

import re

import httpx

from serve.launcher import Launched
from tests.e2e.conftest import Api


def scrape(base_url: str) -> str:
    response = httpx.get(f"{base_url}/metrics", timeout=30)
    assert response.status_code == 200
    return response.text


def total(text: str, name: str, **labels: str) -> float:
    """Sum of the samples of `name` whose labels include `labels`."""
    found = 0.0
    for line in text.splitlines():
        match = re.match(rf"^{name}(?:\{{(.*)\}})? (\S+)$", line)
        if match and all(f'{k}="{v}"' in (match.group(1) or "") for k, v in labels.items()):
            found += float(match.group(2))
    return found


def test_metrics_move_with_traffic(ludex: Launched, api: Api, player: str) -> None:
    before = scrape(ludex.base_url)
    for i in range(5):
        assert (
            api.post(f"/players/{player}/xp", {"amount": 10}, headers={"Idempotency-Key": f"m-{i}"}).status_code == 200
        )
    assert api.post(f"/players/{player}/xp", {"amount": 10}, headers={"Idempotency-Key": "m-0"}).status_code == 200
    assert api.post(f"/players/{player}/wallet/debit", {"currency": "coins", "amount": 1}).status_code == 409
    after = scrape(ludex.base_url)
    route = "/v1/projects/{projectId}/players/{playerId}/xp"
    assert (
        total(after, "ludex_http_requests_total", route=route, status="200")
        - total(before, "ludex_http_requests_total", route=route, status="200")
        >= 6
    )
    assert total(after, "ludex_http_request_duration_seconds_count", route=route) > total(
        before, "ludex_http_request_duration_seconds_count", route=route
    )
    assert (
        total(after, "ludex_commands_total", command="xp", outcome="ok")
        - total(before, "ludex_commands_total", command="xp", outcome="ok")
        >= 6
    )
    assert total(after, "ludex_commands_total", command="debit", outcome="insufficient-funds") >= 1
    assert total(after, "ludex_idempotent_replays_total") > total(before, "ludex_idempotent_replays_total")
    assert total(after, "ludex_journal_commit_seconds_count") >= total(before, "ludex_journal_commit_seconds_count") + 5
    assert total(after, "ludex_journal_batch_size_sum") >= total(before, "ludex_journal_batch_size_sum") + 5
    assert total(after, "ludex_active_entities") >= 1
    for family in ("ludex_realtime_connections", "ludex_webhook_deliveries", "ludex_realtime_events_sent"):
        assert re.search(rf"^{family}(_total)?[ {{]", after, re.MULTILINE), f"{family} is not exported"


def test_every_answer_carries_the_callers_request_id_or_a_new_one(api: Api, player: str) -> None:
    echoed = api.get(f"/players/{player}", headers={"x-request-id": "trace-abc-123"})
    assert echoed.headers["x-request-id"] == "trace-abc-123"
    problem = api.get("/players/nobody-here", headers={"x-request-id": "trace-404"})
    assert problem.status_code == 404
    assert problem.headers["x-request-id"] == "trace-404" and problem.json()["requestId"] == "trace-404"
    fresh = api.get(f"/players/{player}")
    assert len(fresh.headers["x-request-id"]) >= 16
