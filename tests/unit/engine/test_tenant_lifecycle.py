"""The tenant lifecycle's rules: time's moves, the operator's moves, and the billing event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.tenant_lifecycle import (
    ACTIVE,
    OPERATOR_MOVES,
    PAST_DUE,
    READ_ONLY,
    STATES,
    SUSPENDED,
    TRIAL,
    TransitionError,
    effective_state,
    operator_move,
    settle,
    state_changed_event,
    stored_state,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def trial(days: float = 14, **extra: object) -> dict[str, object]:
    return {"id": "acme", "state": TRIAL, "trialEndsAt": (T0 + timedelta(days=days)).isoformat(), **extra}


def test_old_documents_read_as_active_or_suspended() -> None:
    assert stored_state({"id": "a"}) == ACTIVE
    assert stored_state({"id": "a", "suspended": True}) == SUSPENDED


def test_a_trial_without_payment_goes_past_due_then_read_only_at_the_grace_end() -> None:
    tenant = trial(14, graceDays=3)
    assert effective_state(tenant, None, T0 + timedelta(days=13)) == TRIAL
    assert effective_state(tenant, None, T0 + timedelta(days=15)) == PAST_DUE
    settled, moves = settle(tenant, None, T0 + timedelta(days=30))
    assert [(m.previous, m.state) for m in moves] == [(TRIAL, PAST_DUE), (PAST_DUE, READ_ONLY)]
    assert moves[1].at == T0 + timedelta(days=17), "read-only from the grace's end, not from when noticed"
    assert settled["state"] == READ_ONLY


def test_a_trial_with_payment_or_on_a_free_plan_becomes_active() -> None:
    later = T0 + timedelta(days=20)
    assert effective_state(trial(paymentOnFile=True), None, later) == ACTIVE
    assert effective_state(trial(), {"afterTrial": "active"}, later) == ACTIVE
    assert effective_state(trial(), {"graceDays": 30}, later) == PAST_DUE


def test_the_operator_suspends_and_reinstates() -> None:
    suspended, [move] = operator_move({"id": "acme"}, None, SUSPENDED, T0, reason="abuse")
    assert suspended["suspended"] is True and move.by == "operator" and move.reason == "abuse"
    back, _ = operator_move(suspended, None, ACTIVE, T0)
    assert back["suspended"] is False and back["state"] == ACTIVE


def test_refused_moves() -> None:
    with pytest.raises(TransitionError):
        operator_move({"id": "a", "state": SUSPENDED}, None, PAST_DUE, T0)
    with pytest.raises(TransitionError):
        operator_move({"id": "a"}, None, ACTIVE, T0)
    with pytest.raises(TransitionError):
        operator_move({"id": "a"}, None, TRIAL, T0, trial_ends_at=T0 - timedelta(days=1))
    with pytest.raises(TransitionError):
        operator_move({"id": "a"}, None, "gone", T0)


def test_past_due_gets_a_grace_from_now() -> None:
    moved, _ = operator_move({"id": "a"}, None, PAST_DUE, T0, grace_days_override=2)
    assert effective_state(moved, None, T0 + timedelta(days=1)) == PAST_DUE
    assert effective_state(moved, None, T0 + timedelta(days=2)) == READ_ONLY


def test_the_event_id_is_stable_for_the_same_move() -> None:
    _, first = settle(trial(), None, T0 + timedelta(days=20))
    _, again = settle(trial(), None, T0 + timedelta(days=40))
    assert state_changed_event(first[0])["id"] == state_changed_event(again[0])["id"]
    assert state_changed_event(first[0])["data"]["state"] == PAST_DUE


@given(
    start=st.sampled_from(STATES),
    steps=st.lists(st.tuples(st.sampled_from(STATES), st.floats(0, 40)), max_size=8),
)
def test_every_allowed_sequence_keeps_suspended_in_step_with_the_state(
    start: str, steps: list[tuple[str, float]]
) -> None:
    tenant: dict[str, object] = {"id": "a", "state": start, "suspended": start == SUSPENDED}
    if start == TRIAL:
        tenant["trialEndsAt"] = (T0 + timedelta(days=1)).isoformat()
    now = T0
    for target, days in steps:
        now += timedelta(days=days)
        before = stored_state(settle(tenant, None, now)[0])
        try:
            tenant, moves = operator_move(tenant, None, target, now, trial_ends_at=now + timedelta(days=1))
        except TransitionError:
            assert target not in OPERATOR_MOVES[before]
            continue
        assert moves[-1].previous == before and moves[-1].state == target
        assert tenant["suspended"] is (target == SUSPENDED)
        assert effective_state(tenant, None, now) == target
