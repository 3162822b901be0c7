"""`/v1/admin/tenants/{id}/retention`: what a tenant keeps and why (its own setting, its plan's,
the platform's), set within the platform's bounds; a refused setting changes nothing."""

from __future__ import annotations

import uuid

from tests.e2e.helpers import assert_problem
from tests.routes.conftest import Dashboard


def new_tenant(admin: Dashboard, plan: str = "free") -> str:
    tenant = f"ret-{uuid.uuid4().hex[:8]}"
    assert admin.post("/v1/admin/tenants", json={"id": tenant, "name": "Ret", "planId": plan}).status_code == 201
    return tenant


def test_a_tenant_inherits_the_platforms_retention_then_its_plans_then_its_own(office_admin: Dashboard) -> None:
    plan = f"plan-{uuid.uuid4().hex[:8]}"
    created = office_admin.post(
        "/v1/admin/plans", json={"id": plan, "name": "Short", "retention": {"eventsDays": 90, "deliveriesDays": 14}}
    )
    assert created.status_code == 201, created.text
    tenant = new_tenant(office_admin, plan)
    inherited = office_admin.get(f"/v1/admin/tenants/{tenant}/retention").json()
    assert inherited["own"] is None and inherited["plan"]["eventsDays"] == 90
    assert inherited["platform"] == {"eventsDays": None, "deliveriesDays": 30.0, "idempotencyDays": 7.0}
    assert inherited["effective"] == {"eventsDays": 90.0, "deliveriesDays": 14.0, "idempotencyDays": 7.0}
    own = office_admin.put(f"/v1/admin/tenants/{tenant}/retention", json={"eventsDays": 30})
    assert own.status_code == 200, own.text
    assert own.json()["effective"] == {"eventsDays": 30.0, "deliveriesDays": 14.0, "idempotencyDays": 7.0}
    assert office_admin.get(f"/v1/admin/tenants/{tenant}/retention").json()["own"]["eventsDays"] == 30
    cleared = office_admin.put(f"/v1/admin/tenants/{tenant}/retention", json={})
    assert cleared.json()["own"] is None and cleared.json()["effective"]["eventsDays"] == 90.0
    audit = office_admin.get("/v1/admin/audit", params={"action": "tenant.retention", "target": tenant}).json()
    assert [entry["after"]["retention"] for entry in audit["items"]] == [{"eventsDays": 30.0}, None]


def test_settings_outside_the_bounds_are_refused_and_change_nothing(office_admin: Dashboard) -> None:
    tenant = new_tenant(office_admin)
    before = office_admin.get(f"/v1/admin/tenants/{tenant}/retention").json()
    for body, field in (
        ({"idempotencyDays": 30}, "retention.idempotencyDays"),  # longer than the hosts look keys up
        ({"idempotencyDays": 3}, "retention.idempotencyDays"),  # a retry within a week must replay
        ({"eventsDays": 0}, "eventsDays"),
        ({"eventsDays": 10, "hours": 3}, "hours"),
    ):
        refused = assert_problem(
            office_admin.put(f"/v1/admin/tenants/{tenant}/retention", json=body), 422, "validation-error"
        )
        assert any(field in e["field"] for e in refused["errors"]), refused
    assert office_admin.get(f"/v1/admin/tenants/{tenant}/retention").json() == before
    plan = f"plan-{uuid.uuid4().hex[:8]}"
    refused_plan = office_admin.post(
        "/v1/admin/plans", json={"id": plan, "name": "P", "retention": {"idempotencyDays": 1}}
    )
    assert_problem(refused_plan, 422, "validation-error")
    assert_problem(office_admin.get(f"/v1/admin/plans/{plan}"), 404, "plan-not-found")
    assert_problem(office_admin.get("/v1/admin/tenants/nobody-here/retention"), 404, "tenant-not-found")
