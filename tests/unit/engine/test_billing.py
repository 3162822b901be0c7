"""Billing events: stable ids for daily reports, and which ended days still need one."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from engine.billing import MAX_CATCH_UP_DAYS, PlanChange, UsageReport, days_to_report, plan_changed_event, usage_event

REPORT = UsageReport("acme", "2026-03-01", "indie", 1200, 5400, 100_000, 50_000)


def test_a_daily_report_has_one_id_per_tenant_and_day() -> None:
    first = usage_event(REPORT, "2026-03-02T00:01:00.000Z")
    again = usage_event(REPORT, "2026-03-02T00:02:00.000Z", nonce="other")
    assert first["id"] == again["id"] and first["id"].startswith("msg_")
    assert usage_event(UsageReport("acme", "2026-03-02", None, 0, 0), "x")["id"] != first["id"]
    assert usage_event(UsageReport("beta", "2026-03-01", None, 0, 0), "x")["id"] != first["id"]
    by_hand = {usage_event(REPORT, "x", once_per_day=False, nonce=n)["id"] for n in ("a", "b")}
    assert len(by_hand) == 2 and first["id"] not in by_hand


def test_events_carry_their_data() -> None:
    assert usage_event(REPORT, "t")["data"] == {
        "tenantId": "acme",
        "day": "2026-03-01",
        "month": "2026-03",
        "planId": "indie",
        "requests": 1200,
        "events": 5400,
        "requestsPerMonth": 100_000,
        "eventsPerMonth": 50_000,
    }
    change = plan_changed_event(PlanChange("acme", "free", "indie", "2026-03-01T10:00:00.000Z"), "n")
    assert change["type"] == "tenant.plan.changed" and change["data"]["previousPlanId"] == "free"


def test_the_first_run_reports_yesterday_only() -> None:
    assert days_to_report(None, date(2026, 3, 10)) == ["2026-03-09"]


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)), st.integers(0, 100))
def test_every_missed_day_up_to_yesterday_is_reported_once_and_in_order(today: date, behind: int) -> None:
    last = today - timedelta(days=1 + behind)
    days = days_to_report(last.isoformat(), today)
    assert len(days) == min(behind, MAX_CATCH_UP_DAYS)
    assert days == sorted(days) and all(last.isoformat() < d < today.isoformat() for d in days)
    if days:
        assert days[-1] == (today - timedelta(days=1)).isoformat()
    assert days_to_report((today - timedelta(days=1)).isoformat(), today) == []
