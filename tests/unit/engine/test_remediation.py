"""Remediation's rules: a clawback never makes a balance negative (the rest is debt), later
credits of the currency pay the debt first, a selection picks what it names and never a
remediation's own records, and a plan undoes exactly the selected records."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import commands as c
from engine import events as e
from engine.definitions import Economy, parse_economy
from engine.remediation import (
    Plan,
    Selection,
    Source,
    clawback_split,
    compensated,
    credit_split,
    idempotency_key,
    plan_for,
    preview,
    selects,
    totals,
)
from engine.rules import Accepted, Context, decide, state_after
from engine.state import PlayerState

ECONOMY: Economy = parse_economy(
    yaml.safe_load((Path(__file__).resolve().parents[3] / "config" / "demo-economy.yaml").read_text("utf-8"))
)
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
CTX = Context(NOW, ECONOMY, "player:acme/demo/p1")


def _run(state: PlayerState, command: c.Command) -> PlayerState:
    decision = decide(state, command, CTX)
    assert isinstance(decision, Accepted), decision
    return state_after(state, decision, state.seq + 1, CTX.occurred_at)


def _player() -> PlayerState:
    return _run(PlayerState("p1"), c.CreatePlayer("p1"))


def test_a_clawback_takes_what_the_balance_has_and_the_rest_is_debt() -> None:
    state = _run(_player(), c.Credit("coins", 30))
    after = _run(state, c.Remediate("rem_1", currencies={"coins": 50}))
    assert (after.balance("coins"), after.debt("coins")) == (0, 20)
    assert after.earned.get("coins", 0) == 0, "the clawed-back credit no longer counts as earned"


def test_a_later_credit_pays_the_debt_first() -> None:
    state = _run(_run(_player(), c.Remediate("rem_1", currencies={"coins": 50})), c.Credit("coins", 30))
    assert (state.balance("coins"), state.debt("coins")) == (0, 20)
    state = _run(state, c.Credit("coins", 25))
    assert (state.balance("coins"), state.debt("coins")) == (5, 0)
    assert "coins" not in state.debts
    assert _run(state, c.Credit("gems", 3)).balance("gems") == 3, "another currency's credit owes nothing"


def test_the_credit_answer_and_events_show_the_repayment() -> None:
    state = _run(_player(), c.Remediate("rem_1", currencies={"coins": 10}))
    decision = decide(state, c.Credit("coins", 15, "match-won"), CTX)
    assert isinstance(decision, Accepted)
    assert [type(event) for event in decision.events] == [e.WalletCredited, e.DebtRepaid]
    assert decision.events[1] == e.DebtRepaid("coins", 10, 5, 0, "match-won")
    assert decision.body is not None and decision.body["balance"] == 5


def test_a_negative_amount_returns_currency_and_items() -> None:
    state = _run(_player(), c.Remediate("rem_1", currencies={"coins": -100}, items={"potion": -2}))
    assert (state.balance("coins"), state.quantity("potion")) == (100, 2)


def test_items_are_taken_up_to_what_is_held_and_achievements_revoked() -> None:
    state = _run(_run(_player(), c.GrantItem("potion", 3)), c.IncrementCounter("wins", 1))
    assert "first-win" in state.achievements
    after = _run(state, c.Remediate("rem_1", items={"potion": 5}, achievements=["first-win", "not-held"]))
    assert after.quantity("potion") == 0 and "first-win" not in after.achievements


def test_remediate_is_not_a_command_any_transport_can_name() -> None:
    assert c.Remediate.op not in c.COMMAND_TYPES


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("credit"), st.integers(1, 500)),
            st.tuples(st.just("debit"), st.integers(1, 500)),
            st.tuples(st.just("clawback"), st.integers(1, 500)),
            st.tuples(st.just("return"), st.integers(1, 500)),
        ),
        max_size=25,
    )
)
def test_a_balance_is_never_negative_and_debt_is_paid_first(steps: list[tuple[str, int]]) -> None:
    """Against a model: balance minus debt is what the player is worth; it moves by exactly
    each step's amount, and balance and debt are never both positive."""
    state, worth = _player(), 0
    for kind, amount in steps:
        command: c.Command = {
            "credit": c.Credit("coins", amount),
            "debit": c.Debit("coins", amount),
            "clawback": c.Remediate("rem", currencies={"coins": amount}),
            "return": c.Remediate("rem", currencies={"coins": -amount}),
        }[kind]
        decision = decide(state, command, CTX)
        if not isinstance(decision, Accepted):
            assert kind == "debit" and state.balance("coins") < amount
            continue
        state = state_after(state, decision, state.seq + 1, CTX.occurred_at)
        worth += {"credit": amount, "debit": -amount, "clawback": -amount, "return": amount}[kind]
        balance, debt = state.balance("coins"), state.debt("coins")
        assert balance >= 0 and debt >= 0
        assert balance == 0 or debt == 0, "a credit pays the debt before the balance grows"
        assert balance - debt == worth


@given(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(1, 10**6))
def test_splits_conserve_the_amount(balance: int, debt: int, amount: int) -> None:
    taken = clawback_split(balance, debt, amount)
    assert taken.balance_after >= 0 and taken.moved + (taken.debt_after - debt) == amount
    paid = credit_split(balance, debt, amount)
    assert paid.debt_after >= 0 and paid.moved + (paid.balance_after - balance) == amount
    assert paid.moved == min(debt, amount)


def _source(seq: int, op: str, events: list[dict[str, object]], **command: object) -> Source:
    return Source(
        "p1", seq, f"2026-03-01T10:0{seq}:00.000Z", f"k-{op}-{seq}", f"req-{seq}", {"op": op, **command}, events
    )


PURCHASE = _source(
    1,
    "purchase",
    [
        e.event_to_dict(e.WalletDebited("coins", 1, 99, "purchase:starter-bundle")),
        e.event_to_dict(e.WalletCredited("gems", 1000, 1000, "purchase:starter-bundle")),
        e.event_to_dict(e.ItemGranted("potion", 5, 5, "purchase:starter-bundle")),
        e.event_to_dict(e.AchievementUnlocked("big-spender")),
    ],
    sku="starter-bundle",
    quantity=1,
)
CREDIT = _source(
    2, "credit", [e.event_to_dict(e.WalletCredited("coins", 10, 109, "daily-login"))], reason="daily-login"
)


def test_a_selection_picks_what_it_names() -> None:
    window = Selection("2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z")
    assert selects(window, PURCHASE) and selects(window, CREDIT)
    assert not selects(Selection("2026-03-01T10:02:00Z", "2026-03-02"), PURCHASE), "before the window"
    assert [selects(Selection(window.since, window.until, sku="starter-bundle"), s) for s in (PURCHASE, CREDIT)] == [
        True,
        False,
    ]
    assert not selects(Selection(window.since, window.until, op="credit"), PURCHASE)
    assert selects(Selection(window.since, window.until, reason="daily-login"), CREDIT)
    assert selects(Selection(window.since, window.until, key_prefix="k-pur"), PURCHASE)
    assert not selects(Selection(window.since, window.until, request_id="req-2"), PURCHASE)
    assert not selects(Selection(window.since, window.until, player_ids=frozenset({"p2"})), PURCHASE)
    own = _source(3, "remediate", [], sources=[1])
    assert not selects(window, own), "a remediation's own records are never selected"
    assert compensated([PURCHASE, own]) == {1}


def test_a_clawback_plan_undoes_a_purchase_and_revoke_its_achievements() -> None:
    plan = plan_for("p1", [PURCHASE], "clawback")
    assert (plan.currencies, plan.items, plan.achievements, plan.sources) == (
        {"coins": -1, "gems": 1000},
        {"potion": 5},
        [],
        [1],
    )
    assert plan_for("p1", [PURCHASE], "revoke").achievements == ["big-spender"]
    assert Plan.from_dict(plan.to_dict()) == plan


def test_preview_entries_and_totals() -> None:
    plan = plan_for("p1", [PURCHASE], "clawback")
    entries = preview(plan, {"gems": 400, "coins": 99}, {}, {"potion": 2})
    assert entries == [
        {"playerId": "p1", "currency": "coins", "amount": -1, "balanceAfter": 100, "debt": 0},
        {"playerId": "p1", "currency": "gems", "amount": 1000, "balanceAfter": 0, "debt": 600},
        {"playerId": "p1", "itemId": "potion", "amount": 5, "balanceAfter": 0, "debt": 3},
    ]
    assert totals(entries)["currencies"]["gems"] == {"amount": 1000, "debt": 600, "players": 1}


def test_the_idempotency_key_depends_on_remediation_player_and_sources() -> None:
    key = idempotency_key("rem_1", "p1", [1, 2])
    assert key == idempotency_key("rem_1", "p1", [1, 2]) and len(key) <= 255
    assert len({key, idempotency_key("rem_2", "p1", [1, 2]), idempotency_key("rem_1", "p2", [1, 2])}) == 3


def test_a_clawback_takes_its_amount_off_a_currency_earned_board() -> None:
    from engine.leaderboards import Leaderboard, record_changes

    board = Leaderboard("coins-earned", "Coins earned", "currency-earned:coins", "incr", "desc", "never")
    events = [e.event_to_dict(e.WalletClawedBack("coins", 500, 200, 0, 300, "remediation:rem_1"))]
    change = record_changes({board.id: board}, "t", "p", "p1", 5, events, "2026-03-01T12:00:00.000Z", {})
    assert change is not None and [o.value for o in change.observations] == [-500]
