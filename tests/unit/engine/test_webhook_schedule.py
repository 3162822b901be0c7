"""The fair schedule of webhook deliveries: tenants take turns, receivers have a bound."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.webhook_schedule import DueDelivery, TurnOrder, plan

TENANTS = ("a", "b", "c", "d")


def due(tenant: str, receiver: str, n: int) -> DueDelivery:
    return DueDelivery(f"{receiver}:{n:05d}", tenant, receiver, f"2026-01-01T00:00:{n % 60:02d}Z")


deliveries = st.lists(
    st.builds(due, st.sampled_from(TENANTS), st.sampled_from(("r1", "r2")), st.integers(0, 10_000)),
    max_size=60,
    unique_by=lambda d: d.id,
).map(lambda found: [DueDelivery(d.id, d.tenant, f"{d.tenant}-{d.receiver}", d.due_at) for d in found])


@given(eligible_sets=st.lists(st.sets(st.sampled_from(TENANTS)), max_size=200))
def test_a_tenant_with_startable_work_waits_for_at_most_one_pick_of_each_other(
    eligible_sets: list[set[str]],
) -> None:
    turns = TurnOrder()
    waited: Counter[str] = Counter()
    for eligible in eligible_sets:
        chosen = turns.choose(eligible)
        assert (chosen is None) == (not eligible)
        assert chosen is None or chosen in eligible
        for tenant in TENANTS:
            if tenant == chosen or tenant not in eligible:
                waited[tenant] = 0  # served, or nothing to wait for
            else:
                waited[tenant] += 1
                assert waited[tenant] <= len(TENANTS) - 1, f"{tenant} waited {waited[tenant]} picks"


@settings(max_examples=150)
@given(
    ready=deliveries,
    per_receiver=st.integers(1, 4),
    steps=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3)), min_size=1, max_size=40),
)
def test_picks_one_at_a_time_keep_the_wait_bound_and_the_receiver_bound(
    ready: list[DueDelivery], per_receiver: int, steps: list[tuple[int, int]]
) -> None:
    """The worker's loop in miniature: deliveries start one pick at a time, some finish."""
    turns = TurnOrder()
    waiting = list(ready)
    running: list[DueDelivery] = []
    waited: Counter[str] = Counter()
    for picks, finishing in steps:
        for _ in range(picks):
            busy = Counter(d.receiver for d in running)
            startable = {d.tenant for d in waiting if busy[d.receiver] < per_receiver}
            started = plan(waiting, busy, slots=1, per_receiver=per_receiver, turns=turns)
            assert len(started) == (1 if startable else 0), "a pick is made whenever one can be"
            chosen = started[0].tenant if started else None
            for tenant in TENANTS:
                waited[tenant] = 0 if tenant == chosen or tenant not in startable else waited[tenant] + 1
                assert waited[tenant] <= len(TENANTS) - 1
            for delivery in started:
                waiting.remove(delivery)
                running.append(delivery)
            assert max(Counter(d.receiver for d in running).values(), default=0) <= per_receiver
        del running[:finishing]


@given(
    ready=deliveries,
    busy_a=st.integers(0, 6),
    per_tenant=st.integers(1, 8),
    slots=st.integers(0, 70),
)
def test_no_tenant_takes_more_than_its_bound_and_the_others_still_get_slots(
    ready: list[DueDelivery], busy_a: int, per_tenant: int, slots: int
) -> None:
    tenant_busy = {"a": busy_a}
    started = plan(
        ready, {}, slots=slots, per_receiver=100, turns=TurnOrder(), tenant_busy=tenant_busy, per_tenant=per_tenant
    )
    per = Counter(d.tenant for d in started)
    waiting = Counter(d.tenant for d in ready)
    for tenant in TENANTS:
        assert per[tenant] + tenant_busy.get(tenant, 0) <= max(per_tenant, tenant_busy.get(tenant, 0))
    room = sum(min(n, max(0, per_tenant - tenant_busy.get(t, 0))) for t, n in waiting.items())
    assert len(started) == min(slots, room)


@given(ready=deliveries, busy_r1=st.integers(0, 3), per_receiver=st.integers(1, 4), slots=st.integers(0, 70))
def test_a_plan_fills_the_slots_it_can_and_keeps_each_receivers_due_order(
    ready: list[DueDelivery], busy_r1: int, per_receiver: int, slots: int
) -> None:
    busy = {"a-r1": busy_r1}
    started = plan(ready, busy, slots=slots, per_receiver=per_receiver, turns=TurnOrder())
    assert len({d.id for d in started}) == len(started) and set(started) <= set(ready)
    per = Counter(d.receiver for d in started)
    for receiver, count in per.items():
        assert count + busy.get(receiver, 0) <= per_receiver
    room = sum(min(n, max(0, per_receiver - busy.get(r, 0))) for r, n in Counter(d.receiver for d in ready).items())
    assert len(started) == min(slots, room), "stops only when out of slots or of startable work"
    for receiver in per:
        mine = sorted((d for d in ready if d.receiver == receiver), key=lambda d: (d.due_at, d.id))
        assert [d for d in started if d.receiver == receiver] == mine[: per[receiver]]


def test_a_tenant_with_ten_thousand_due_deliveries_does_not_hold_back_a_fresh_one() -> None:
    flood = [due("a", "a-hook", n) for n in range(10_000)]
    fresh = DueDelivery("b-hook:1", "b", "b-hook", "2026-01-02T00:00:00Z")  # due after all of a's
    started = plan([*flood, fresh], {}, slots=64, per_receiver=8, turns=TurnOrder())
    assert fresh in started[:2]
    assert len(started) == 9, "a's receiver gets its bound, b its one delivery"
    assert plan(flood, {"a-hook": 8}, slots=64, per_receiver=8, turns=TurnOrder()) == []


def test_a_tenant_with_many_hanging_receivers_leaves_slots_for_the_others() -> None:
    flood = [due("a", f"a-hook{n % 40}", n) for n in range(4_000)]
    started = plan(flood, {}, slots=64, per_receiver=8, turns=TurnOrder(), tenant_busy={}, per_tenant=16)
    assert len(started) == 16
    fresh = DueDelivery("b-hook:1", "b", "b-hook", "2026-01-02T00:00:00Z")
    later = plan(
        [*flood, fresh],
        Counter(d.receiver for d in started),
        slots=48,
        per_receiver=8,
        turns=TurnOrder(),
        tenant_busy={"a": 16},
        per_tenant=16,
    )
    assert later == [fresh]


def test_turns_carry_over_between_plans() -> None:
    turns = TurnOrder()
    work = [due(t, f"{t}-hook", n) for t in ("a", "b", "c") for n in range(5)]
    order = [plan(work, {}, slots=1, per_receiver=10, turns=turns)[0].tenant for _ in range(6)]
    assert order == ["a", "b", "c", "a", "b", "c"]
    turns.forget(["c"])
    assert turns.choose({"a", "c"}) == "c", "a forgotten tenant rejoins behind the kept ones"
