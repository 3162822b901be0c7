"""The monthly quota rule: months are UTC, a refusal says which quota, how far and until when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from engine.quotas import QuotaRefusal, Usage, month_of, quota_refusal, seconds_to_next_month

MARCH_END = datetime(2026, 3, 31, 23, 0, tzinfo=UTC)
PLAN = {"eventsPerMonth": 5, "requestsPerMonth": 8}


def test_months_are_utc_and_quotas_reset_at_the_next_one() -> None:
    assert month_of(datetime(2026, 12, 31, 23, 59, tzinfo=UTC)) == "2026-12"
    assert month_of(datetime(2027, 1, 1, 0, 30, tzinfo=UTC).astimezone(UTC)) == "2027-01"
    assert seconds_to_next_month(datetime(2026, 12, 31, 23, 59, 30, tzinfo=UTC)) == 30
    assert seconds_to_next_month(datetime(2026, 2, 28, 0, 0, tzinfo=UTC)) == 24 * 3600


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)))
def test_the_retry_time_lands_in_the_next_month(moment: datetime) -> None:
    wait = seconds_to_next_month(moment)
    assert wait >= 1
    assert month_of(moment + timedelta(seconds=wait)) != month_of(moment)
    assert wait == 1 or month_of(moment + timedelta(seconds=wait - 1)) == month_of(moment)


def test_a_tenant_without_a_plan_or_with_unlimited_quotas_is_never_refused() -> None:
    huge = Usage("t", "2026-03", requests=10**12, events=10**12)
    assert quota_refusal(None, huge, MARCH_END) is None
    assert quota_refusal({"eventsPerMonth": None, "requestsPerMonth": None}, huge, MARCH_END) is None


def test_calls_up_to_the_requests_quota_pass_and_the_next_is_refused() -> None:
    assert quota_refusal(PLAN, Usage("t", "2026-03", requests=8), MARCH_END) is None
    refusal = quota_refusal(PLAN, Usage("t", "2026-03", requests=9), MARCH_END)
    assert refusal == QuotaRefusal("requestsPerMonth", 9, 8, 3600)
    assert "8 requests per month" in refusal.detail


def test_once_the_events_quota_is_reached_every_call_is_refused_until_next_month() -> None:
    assert quota_refusal(PLAN, Usage("t", "2026-03", requests=1, events=4), MARCH_END) is None
    refusal = quota_refusal(PLAN, Usage("t", "2026-03", requests=1, events=5), MARCH_END)
    assert refusal == QuotaRefusal("eventsPerMonth", 5, 5, 3600)
    assert "5 events per month" in refusal.detail


def test_the_events_quota_is_named_first_when_both_are_used_up() -> None:
    refusal = quota_refusal(PLAN, Usage("t", "2026-03", requests=9, events=5), MARCH_END)
    assert refusal is not None and refusal.quota == "eventsPerMonth"
