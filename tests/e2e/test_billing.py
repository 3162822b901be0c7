"""Billing hooks over HTTP: the superadmin configures the platform's billing webhook (secret shown
once); `usage.reported` carries the same totals as `GET /v1/admin/usage`, signed the Standard
Webhooks way; plan changes send `tenant.plan.changed`; failed deliveries are retried and
redriven; other roles cannot configure it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from serve.launcher import Launched
from tests.e2e.conftest import Api
from tests.e2e.helpers import assert_problem, login, new_player
from tests.e2e.test_webhooks import Receiver, eventually

HOOK = "/v1/admin/billing/webhook"
PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture(scope="module")
def hook(admin: httpx.Client, receiver: Receiver) -> Iterator[dict[str, Any]]:
    """The billing webhook pointed at the receiver; removed afterwards (it is platform-wide)."""
    response = admin.put(HOOK, json={"url": receiver.url})
    assert response.status_code == 200, response.text
    yield response.json()
    admin.delete(HOOK)


def received(receiver: Receiver, secret: str, **match: Any) -> list[dict[str, Any]]:
    """Verified payloads whose fields (or `data` fields) match."""
    with receiver.lock:
        requests = list(receiver.requests)
    payloads = [Webhook(secret).verify(body, headers) for headers, body in requests if "webhook-id" in headers]
    wanted = []
    for payload in payloads:
        flat = {**payload, **payload.get("data", {})}
        if all(flat.get(key) == value for key, value in match.items()):
            wanted.append(payload)
    return wanted


@pytest.fixture(scope="module")
def tenant(admin: httpx.Client, control_plane: Any, ludex: Launched, demo_economy_document: Any) -> dict[str, Any]:
    """A fresh tenant on the indie plan with a project, a key, and a little traffic."""
    tenant_id = f"bill-{uuid.uuid4().hex[:8]}"
    created = admin.post("/v1/admin/tenants", json={"id": tenant_id, "name": "Billing Co", "planId": "indie"})
    assert created.status_code == 201, created.text
    control_plane.ensure_project(tenant_id, "game", "Game")
    economy = admin.put(
        "/v1/client/projects/game/economy", json=demo_economy_document, headers={"x-tenant-id": tenant_id}
    )
    assert economy.status_code == 200, economy.text
    _, key = control_plane.create_api_key(tenant_id, "game", "k")
    game = Api(ludex.base_url, tenant_id, "game", str(key))
    return {"id": tenant_id, "game": game}


def test_the_secret_is_shown_once_and_rotates(admin: httpx.Client, hook: dict[str, Any], receiver: Receiver) -> None:
    assert hook["secret"].startswith("whsec_") and hook["url"] == receiver.url and hook["active"] is True
    assert set(hook["eventTypes"]) == {"usage.reported", "tenant.plan.changed"}
    shown = admin.get(HOOK).json()
    assert "secret" not in shown or shown["secret"] is None
    again = admin.put(HOOK, json={"url": receiver.url}).json()
    assert again.get("secret") is None, "replacing the URL keeps the secret and does not show it"


def test_usage_reported_carries_the_totals_of_admin_usage(
    admin: httpx.Client, hook: dict[str, Any], receiver: Receiver, tenant: dict[str, Any]
) -> None:
    game = tenant["game"]
    player = new_player(game)
    for amount in (5, 7):
        assert game.post(f"/players/{player}/wallet/credit", {"currency": "coins", "amount": amount}).status_code == 200
    sent = admin.post("/v1/admin/billing/usage-reports", json={"tenantId": tenant["id"]})
    assert sent.status_code == 200, sent.text
    [event] = sent.json()["events"]
    month = datetime.now(UTC).strftime("%Y-%m")
    usage = admin.get("/v1/admin/usage", params={"tenantId": tenant["id"], "month": month})
    assert usage.status_code == 200, usage.text
    [row] = usage.json()["items"]
    [payload] = eventually(lambda: received(receiver, hook["secret"], id=event["id"]))
    data = payload["data"]
    assert (data["requests"], data["events"]) == (row["requests"], row["events"])
    assert data["requests"] >= 3 and data["events"] >= 1
    assert (data["tenantId"], data["month"], data["planId"]) == (tenant["id"], month, "indie")
    assert (data["requestsPerMonth"], data["eventsPerMonth"]) == (row["requestsPerMonth"], row["eventsPerMonth"])
    assert payload["type"] == "usage.reported"


def test_a_plan_change_sends_tenant_plan_changed(
    admin: httpx.Client, hook: dict[str, Any], receiver: Receiver, tenant: dict[str, Any]
) -> None:
    moved = admin.patch(f"/v1/admin/tenants/{tenant['id']}", json={"planId": "studio"})
    assert moved.status_code == 200, moved.text
    [change] = eventually(
        lambda: received(receiver, hook["secret"], type="tenant.plan.changed", tenantId=tenant["id"], planId="studio")
    )
    assert change["data"]["previousPlanId"] == "indie"
    renamed = admin.patch(f"/v1/admin/tenants/{tenant['id']}", json={"name": "Billing Company"})
    assert renamed.status_code == 200
    newcomer = f"bill-{uuid.uuid4().hex[:8]}"
    assert admin.post("/v1/admin/tenants", json={"id": newcomer, "name": "N", "planId": "free"}).status_code == 201
    eventually(lambda: received(receiver, hook["secret"], type="tenant.plan.changed", tenantId=newcomer))
    changes = received(receiver, hook["secret"], type="tenant.plan.changed", tenantId=tenant["id"])
    plans = [(c["data"]["previousPlanId"], c["data"]["planId"]) for c in changes]
    assert plans == [(None, "indie"), ("indie", "studio")], "created on indie, moved once; a rename sends nothing"


def test_a_refused_delivery_is_kept_and_redriven(
    admin: httpx.Client, hook: dict[str, Any], receiver: Receiver, tenant: dict[str, Any]
) -> None:
    with receiver.lock:
        receiver.statuses[:] = [500]
    sent = admin.post("/v1/admin/billing/usage-reports", json={"tenantId": tenant["id"]})
    [event] = sent.json()["events"]
    pending = admin.get("/v1/admin/billing/deliveries", params={"status": "pending", "limit": 200}).json()["items"]
    [delivery] = [d for d in pending if d["id"] == event["id"]]
    assert delivery["failures"] == 1 and delivery["attempts"][0]["error"] == "BillingDeliveryError: HTTP 500"
    redriven = admin.post(f"/v1/admin/billing/deliveries/{event['id']}/redrive")
    assert redriven.status_code == 200, redriven.text
    assert redriven.json()["status"] == "delivered"
    assert len(received(receiver, hook["secret"], id=event["id"])) == 2, "the refused attempt, then the redrive"
    missing = admin.post("/v1/admin/billing/deliveries/msg_000000000000000000000000/redrive")
    assert_problem(missing, 404, "not-found")


def test_only_the_superadmin_configures_billing(admin: httpx.Client, ludex: Launched, hook: dict[str, Any]) -> None:
    email = f"ops-{uuid.uuid4().hex[:6]}@example.com"
    made = admin.post("/v1/admin/users", json={"email": email, "password": PASSWORD, "platformRole": "admin"})
    assert made.status_code == 201, made.text
    with login(ludex.base_url, email, PASSWORD, "demo") as operator:
        assert operator.get(HOOK).status_code == 200, "admins may look"
        assert_problem(operator.put(HOOK, json={"url": "http://127.0.0.1:9/x"}), 403, "forbidden")
        assert_problem(operator.delete(HOOK), 403, "forbidden")
        assert_problem(operator.post("/v1/admin/billing/usage-reports", json={}), 403, "forbidden")
    assert admin.get(HOOK).json()["url"] == hook["url"], "nothing changed"


@pytest.mark.parametrize("body", [{"url": "ftp://example.com/x"}, {"url": "http://"}, {"url": 5}, {"other": 1}])
def test_a_bad_configuration_is_422_and_changes_nothing(
    admin: httpx.Client, hook: dict[str, Any], body: dict[str, Any]
) -> None:
    before = admin.get(HOOK).json()
    assert_problem(admin.put(HOOK, json=body), 422, "validation-error")
    assert admin.get(HOOK).json() == before
