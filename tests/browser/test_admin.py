"""The Admin area through the UI: a tenant created, moved to another plan and deleted; a plan's
quota edited; metrics with a chart over time; usage downloaded as CSV; the audit log filtered."""

from __future__ import annotations

import csv
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import Server, screenshot
from tests.browser.helpers import confirm, nav, new_player, settled, sign_in, unique


def test_the_admin_creates_a_tenant_changes_its_plan_suspends_and_deletes_it(page: Page, server: Server) -> None:
    tenant = unique("acme")
    sign_in(page, server)
    nav(page, "Tenants")
    page.get_by_role("button", name="New tenant").click()
    dialog = page.get_by_role("dialog", name="New tenant")
    dialog.get_by_label("Tenant ID").fill(tenant)
    dialog.get_by_label("Name").fill("Acme Games")
    dialog.get_by_label("Plan").select_option("indie")
    dialog.get_by_role("button", name="Create tenant").click()
    expect(page.get_by_role("status")).to_contain_text(f"Tenant {tenant} created.")

    page.get_by_label("Search tenants").fill(tenant)
    expect(page.get_by_role("cell", name=f"Acme Games {tenant}")).to_be_visible()
    page.get_by_label(f"Plan of {tenant}").select_option("studio")
    expect(page.get_by_role("status")).to_contain_text(f"Tenant {tenant} is now on plan studio.")
    with server.admin() as admin:
        assert admin.get(f"/v1/admin/tenants/{tenant}").json()["planId"] == "studio"
    screenshot(page, "admin-tenants")

    page.get_by_role("button", name=f"Suspend tenant {tenant}").click()
    confirm(page, "Suspend tenant")
    expect(page.get_by_role("status")).to_contain_text(f"Tenant {tenant} suspended.")
    expect(page.get_by_role("button", name=f"Resume tenant {tenant}")).to_be_visible()
    with server.admin() as admin:
        assert admin.get(f"/v1/admin/tenants/{tenant}").json()["suspended"] is True
    page.get_by_role("button", name=f"Resume tenant {tenant}").click()
    confirm(page, "Resume tenant")
    expect(page.get_by_role("button", name=f"Suspend tenant {tenant}")).to_be_visible()
    with server.admin() as admin:
        assert admin.get(f"/v1/admin/tenants/{tenant}").json()["suspended"] is False

    page.get_by_role("button", name=f"Delete tenant {tenant}").click()
    page.get_by_role("dialog", name="Please confirm").get_by_role("button", name="Cancel").click()
    with server.admin() as admin:
        assert admin.get(f"/v1/admin/tenants/{tenant}").status_code == 200  # cancelled: nothing happened
    page.get_by_role("button", name=f"Delete tenant {tenant}").click()
    confirm(page, "Delete tenant")
    expect(page.get_by_text("No tenants match.")).to_be_visible()
    with server.admin() as admin:
        assert admin.get(f"/v1/admin/tenants/{tenant}").status_code == 404


def test_the_admin_edits_a_plan_quota_and_sees_the_api_refusal_detail(page: Page, server: Server) -> None:
    sign_in(page, server)
    nav(page, "Plans")
    page.get_by_role("button", name="Edit plan indie").click()
    dialog = page.get_by_role("dialog", name="Edit plan indie")
    dialog.get_by_label("Events per month").fill("4200000")
    dialog.get_by_label("Operations per second").fill("purchase=5, credit=50")
    dialog.get_by_label("Keep events (days)").fill("90")
    dialog.get_by_role("button", name="Save plan").click()
    expect(page.get_by_role("status")).to_contain_text("Plan indie saved.")
    expect(page.get_by_role("cell", name="4,200,000")).to_be_visible()
    with server.admin() as admin:
        saved = admin.get("/v1/admin/plans/indie").json()
        assert saved["eventsPerMonth"] == 4_200_000
        assert saved["operationRatesPerSecond"] == {"purchase": 5, "credit": 50}
        assert saved["retention"] == {"eventsDays": 90.0, "deliveriesDays": None, "idempotencyDays": None}
    page.get_by_role("button", name="Edit plan indie").click()  # kept on the next edit, and refused when wrong
    dialog = page.get_by_role("dialog", name="Edit plan indie")
    expect(dialog.get_by_label("Operations per second")).to_have_value("purchase=5, credit=50")
    dialog.get_by_label("Operations per second").fill("teleport=5")
    dialog.get_by_role("button", name="Save plan").click()
    expect(dialog.get_by_role("alert")).to_be_visible()
    dialog.get_by_label("Operations per second").fill("")
    dialog.get_by_role("button", name="Save plan").click()
    expect(page.get_by_role("status")).to_contain_text("Plan indie saved.")
    with server.admin() as admin:
        saved = admin.get("/v1/admin/plans/indie").json()
        assert saved["operationRatesPerSecond"] is None and saved["retention"]["eventsDays"] == 90.0

    with server.admin() as admin:
        created = admin.post("/v1/admin/tenants", json={"id": unique("ent"), "name": "Big", "planId": "enterprise"})
        assert created.status_code == 201, created.text
    page.get_by_role("button", name="Delete plan enterprise").click()
    confirm(page, "Delete plan")
    expect(page.get_by_role("alert")).to_contain_text("plan 'enterprise' is used by")
    with server.admin() as admin:
        assert admin.get("/v1/admin/plans/enterprise").status_code == 200


def test_metrics_chart_usage_csv_and_the_audit_log(page: Page, server: Server, tmp_path: Path) -> None:
    new_player(server)  # some usage this month
    sign_in(page, server)
    nav(page, "Metrics")
    chart = page.get_by_role("img", name="Events and requests per month")
    expect(chart).to_be_visible()
    assert chart.locator("polyline").count() == 2
    expect(page.get_by_text("Webhook deliveries ok")).to_be_visible()
    expect(page.get_by_role("cell", name="demo", exact=True)).to_be_visible()
    screenshot(page, "admin-metrics")

    nav(page, "Usage")
    expect(page.get_by_role("cell", name="demo", exact=True).first).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    saved = tmp_path / "usage.csv"
    download.value.save_as(saved)
    rows = list(csv.DictReader(saved.read_text().splitlines()))
    demo = [row for row in rows if row["tenantId"] == "demo"]
    assert demo and int(demo[0]["requests"]) >= 1 and int(demo[0]["events"]) >= 1, rows

    tenant = unique("audited")
    with server.admin() as admin:
        assert admin.post("/v1/admin/tenants", json={"id": tenant, "name": "Audited"}).status_code == 201
        assert admin.patch(f"/v1/admin/tenants/{tenant}", json={"name": "Audited again"}).status_code == 200
    nav(page, "Audit")
    page.get_by_role("textbox", name="Tenant").fill(tenant)
    page.get_by_label("Target").fill(tenant)
    page.get_by_label("Action").fill("tenant.update")
    page.get_by_role("button", name="Apply filters").click()
    settled(page)
    expect(page.get_by_role("cell", name="tenant.update")).to_be_visible()
    assert page.locator("tbody tr").count() == 1
    with server.admin() as admin:
        head = admin.get("/v1/admin/audit/head", params={"tenantId": tenant}).json()
    assert head["seq"] == 2, "tenant.create then tenant.update, chained"
    expect(page.get_by_text(f"Tenant {tenant}: 2 chained entries")).to_be_visible()
    expect(page.get_by_label("Chain head hash")).to_have_text(head["hash"])
    page.get_by_text("Before / after").click()
    expect(page.get_by_text('"name": "Audited again"')).to_be_visible()
