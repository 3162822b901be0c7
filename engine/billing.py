"""Billing events: what the platform tells its billing system about each tenant. Pure: the
outbox and providers (`actors/ingress/billing.py`) deliver them; nothing here does I/O.

- `usage.reported`: once a UTC day per tenant, right after the day ends, the tenant's usage of
  that day's month as `GET /v1/admin/usage` shows it at that moment (requests and events so far,
  with the plan and its quotas). The report made after a month's last day carries the month's
  final totals; the others are running totals a receiver may use for alerts or metering.
- `tenant.plan.changed`: a tenant was created on a plan or moved to another one.
- `tenant.state.changed`: a tenant moved in its lifecycle (`engine/tenant_lifecycle.py`).

Each event has a stable id (`msg_<digest>`): a daily report's id is derived from its tenant and
day, so it is written once however many replicas or retries produce it, and receivers dedupe
on it (`webhook-id`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

USAGE_REPORTED = "usage.reported"
PLAN_CHANGED = "tenant.plan.changed"
STATE_CHANGED = "tenant.state.changed"  # built by `engine.tenant_lifecycle.state_changed_event`
EVENT_TYPES = (USAGE_REPORTED, PLAN_CHANGED, STATE_CHANGED)
MAX_CATCH_UP_DAYS = 31  # a deployment down for longer reports only the last month's days


def message_id(*parts: str) -> str:
    digest = hashlib.blake2b("#".join(parts).encode(), digest_size=12).hexdigest()
    return f"msg_{digest}"


@dataclass(frozen=True)
class UsageReport:
    tenant_id: str
    day: str  # the UTC day that ended, YYYY-MM-DD
    plan_id: str | None
    requests: int
    events: int
    requests_per_month: int | None = None
    events_per_month: int | None = None

    @property
    def month(self) -> str:
        return self.day[:7]

    def data(self) -> dict[str, Any]:
        return {
            "tenantId": self.tenant_id,
            "day": self.day,
            "month": self.month,
            "planId": self.plan_id,
            "requests": self.requests,
            "events": self.events,
            "requestsPerMonth": self.requests_per_month,
            "eventsPerMonth": self.events_per_month,
        }


@dataclass(frozen=True)
class PlanChange:
    tenant_id: str
    previous_plan_id: str | None
    plan_id: str | None
    changed_at: str

    def data(self) -> dict[str, Any]:
        return {
            "tenantId": self.tenant_id,
            "previousPlanId": self.previous_plan_id,
            "planId": self.plan_id,
            "changedAt": self.changed_at,
        }


def usage_event(report: UsageReport, reported_at: str, *, once_per_day: bool = True, nonce: str = "") -> dict[str, Any]:
    """The `usage.reported` event of a report. The daily one's id depends only on tenant and day;
    a report asked for by hand (`once_per_day=False`) gets an id of its own (`nonce`)."""
    parts = (USAGE_REPORTED, report.tenant_id, report.day) + (() if once_per_day else (nonce,))
    return {"id": message_id(*parts), "type": USAGE_REPORTED, "occurredAt": reported_at, "data": report.data()}


def plan_changed_event(change: PlanChange, nonce: str) -> dict[str, Any]:
    return {
        "id": message_id(PLAN_CHANGED, change.tenant_id, change.changed_at, nonce),
        "type": PLAN_CHANGED,
        "occurredAt": change.changed_at,
        "data": change.data(),
    }


def days_to_report(last_reported: str | None, today: date) -> list[str]:
    """The UTC days that ended and were not reported yet, oldest first: every day after
    `last_reported` up to yesterday (at most `MAX_CATCH_UP_DAYS`); just yesterday the first time."""
    yesterday = today - timedelta(days=1)
    if last_reported is None:
        return [yesterday.isoformat()]
    start = max(date.fromisoformat(last_reported) + timedelta(days=1), today - timedelta(days=MAX_CATCH_UP_DAYS))
    return [(start + timedelta(days=n)).isoformat() for n in range((yesterday - start).days + 1)]
