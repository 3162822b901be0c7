"""Billing hooks at the route seam (no Ray): the superadmin configures the platform's billing
webhook (secret shown once), refused deliveries are kept and redriven, other roles cannot
configure it, bad configurations change nothing. tests/e2e/test_billing.py keeps, through Ray
Serve, the usage reports' totals and the plan changes sent from a replica's background task."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.e2e.helpers import assert_problem
from tests.e2e.test_webhooks import Receiver, eventually
from tests.routes.conftest import Dashboard, Seam, sign_in
from tests.support import billing_hooks
from tests.support.billing_hooks import HOOK, received

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(scope="module")
def admin(office_admin: Dashboard) -> Dashboard:
    return office_admin


# the module's receiver and billing webhook, for its `admin` (tests/support/billing_hooks.py)
billing, receiver, hook = billing_hooks.billing, billing_hooks.receiver, billing_hooks.hook


@pytest.fixture(scope="module")
def tenant(admin: Dashboard, hook: dict[str, Any]) -> dict[str, Any]:
    """A fresh tenant on the indie plan, once its `tenant.plan.changed` (sent in the background,
    concurrently with the next calls in this process) is delivered."""
    tenant_id = f"bill-{uuid.uuid4().hex[:8]}"
    created = admin.post("/v1/admin/tenants", json={"id": tenant_id, "name": "Billing Co", "planId": "indie"})
    assert created.status_code == 201, created.text

    def delivered() -> bool:
        found = admin.get("/v1/admin/billing/deliveries", params={"limit": 200}).json()["items"]
        return any(d["tenantId"] == tenant_id and d["status"] == "delivered" for d in found)

    assert eventually(delivered), "the new tenant's plan change was not delivered"
    return {"id": tenant_id}


def test_the_secret_is_shown_once_and_rotates(admin: Dashboard, hook: dict[str, Any], receiver: Receiver) -> None:
    assert hook["secret"].startswith("whsec_") and hook["url"] == receiver.url and hook["active"] is True
    assert set(hook["eventTypes"]) == {"usage.reported", "tenant.plan.changed", "tenant.state.changed"}
    shown = admin.get(HOOK).json()
    assert "secret" not in shown or shown["secret"] is None
    again = admin.put(HOOK, json={"url": receiver.url}).json()
    assert again.get("secret") is None, "replacing the URL keeps the secret and does not show it"


def test_a_refused_delivery_is_kept_and_redriven(
    admin: Dashboard, hook: dict[str, Any], receiver: Receiver, tenant: dict[str, Any]
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


def test_only_the_superadmin_configures_billing(admin: Dashboard, office: Seam, hook: dict[str, Any]) -> None:
    email = f"ops-{uuid.uuid4().hex[:6]}@example.com"
    made = admin.post("/v1/admin/users", json={"email": email, "password": PASSWORD, "platformRole": "admin"})
    assert made.status_code == 201, made.text
    operator = sign_in(office, email, PASSWORD, "demo")
    assert operator.get(HOOK).status_code == 200, "admins may look"
    assert_problem(operator.put(HOOK, json={"url": "http://127.0.0.1:9/x"}), 403, "forbidden")
    assert_problem(operator.delete(HOOK), 403, "forbidden")
    assert_problem(operator.post("/v1/admin/billing/usage-reports", json={}), 403, "forbidden")
    assert admin.get(HOOK).json()["url"] == hook["url"], "nothing changed"


@pytest.mark.parametrize("body", [{"url": "ftp://example.com/x"}, {"url": "http://"}, {"url": 5}, {"other": 1}])
def test_a_bad_configuration_is_422_and_changes_nothing(
    admin: Dashboard, hook: dict[str, Any], body: dict[str, Any]
) -> None:
    before = admin.get(HOOK).json()
    assert_problem(admin.put(HOOK, json=body), 422, "validation-error")
    assert admin.get(HOOK).json() == before
