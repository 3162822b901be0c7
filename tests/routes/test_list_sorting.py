"""`sort` and the filters of the list endpoints beside players (serve/sorting.py): API keys,
webhooks, members and events, each in the order asked for across pages, and an unknown sort
field a 422 problem naming `sort` that lists nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from actors.webhook_records import DELIVERIES, delivery_id
from tests.e2e.helpers import assert_problem, new_player, unique
from tests.routes.conftest import RouteApi, Seam, service_proxy


@pytest.fixture(scope="module")
def admin(seam: Seam) -> dict[str, str]:
    creds = seam.credentials
    login = seam.client.post("/v1/auth/login", json={"email": creds["adminEmail"], "password": creds["adminPassword"]})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['accessToken']}"}


@pytest.fixture
def tenant(seam: Seam, admin: dict[str, str], control_plane: Any) -> dict[str, str]:
    """The headers of a fresh tenant with one project, `p1`."""
    name = unique("srt")
    control_plane.ensure_tenant(name, name)
    control_plane.ensure_project(name, "p1", "one")
    return {**admin, "x-tenant-id": name}


def every_page(client: httpx.Client, path: str, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    """Every item of a paginated list, two at a time, following `nextCursor`."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        response = client.get(
            path, headers=headers, params={**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
        )
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        cursor = response.json()["nextCursor"]
        if cursor is None:
            return items


def test_api_keys_sort_and_filter_by_state_and_name(seam: Seam, tenant: dict[str, str]) -> None:
    client, keys = seam.client, "/v1/client/projects/p1/api-keys"
    made = {}
    for name in ("bravo", "alpha", "charlie-ci", "delta-ci"):
        answer = client.post(keys, json={"name": name, "scopes": ["players:read"]}, headers=tenant)
        assert answer.status_code == 201, answer.text
        made[name] = answer.json()["id"]
    assert client.post(f"{keys}/{made['delta-ci']}/revoke", headers=tenant).is_success

    def names(**params: Any) -> list[str]:
        response = client.get(keys, headers=tenant, params=params)
        assert response.status_code == 200, response.text
        return [k["name"] for k in response.json()["items"]]

    assert names(sort="name") == ["alpha", "bravo", "charlie-ci", "delta-ci"]
    assert names(sort="-name") == ["delta-ci", "charlie-ci", "bravo", "alpha"]
    assert names(sort="-name", status="active") == ["charlie-ci", "bravo", "alpha"]
    assert names(status="revoked") == ["delta-ci"]
    assert names(status="expired") == []
    assert names(sort="name", q="CI") == ["charlie-ci", "delta-ci"]
    assert sorted(names()) == ["alpha", "bravo", "charlie-ci", "delta-ci"], "no sort: every key, as before"


def test_webhooks_sort_across_pages_and_filter_by_state_and_event_type(seam: Seam, tenant: dict[str, str]) -> None:
    client, hooks = seam.client, "/v1/client/projects/p1/webhooks"
    for path, types, active in (
        ("c", ["player.*"], True),
        ("a", ["wallet.credited"], False),
        ("d", ["*"], True),
        ("b", ["player.created", "wallet.debited"], True),
    ):
        body = {"url": f"http://127.0.0.1:9/{path}", "eventTypes": types, "active": active}
        assert client.post(hooks, json=body, headers=tenant).status_code == 201

    def paths(**params: Any) -> list[str]:
        return [h["url"].rsplit("/", 1)[1] for h in every_page(client, hooks, tenant, **params)]

    assert paths(sort="url") == ["a", "b", "c", "d"]
    assert paths(sort="-url") == ["d", "c", "b", "a"]
    assert paths(sort="createdAt") == ["c", "a", "d", "b"]
    assert paths(sort="url", active="false") == ["a"]
    assert paths(sort="url", eventType="player.created") == ["b", "c", "d"]
    assert paths(sort="-url", eventType="wallet.credited", active="true") == ["d"]
    assert sorted(paths()) == ["a", "b", "c", "d"]


def test_deliveries_sort_by_creation_and_filter_by_event_type(seam: Seam, tenant: dict[str, str]) -> None:
    client, hooks = seam.client, "/v1/client/projects/p1/webhooks"
    hook = client.post(
        hooks, json={"url": "http://127.0.0.1:9/h", "eventTypes": ["*"], "active": False}, headers=tenant
    )
    webhook = hook.json()["id"]
    store = service_proxy(seam, lambda backend: backend.store)
    # what the webhook worker writes (actors/webhook_delivery.py): ids by event id, not by time
    for event, kind, minute in (
        ("evt_b", "player.created", 3),
        ("evt_c", "wallet.credited", 1),
        ("evt_a", "player.created", 2),
    ):
        at = f"2026-05-01T10:0{minute}:00.000Z"
        identity = delivery_id(webhook, event)
        document = {
            "id": identity,
            "subscriptionId": webhook,
            "tenantId": tenant["x-tenant-id"],
            "projectId": "p1",
            "eventId": event,
            "eventType": kind,
            "event": {},
            "status": "pending",
            "failures": 0,
            "attempts": [],
            "createdAt": at,
            "nextAttemptAt": at,
            "deliveredAt": None,
        }
        store.put_document(DELIVERIES, identity, document)
    deliveries = f"{hooks}/{webhook}/deliveries"

    def events(**params: Any) -> list[str]:
        return [d["eventId"] for d in every_page(client, deliveries, tenant, **params)]

    assert events() == ["evt_a", "evt_b", "evt_c"], "no sort: by id, as before"
    assert events(sort="-createdAt") == ["evt_b", "evt_a", "evt_c"]
    assert events(sort="createdAt", eventType="player.created") == ["evt_a", "evt_b"]
    assert events(sort="-createdAt", status="delivered") == []


def test_members_sort_by_email_and_filter_by_role(seam: Seam, tenant: dict[str, str]) -> None:
    client, members = seam.client, "/v1/client/members"
    for email, role in (("zed@x.example", "analyst"), ("amy@x.example", "developer"), ("kim@x.example", "analyst")):
        body = {"email": f"{unique('m')}-{email}", "role": role, "password": "correct horse battery staple 9"}
        assert client.post(members, json=body, headers=tenant).status_code == 200

    def emails(**params: Any) -> list[str]:
        return [u["email"].split("-", 2)[-1] for u in every_page(client, members, tenant, **params)]

    listed = every_page(client, members, tenant, sort="-email")
    assert [u["email"] for u in listed] == sorted((u["email"] for u in listed), reverse=True)
    assert emails(sort="createdAt", role="analyst") == ["zed@x.example", "kim@x.example"]
    assert emails(sort="-createdAt", role="developer") == ["amy@x.example"]
    assert all(m["tenantId"] == tenant["x-tenant-id"] for u in listed for m in u["memberships"])


def test_events_list_newest_first_across_pages(api: RouteApi) -> None:
    player = new_player(api)
    for amount in (1, 2, 3):
        assert api.post(f"/players/{player}/wallet/credit", {"currency": "coins", "amount": amount}).status_code == 200
    oldest: list[dict[str, Any]] = []
    newest: list[dict[str, Any]] = []
    for sort, into in (("position", oldest), ("-position", newest)):
        cursor = None
        while True:
            params = {"playerId": player, "sort": sort, "limit": 2, **({"cursor": cursor} if cursor else {})}
            page = api.get("/events", params=params).json()
            into += page["items"]
            if (cursor := page["nextCursor"]) is None:
                break
    assert [e["type"] for e in oldest] == ["player.created", "wallet.credited", "wallet.credited", "wallet.credited"]
    assert newest == oldest[::-1]
    assert [e["data"]["amount"] for e in newest[:3]] == [3, 2, 1]


def test_the_audit_log_lists_newest_first_across_pages(seam: Seam, tenant: dict[str, str]) -> None:
    client, keys = seam.client, "/v1/client/projects/p1/api-keys"
    for name in ("one", "two", "three"):
        assert client.post(keys, json={"name": name, "scopes": ["players:read"]}, headers=tenant).status_code == 201
    params = {"tenantId": tenant["x-tenant-id"], "action": "api-key.create"}
    oldest = every_page(client, "/v1/admin/audit", tenant, **params)
    newest = every_page(client, "/v1/admin/audit", tenant, sort="-occurredAt", **params)
    assert [e["after"]["name"] for e in oldest] == ["one", "two", "three"]
    assert newest == oldest[::-1]
    problem = assert_problem(
        client.get("/v1/admin/audit", headers=tenant, params={"sort": "-actor"}), 422, "validation-error"
    )
    assert any("sort" in error["field"] for error in problem["errors"]), problem


@pytest.mark.parametrize(
    "path",
    [
        "/v1/client/projects/p1/api-keys",
        "/v1/client/projects/p1/webhooks",
        "/v1/client/members",
        "/v1/admin/users",
    ],
)
def test_an_unknown_sort_field_is_a_422_problem_naming_sort(seam: Seam, tenant: dict[str, str], path: str) -> None:
    problem = assert_problem(seam.client.get(path, headers=tenant, params={"sort": "-secret"}), 422, "validation-error")
    assert any("sort" in error["field"] for error in problem["errors"]), problem


def test_an_unknown_event_sort_is_a_422_problem(api: RouteApi) -> None:
    problem = assert_problem(api.get("/events", params={"sort": "occurredAt"}), 422, "validation-error")
    assert any("sort" in error["field"] for error in problem["errors"]), problem
