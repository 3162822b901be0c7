"""The monthly quota rule: which month a moment counts in, and whether a tenant's plan still
admits an economy-changing call given the month's usage. Pure: the ingress counts (see
`actors.ingress.usage_meters`) and asks here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class Usage:
    tenant: str
    month: str
    requests: int = 0
    events: int = 0

    @property
    def id(self) -> str:
        return f"{self.tenant}/{self.month}"


def month_of(moment: datetime) -> str:
    """The UTC month of `moment` as `YYYY-MM`."""
    return moment.astimezone(UTC).strftime("%Y-%m")


def seconds_to_next_month(moment: datetime) -> int:
    """Whole seconds (at least 1) from `moment` to the first instant of the next UTC month."""
    moment = moment.astimezone(UTC)
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    start = datetime(year, month, 1, tzinfo=UTC)
    return max(1, int((start - moment).total_seconds() + 0.999999))


@dataclass(frozen=True)
class QuotaRefusal:
    quota: str  # "eventsPerMonth" or "requestsPerMonth"
    used: int
    limit: int
    retry_after_s: int

    @property
    def detail(self) -> str:
        what = "events" if self.quota == "eventsPerMonth" else "requests"
        return f"the plan's {self.limit} {what} per month are used up ({self.used}); the quota resets next month"


def quota_refusal(plan: dict[str, Any] | None, usage: Usage, now: datetime) -> QuotaRefusal | None:
    """Why an economy-changing call must be refused this month, if it must. `usage` counts the
    call being decided as one of its requests: a call past `requestsPerMonth` is refused, and
    so is any call once the month's events have reached `eventsPerMonth`. A batch admitted just
    under the events quota may overshoot it by its own events (the quota is checked, not reserved)."""
    if plan is None:
        return None
    events_quota, requests_quota = plan.get("eventsPerMonth"), plan.get("requestsPerMonth")
    if events_quota is not None and usage.events >= events_quota:
        return QuotaRefusal("eventsPerMonth", usage.events, events_quota, seconds_to_next_month(now))
    if requests_quota is not None and usage.requests > requests_quota:
        return QuotaRefusal("requestsPerMonth", usage.requests, requests_quota, seconds_to_next_month(now))
    return None
