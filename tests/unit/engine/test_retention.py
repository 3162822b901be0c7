"""Per-tenant retention: the tenant's setting, else its plan's, else the platform's, each field
held within the platform's floor and ceiling; settings outside them are refused when made."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.retention import (
    IDEMPOTENCY_FLOOR_DAYS,
    Retention,
    RetentionBounds,
    RetentionOutOfBoundsError,
    check_retention,
    effective_retention,
)

PLATFORM = Retention(events_days=None, deliveries_days=30.0, idempotency_days=7.0)
LOOSE = RetentionBounds()


def test_the_tenant_wins_over_its_plan_which_wins_over_the_platform() -> None:
    assert effective_retention(PLATFORM, LOOSE) == PLATFORM
    plan = {"eventsDays": 90, "deliveriesDays": 14}
    assert effective_retention(PLATFORM, LOOSE, plan) == Retention(90.0, 14.0, 7.0)
    own = {"eventsDays": 30, "deliveriesDays": None}
    assert effective_retention(PLATFORM, LOOSE, plan, own) == Retention(30.0, 14.0, 7.0)


def test_bounds_clamp_what_was_set_before_they_changed() -> None:
    bounds = RetentionBounds(floor_days=10, ceiling_days=365)
    assert effective_retention(PLATFORM, bounds, None, {"eventsDays": 2, "deliveriesDays": 900}) == Retention(
        10.0, 365.0, 7.0
    ), "keyed answers: no longer than the hosts look them up (the platform's 7 days), whatever the floor"
    assert effective_retention(PLATFORM, bounds).events_days == 365.0, "keeping everything meets the ceiling"


def test_settings_outside_the_bounds_are_refused_with_each_field_named() -> None:
    bounds = RetentionBounds(floor_days=3, ceiling_days=400)
    check_retention({"eventsDays": 3, "deliveriesDays": 400, "idempotencyDays": 7}, PLATFORM, bounds)
    with pytest.raises(RetentionOutOfBoundsError) as refused:
        check_retention({"eventsDays": 1, "deliveriesDays": 500, "idempotencyDays": 6}, PLATFORM, bounds)
    fields = [field for field, _ in refused.value.problems]
    assert fields == ["retention.eventsDays", "retention.deliveriesDays", "retention.idempotencyDays"]
    assert refused.value.slug == "validation-error" and "at least 3 days" in refused.value.detail
    with pytest.raises(RetentionOutOfBoundsError, match="at most 7 days"):  # keys: never longer than the hosts look
        check_retention({"idempotencyDays": 8}, PLATFORM, LOOSE)


days = st.none() | st.floats(min_value=0.01, max_value=50_000, allow_nan=False)
setting = st.fixed_dictionaries({}, optional={"eventsDays": days, "deliveriesDays": days, "idempotencyDays": days})


@given(
    plan=st.none() | setting,
    own=st.none() | setting,
    floor=st.none() | st.floats(min_value=0.5, max_value=100),
    span=st.none() | st.floats(min_value=0, max_value=10_000),
)
def test_whatever_is_set_what_applies_stays_within_the_bounds(
    plan: dict[str, float | None] | None, own: dict[str, float | None] | None, floor: float | None, span: float | None
) -> None:
    ceiling = None if span is None else (floor or 0) + IDEMPOTENCY_FLOOR_DAYS + span
    bounds = RetentionBounds(floor, ceiling)
    applied = effective_retention(PLATFORM, bounds, plan, own)
    for value in (applied.events_days, applied.deliveries_days):
        if value is None:
            assert ceiling is None
            continue
        assert floor is None or value >= floor
        assert ceiling is None or value <= ceiling
    assert IDEMPOTENCY_FLOOR_DAYS <= applied.idempotency_days <= PLATFORM.idempotency_days
