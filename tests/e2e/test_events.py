"""`GET /v1/projects/{projectId}/events` over HTTP: the events of game calls on a fresh project
appear with stable ids in the order they happened; filters, cursor pages and the NDJSON / CSV
exports agree with each other; an API key needs `events:read`, a dashboard token needs
`reports:read` on the project."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from engine.rbac import Membership
from serve.launcher import Launched
from tests.e2e.conftest import Api
from tests.e2e.helpers import assert_problem, login, new_player

PASSWORD = "correct-horse-battery-staple"
GAME_SCOPES = ["players:read", "players:write", "economy:write", "store:purchase"]


def new_key(admin: httpx.Client, project: str, scopes: list[str]) -> str:
    response = admin.post(f"/v1/client/projects/{project}/api-keys", json={"name": "events", "scopes": scopes})
    assert response.status_code == 201, response.text
    return str(response.json()["apiKey"])


@pytest.fixture(scope="module")
def played(ludex: Launched, admin: httpx.Client, demo_economy_document: Any) -> dict[str, Any]:
    """A fresh project of the demo tenant where two players played in a known order."""
    project = f"evt-{uuid.uuid4().hex[:8]}"
    assert admin.post("/v1/client/projects", json={"id": project, "name": "Events"}).status_code == 201
    assert admin.put(f"/v1/client/projects/{project}/economy", json=demo_economy_document).status_code == 200
    tenant = ludex.credentials["tenantId"]
    game = Api(ludex.base_url, tenant, project, new_key(admin, project, GAME_SCOPES))
    reader = Api(ludex.base_url, tenant, project, new_key(admin, project, ["events:read"]))
    ada = new_player(game)
    assert game.post(f"/players/{ada}/wallet/credit", {"currency": "coins", "amount": 100}).status_code == 200
    bob = new_player(game)
    assert game.post(f"/players/{bob}/wallet/credit", {"currency": "gems", "amount": 10}).status_code == 200
    assert game.post(f"/players/{ada}/wallet/debit", {"currency": "coins", "amount": 30}).status_code == 200
    assert game.post(f"/players/{ada}/xp", {"amount": 5}).status_code == 200
    return {"project": project, "game": game, "reader": reader, "ada": ada, "bob": bob}


def everything(reader: Api, **params: Any) -> list[dict[str, Any]]:
    """All pages of a query, following `nextCursor`."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(1000):
        response = reader.get("/events", params={**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body["items"])
        cursor = body["nextCursor"]
        if cursor is None:
            return items
    raise AssertionError("the cursor never ended")


def test_game_calls_appear_as_events_in_order_with_stable_ids(played: dict[str, Any]) -> None:
    events = everything(played["reader"])[:6]  # a later test appends more
    ada, bob, project = played["ada"], played["bob"], played["project"]
    assert [(e["playerId"], e["type"]) for e in events] == [
        (ada, "player.created"),
        (ada, "wallet.credited"),
        (bob, "player.created"),
        (bob, "wallet.credited"),
        (ada, "wallet.debited"),
        (ada, "player.xp.added"),
    ]
    assert all(
        e["projectId"] == project and e["tenantId"] == played["game"].client.headers["x-tenant-id"] for e in events
    )
    assert len({e["id"] for e in events}) == len(events) and all(e["id"].startswith("evt_") for e in events)
    assert [e["seq"] for e in events if e["playerId"] == ada] == [1, 2, 3, 4]
    assert events[1]["data"]["amount"] == 100 and events[1]["data"]["currency"] == "coins"
    assert set(events[0]) == {"id", "type", "tenantId", "projectId", "playerId", "seq", "data", "occurredAt"}
    assert everything(played["reader"])[:6] == events, "the same query answers the same ids in the same order"


def test_a_new_command_appends_after_the_last_cursor(played: dict[str, Any]) -> None:
    first = played["reader"].get("/events", params={"limit": 200}).json()
    assert first["nextCursor"] is None
    before = everything(played["reader"])
    credit = {"currency": "coins", "amount": 1}
    assert played["game"].post(f"/players/{played['bob']}/wallet/credit", credit).status_code == 200
    after = everything(played["reader"])
    assert after[: len(before)] == before and [e["type"] for e in after[len(before) :]] == ["wallet.credited"]
    played["extra"] = after[-1]["id"]


def test_filters_by_type_player_and_time(played: dict[str, Any]) -> None:
    reader, ada, bob = played["reader"], played["ada"], played["bob"]
    events = everything(reader)

    def ids(predicate: Any) -> list[str]:
        return [e["id"] for e in events if predicate(e)]

    credited = ids(lambda e: e["type"] == "wallet.credited")
    money = ids(lambda e: e["type"] in ("wallet.credited", "wallet.debited"))
    assert [e["id"] for e in everything(reader, type="wallet.credited")] == credited
    assert [e["id"] for e in everything(reader, type=["wallet.credited", "wallet.debited"])] == money
    assert [e["id"] for e in everything(reader, type="wallet.credited, wallet.debited")] == money
    assert [e["id"] for e in everything(reader, type=["wallet.credited,player.created", "wallet.debited"])] == ids(
        lambda e: e["type"] in ("wallet.credited", "wallet.debited", "player.created")
    )
    assert everything(reader, type="no.such.type") == []
    assert [e["id"] for e in everything(reader, playerId=bob)] == ids(lambda e: e["playerId"] == bob)
    assert [e["id"] for e in everything(reader, playerId=ada, type="wallet.debited")] == ids(
        lambda e: e["playerId"] == ada and e["type"] == "wallet.debited"
    )
    middle = events[2]["occurredAt"]  # bob's creation
    assert [e["id"] for e in everything(reader, **{"from": middle})] == ids(lambda e: e["occurredAt"] >= middle)
    assert [e["id"] for e in everything(reader, to=middle)] == ids(lambda e: e["occurredAt"] < middle)
    last = events[-1]["occurredAt"]
    window = everything(reader, **{"from": middle, "to": last})
    assert [e["id"] for e in window] == ids(lambda e: middle <= e["occurredAt"] < last)
    shifted = datetime.fromisoformat(middle).astimezone(timezone(timedelta(hours=2))).isoformat()
    assert shifted.endswith("+02:00")  # the same instant, another offset
    assert [e["id"] for e in everything(reader, to=shifted)] == ids(lambda e: e["occurredAt"] < middle)
    assert everything(reader, **{"from": "2000-01-01T00:00:00Z", "to": "2000-01-02T00:00:00+01:00"}) == []


def test_cursor_pages_walk_every_event_once(played: dict[str, Any]) -> None:
    events = everything(played["reader"])
    paged = everything(played["reader"], limit=2)
    assert paged == events and len({e["id"] for e in paged}) == len(paged)
    page = played["reader"].get("/events", params={"limit": 1}).json()
    assert len(page["items"]) == 1 and isinstance(page["nextCursor"], str)
    rest = played["reader"].get("/events", params={"limit": 200, "cursor": page["nextCursor"]}).json()
    assert [page["items"][0], *rest["items"]] == events and rest["nextCursor"] is None


def test_ndjson_and_csv_exports_hold_the_same_events(played: dict[str, Any]) -> None:
    reader = played["reader"]
    events = everything(reader)
    ndjson = reader.get("/events", params={"format": "ndjson", "limit": 1})
    assert ndjson.status_code == 200, ndjson.text
    assert ndjson.headers["content-type"].startswith("application/x-ndjson")
    assert [json.loads(line) for line in ndjson.text.splitlines()] == events, "an export ignores limit"
    exported = reader.get("/events", params={"format": "csv"})
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    assert exported.text.splitlines()[0] == "id,type,tenantId,projectId,playerId,seq,occurredAt,data"
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [{**row, "seq": int(row["seq"]), "data": json.loads(row["data"])} for row in rows] == events
    filtered = reader.get("/events", params={"format": "ndjson", "type": "wallet.debited"})
    assert [json.loads(line)["type"] for line in filtered.text.splitlines()] == ["wallet.debited"]
    empty = reader.get("/events", params={"format": "csv", "to": "2000-01-01T00:00:00Z"})
    assert empty.status_code == 200 and empty.text.splitlines() == [
        "id,type,tenantId,projectId,playerId,seq,occurredAt,data"
    ]


def test_a_key_without_events_read_is_403(played: dict[str, Any]) -> None:
    assert_problem(played["game"].get("/events"), 403, "insufficient-scope")


def test_a_key_of_another_project_is_403_and_no_credentials_401(
    ludex: Launched, api: Api, played: dict[str, Any]
) -> None:
    other = Api(ludex.base_url, ludex.credentials["tenantId"], played["project"], ludex.credentials["apiKey"])
    assert_problem(other.get("/events"), 403, "wrong-project")
    anonymous = Api(ludex.base_url, ludex.credentials["tenantId"], played["project"], None)
    assert_problem(anonymous.get("/events"), 401, "missing-api-key")
    untenanted = httpx.get(f"{ludex.base_url}/v1/projects/{played['project']}/events", timeout=30)
    assert_problem(untenanted, 400, "missing-tenant")
    bad_key = Api(ludex.base_url, ludex.credentials["tenantId"], played["project"], "ldx_nope_nope")
    assert_problem(bad_key.get("/events"), 401, "invalid-api-key")


def test_a_dashboard_token_may_read_and_an_analyst_of_another_tenant_may_not(
    ludex: Launched, admin: httpx.Client, accounts: Any, played: dict[str, Any]
) -> None:
    path = f"/v1/projects/{played['project']}/events"
    events = everything(played["reader"])
    answer = admin.get(path, params={"limit": 200})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"items": events, "nextCursor": None}
    export = admin.get(path, params={"format": "ndjson"})
    assert [json.loads(line) for line in export.text.splitlines()] == events
    tenant, suffix = ludex.credentials["tenantId"], uuid.uuid4().hex[:6]
    analyst, stranger = f"evt-analyst-{suffix}@example.com", f"evt-stranger-{suffix}@example.com"
    accounts.create_user(analyst, PASSWORD, None, (Membership(tenant, "analyst", (played["project"],)),))
    accounts.create_user(stranger, PASSWORD, None, (Membership(f"elsewhere-{suffix}", "analyst"),))
    with login(ludex.base_url, analyst, PASSWORD, tenant) as client:
        assert client.get(path).json()["items"] == events[:100]
        assert_problem(client.get(f"/v1/projects/{ludex.credentials['projectId']}/events"), 403, "forbidden")
    with login(ludex.base_url, stranger, PASSWORD, tenant) as client:
        assert_problem(client.get(path), 403, "forbidden")
    invalid = httpx.get(
        f"{ludex.base_url}{path}", headers={"x-tenant-id": tenant, "Authorization": "Bearer nope"}, timeout=30
    )
    assert_problem(invalid, 401, "invalid-token")
    missing = admin.get(f"/v1/projects/nope-{suffix}/events")
    assert_problem(missing, 404, "project-not-found")


@pytest.mark.parametrize(
    "params",
    [
        {"from": "yesterday"},
        {"from": "2026-03-01"},
        {"from": "2026-03-01T00:00:00"},
        {"from": "2026-02-30T00:00:00Z"},
        {"to": "2026-03-01 00:00:00Z"},
        {"from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z"},
        {"from": "2026-03-01T00:00:00Z", "to": "2026-03-01T01:00:00+01:00"},
        {"type": "Wallet Credited"},
        {"playerId": "not a player"},
        {"format": "xml"},
        {"limit": "0"},
    ],
)
def test_bad_parameters_are_422(played: dict[str, Any], params: dict[str, str]) -> None:
    body = assert_problem(played["reader"].get("/events", params=params), 422, "validation-error")
    assert body["errors"] and body["errors"][0]["field"] in {"from", "to", "type", "playerId", "format", "limit"}


def test_a_foreign_cursor_is_422(played: dict[str, Any]) -> None:
    for cursor in ("not-base64!", "InRleHQi", "LTE"):  # garbage, "text", -1
        assert_problem(played["reader"].get("/events", params={"cursor": cursor}), 422, "invalid-cursor")
