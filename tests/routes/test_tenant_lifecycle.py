"""The tenant lifecycle through the real app (route seam: real shard hosts on SQLite, no Ray):
each state's effect on game keys, player writes and webhooks, the moves time makes, the moves
an operator may not make, and the `tenant.state.changed` billing hooks of each move."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.settings import DEMO_ECONOMY_PATH
from engine.access import SCOPES
from serve.background import run_due_deletions, settle_lifecycles
from serve.cli.ludex import main
from tests.e2e.helpers import assert_problem
from tests.e2e.test_webhooks import Receiver, eventually
from tests.routes.conftest import Dashboard, RouteApi, Seam, service_proxy
from tests.support import billing_hooks
from tests.support.billing_hooks import received
from tests.support.player_sessions import bearer, device_sign_in


@pytest.fixture(scope="module")
def admin(office_admin: Dashboard) -> Dashboard:
    return office_admin


billing, receiver, hook = billing_hooks.billing, billing_hooks.receiver, billing_hooks.hook


def new_tenant(office: Seam, admin: Dashboard, **body: Any) -> tuple[str, RouteApi]:
    """A fresh tenant with a project, a player `p1` and a key of every scope."""
    tenant = f"life-{uuid.uuid4().hex[:8]}"
    created = admin.post("/v1/admin/tenants", json={"id": tenant, "name": "Life Co", "planId": "studio", **body})
    assert created.status_code == 201, created.text
    headers = {"x-tenant-id": tenant}
    assert admin.post("/v1/client/projects", json={"id": "game", "name": "Game"}, headers=headers).status_code == 201
    economy = yaml.safe_load(DEMO_ECONOMY_PATH.read_text())
    assert admin.put("/v1/client/projects/game/economy", json=economy, headers=headers).status_code == 200
    key = admin.post(
        "/v1/client/projects/game/api-keys", json={"name": "server", "scopes": list(SCOPES)}, headers=headers
    )
    assert key.status_code == 201, key.text
    api = RouteApi(office.client, tenant, "game", key.json()["apiKey"])
    assert api.post("/players", {"playerId": "p1", "username": "p1"}).status_code == 201
    return tenant, api


def move(admin: Dashboard, tenant: str, state: str, **body: Any) -> dict[str, Any]:
    response = admin.post(f"/v1/admin/tenants/{tenant}/state", json={"state": state, **body})
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_trial_is_fully_usable_and_shows_its_end(office: Seam, admin: Dashboard) -> None:
    ends = (datetime.now(UTC) + timedelta(days=14)).isoformat()
    tenant, api = new_tenant(office, admin, trialEndsAt=ends)
    shown = admin.get(f"/v1/admin/tenants/{tenant}").json()
    assert shown["state"] == "trial" and shown["trialEndsAt"] is not None
    assert api.post("/players", {"playerId": "p2", "username": "p2"}).status_code == 201


def test_past_due_keeps_working_until_the_grace_ends_then_reads_only(office: Seam, admin: Dashboard) -> None:
    tenant, api = new_tenant(office, admin)
    past_due = move(admin, tenant, "past-due", graceDays=7)
    assert past_due["state"] == "past-due" and past_due["graceEndsAt"] is not None
    assert api.post("/players", {"playerId": "p2", "username": "p2"}).status_code == 201, "grace: writes go on"
    move(admin, tenant, "active")
    ended = move(admin, tenant, "past-due", graceDays=0)  # a grace that has already ended
    assert ended["state"] == "read-only", "time moved it on at once"
    assert api.get("/players/p1").status_code == 200, "reads answer"
    assert_problem(api.post("/players", {"playerId": "p3", "username": "p3"}), 403, "tenant-read-only")
    assert_problem(api.patch("/players/p1", {"username": "renamed"}), 403, "tenant-read-only")
    batch = api.post("/commands", {"commands": [{"op": "xp", "playerId": "p1", "amount": 5}]})
    assert_problem(batch, 403, "tenant-read-only")
    assert api.get("/players/p1").json()["username"] == "p1", "the refused writes changed nothing"
    move(admin, tenant, "active")
    assert api.post("/players", {"playerId": "p3", "username": "p3"}).status_code == 201, "active again: writes"


def test_suspended_refuses_every_call_new_keys_and_webhooks_until_reinstated(office: Seam, admin: Dashboard) -> None:
    tenant, api = new_tenant(office, admin)
    headers = {"x-tenant-id": tenant}
    move(admin, tenant, "suspended", reason="chargeback")
    assert_problem(api.get("/players/p1"), 403, "tenant-suspended")
    assert_problem(api.post("/players", {"playerId": "p2", "username": "p2"}), 403, "tenant-suspended")
    new_key = admin.post(
        "/v1/client/projects/game/api-keys", json={"name": "again", "scopes": ["players:read"]}, headers=headers
    )
    assert_problem(new_key, 403, "tenant-suspended")
    webhook = admin.post("/v1/client/projects/game/webhooks", json={"url": "https://example.com/hook"}, headers=headers)
    assert_problem(webhook, 403, "tenant-suspended")
    assert admin.get(f"/v1/admin/tenants/{tenant}").json()["suspended"] is True, "the dashboard still shows it"
    move(admin, tenant, "active")
    assert api.get("/players/p1").status_code == 200


def test_moves_the_lifecycle_does_not_allow_change_nothing(office: Seam, admin: Dashboard) -> None:
    tenant, api = new_tenant(office, admin)
    move(admin, tenant, "suspended")
    refused = admin.post(f"/v1/admin/tenants/{tenant}/state", json={"state": "past-due"})
    assert_problem(refused, 409, "invalid-transition")
    no_end = admin.post(f"/v1/admin/tenants/{tenant}/state", json={"state": "trial"})
    assert_problem(no_end, 409, "invalid-transition")
    unknown = admin.post(f"/v1/admin/tenants/{tenant}/state", json={"state": "gone"})
    assert unknown.status_code == 422
    assert admin.get(f"/v1/admin/tenants/{tenant}").json()["state"] == "suspended"


def test_time_ends_a_trial_and_each_move_sends_a_billing_hook(
    office: Seam, admin: Dashboard, hook: dict[str, Any], receiver: Receiver
) -> None:
    tenant, api = new_tenant(office, admin, trialEndsAt=(datetime.now(UTC) + timedelta(days=1)).isoformat())
    store = service_proxy(office, lambda backend: backend.store)
    document = store.get_document("tenants", tenant)
    ended = (datetime.now(UTC) - timedelta(days=10)).isoformat()  # the trial ended 10 days ago, unpaid
    store.put_document("tenants", tenant, {**document, "trialEndsAt": ended, "graceDays": 3})
    assert admin.get(f"/v1/admin/tenants/{tenant}").json()["state"] == "read-only", "trial, 3 days' grace, over"
    assert_problem(api.post("/players", {"playerId": "p2", "username": "p2"}), 403, "tenant-read-only")

    moved = office.client.portal.call(settle_lifecycles, office.client.portal.call(office.holder.get))
    assert moved >= 2
    assert store.get_document("tenants", tenant)["state"] == "read-only", "the loop stored what time did"
    move(admin, tenant, "active", reason="paid")

    def states() -> list[tuple[str, str, str]]:
        found = received(receiver, hook["secret"], type="tenant.state.changed", tenantId=tenant)
        return sorted((p["data"]["previousState"], p["data"]["state"], p["data"]["by"]) for p in found)

    expected = [
        ("past-due", "read-only", "schedule"),
        ("read-only", "active", "operator"),
        ("trial", "past-due", "schedule"),
    ]
    assert eventually(lambda: states() == expected), states()


def export_lines(admin: Dashboard, tenant: str) -> list[dict[str, Any]]:
    response = admin.get(f"/v1/admin/tenants/{tenant}/export")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in response.text.splitlines()]


def test_the_export_streams_everything_the_tenant_owns_and_nothing_else(
    office: Seam, admin: Dashboard, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    tenant, api = new_tenant(office, admin)
    other, other_api = new_tenant(office, admin)
    assert api.post("/players/p1/xp", {"amount": 30}).status_code == 200
    headers = {"x-tenant-id": tenant}
    hooked = admin.post("/v1/client/projects/game/webhooks", json={"url": "https://example.com/h"}, headers=headers)
    assert hooked.status_code == 201, hooked.text
    records = export_lines(admin, tenant)
    kinds = Counter(r["kind"] for r in records)
    assert records[0]["kind"] == "tenant" and records[-1] == {
        "kind": "summary",
        "tenantId": tenant,
        "counts": {k: n for k, n in kinds.items() if k != "summary"},
    }
    assert {"project", "economy", "player", "journal", "event", "apiKey", "webhook", "audit"} <= set(kinds)
    assert [r["playerId"] for r in records if r["kind"] == "player"] == ["p1"]
    text = json.dumps(records)
    assert other not in text, "another tenant's data never appears"
    assert "secretHash" not in text and "whsec_" not in text, "keys and webhooks without their secrets"
    assert api.headers["x-api-key"].split("_")[-1] not in text

    path = tmp_path / "export.ndjson"
    assert (
        main(["tenant", "export", tenant, "--data-dir", str(office.holder.settings.data_dir), "--out", str(path)]) == 0
    )
    from_cli = [json.loads(line) for line in path.read_text().splitlines()]
    assert from_cli == records, "the command writes what the route streams"
    assert f"exported {len(from_cli) - 1} records of '{tenant}'" in capsys.readouterr().err
    assert main(["tenant", "export", "no-such-tenant", "--data-dir", str(office.holder.settings.data_dir)]) == 2
    assert_problem(admin.get("/v1/admin/tenants/no-such-tenant/export"), 404, "tenant-not-found")


def test_a_deletion_waits_can_be_cancelled_then_removes_only_that_tenant(office: Seam, admin: Dashboard) -> None:
    tenant, api = new_tenant(office, admin)
    other, other_api = new_tenant(office, admin)
    for each in (api, other_api):
        assert each.post("/players/p1/xp", {"amount": 30}).status_code == 200
    headers = {"x-tenant-id": tenant}
    hooked = admin.post("/v1/client/projects/game/webhooks", json={"url": "https://example.com/h"}, headers=headers)
    assert hooked.status_code == 201, hooked.text
    others_before = export_lines(admin, other)
    path = f"/v1/admin/tenants/{tenant}/deletion"

    scheduled = admin.post(path, json={"waitingDays": 30})
    assert scheduled.status_code == 202 and scheduled.json()["status"] == "scheduled", scheduled.text
    backend = office.client.portal.call(office.holder.get)
    assert office.client.portal.call(run_due_deletions, backend) == [], "not due for 30 days"
    assert admin.get(f"/v1/admin/tenants/{tenant}").json()["deletionDueAt"] == scheduled.json()["deletionDueAt"]
    assert admin.delete(path).json()["status"] == "cancelled"
    assert_problem(admin.delete(path), 409, "deletion-not-scheduled")
    assert api.get("/players/p1").status_code == 200, "a cancelled deletion removed nothing"

    assert admin.post(path, json={"waitingDays": 0}).status_code == 202
    [report] = office.client.portal.call(run_due_deletions, backend)
    removed = report["removed"]
    assert removed["players"] == 1 and removed["events"] > 0 and removed["journal"] > 0, removed
    assert removed["documents"] >= 4, "tenant, project, key, webhook (and its audit entries)"
    assert admin.get(path).json()["status"] == "done", "the report outlives the tenant"
    assert_problem(admin.get(f"/v1/admin/tenants/{tenant}"), 404, "tenant-not-found")
    assert_problem(api.get("/players/p1"), 401, "invalid-api-key"), "its keys went with it"
    store = service_proxy(office, lambda backend: backend.store)
    for kind in ("tenants", "projects", "api_keys", "webhooks", "audit", "webhook_deliveries"):
        assert store.list_documents(kind, tenant=tenant) == [], kind
    assert store.read_last(f"project:{tenant}/game") is None
    others_after = export_lines(admin, other)

    def data(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [r for r in records if r["kind"] not in ("audit", "summary")]

    assert data(others_after) == data(others_before), "another tenant's data is untouched"
    audits = [[r for r in records if r["kind"] == "audit"] for records in (others_before, others_after)]
    assert audits[1][: len(audits[0])] == audits[0] and len(audits[1]) == len(audits[0]) + 1, "its audit too (+ export)"
    assert other_api.get("/players/p1").json()["xp"] == 30


def test_read_only_player_sessions_read_and_sign_in_but_create_and_write_nothing(
    office: Seam, admin: Dashboard
) -> None:
    tenant, api = new_tenant(office, admin)
    anonymous = RouteApi(office.client, tenant, "game", None)
    signed = device_sign_in(anonymous, "device-0000000001")
    move(admin, tenant, "read-only")
    assert anonymous.get("/players/me", headers=bearer(signed)).status_code == 200, "a session reads"
    assert device_sign_in(anonymous, "device-0000000001")["created"] is False, "an existing player signs in"
    new_device = anonymous.post("/auth/device", {"deviceId": "device-0000000002", "username": "new"})
    assert_problem(new_device, 403, "tenant-read-only")
    renamed = anonymous.patch("/players/me", {"username": "renamed"}, headers=bearer(signed))
    assert_problem(renamed, 403, "tenant-read-only")


def test_read_only_realtime_keeps_its_socket_but_refuses_commands(office: Seam, admin: Dashboard) -> None:
    tenant, api = new_tenant(office, admin)
    headers = {"x-tenant-id": tenant, "x-project-id": "game", "x-api-key": api.headers["x-api-key"]}
    with office.client.websocket_connect("/v1/realtime", headers=headers) as socket:
        assert socket.receive_json()["type"] == "hello"
        socket.send_json({"action": "command", "id": "c1", "op": "xp", "playerId": "p1", "amount": 5})
        assert socket.receive_json()["ok"] is True
        move(admin, tenant, "read-only")
        socket.send_json({"action": "command", "id": "c2", "op": "xp", "playerId": "p1", "amount": 5})
        refused = socket.receive_json()
        assert refused["id"] == "c2" and refused["status"] == 403, refused
        assert refused["problem"]["type"].endswith("/tenant-read-only")
        socket.send_json({"action": "ping"})
        assert socket.receive_json()["type"] == "pong", "the socket stays open"
        socket.close()
    assert api.get("/players/p1").json()["xp"] == 5
