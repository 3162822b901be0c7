"""Billing hooks through Ray Serve: `usage.reported` carries the same totals as `GET
/v1/admin/usage` (metered by the replicas), signed the Standard Webhooks way; plan changes send
`tenant.plan.changed` from the replica's background task. The webhook's secret, redrives, roles
and bad configurations are tested at the route seam (tests/routes/test_billing.py), without Ray."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from serve.launcher import Launched
from tests.e2e.conftest import Api
from tests.e2e.helpers import new_player
from tests.e2e.test_webhooks import Receiver, eventually
from tests.support import billing_hooks
from tests.support.billing_hooks import received

# the module's receiver and billing webhook, for its `admin` (tests/support/billing_hooks.py)
billing, receiver, hook = billing_hooks.billing, billing_hooks.receiver, billing_hooks.hook


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
