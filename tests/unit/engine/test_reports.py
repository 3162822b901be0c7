from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.reports import (
    REPORT_NAMES,
    JournalEntry,
    active_players,
    currency_flow,
    events_per_day,
    fold,
    new_report,
    purchases,
)


def ev(kind: str, **data: Any) -> dict[str, Any]:
    return {"type": kind, "data": data}


def credited(currency: str, amount: int, after: int) -> dict[str, Any]:
    return ev("wallet.credited", currency=currency, amount=amount, balanceAfter=after)


def debited(currency: str, amount: int, after: int) -> dict[str, Any]:
    return ev("wallet.debited", currency=currency, amount=amount, balanceAfter=after)


def bought(sku: str, quantity: int, price: dict[str, int]) -> dict[str, Any]:
    return ev("store.purchase.succeeded", purchaseId="pur_1_x", sku=sku, quantity=quantity, price=price, grants={})


D1, D2 = "2026-03-01T10:00:00.000Z", "2026-03-02T23:59:59.999Z"
JOURNAL: list[JournalEntry] = [
    ("ada", D1, [ev("player.created", username="ada"), credited("coins", 500, 500)]),
    (
        "ada",
        D1,
        [
            debited("coins", 200, 300),
            ev("item.granted", itemId="potion", quantity=10),
            bought("potion-pack", 2, {"coins": 200}),
        ],
    ),  # fmt: skip
    ("ada", D2, [credited("gems", 10, 10)]),
    ("bob", D2, [ev("player.created", username="bob"), credited("coins", 100, 100)]),
    ("bob", D2, [debited("coins", 100, 0), bought("potion-pack", 1, {"coins": 100})]),
]


def test_events_per_day_counts_each_type_per_utc_day_in_order() -> None:
    assert events_per_day(JOURNAL) == [
        {"day": "2026-03-01", "type": "item.granted", "count": 1},
        {"day": "2026-03-01", "type": "player.created", "count": 1},
        {"day": "2026-03-01", "type": "store.purchase.succeeded", "count": 1},
        {"day": "2026-03-01", "type": "wallet.credited", "count": 1},
        {"day": "2026-03-01", "type": "wallet.debited", "count": 1},
        {"day": "2026-03-02", "type": "player.created", "count": 1},
        {"day": "2026-03-02", "type": "store.purchase.succeeded", "count": 1},
        {"day": "2026-03-02", "type": "wallet.credited", "count": 2},
        {"day": "2026-03-02", "type": "wallet.debited", "count": 1},
    ]
    assert fold("events-per-day", JOURNAL).totals() == {"events": 10}


def test_active_players_counts_distinct_players_per_day_and_over_the_window() -> None:
    assert active_players(JOURNAL) == [{"day": "2026-03-01", "players": 1}, {"day": "2026-03-02", "players": 2}]
    assert fold("active-players", JOURNAL).totals() == {"players": 2}


def test_active_players_ignores_records_without_events() -> None:
    report = fold("active-players", [("ada", D1, []), ("bob", D1, [ev("player.created")])])
    assert report.rows() == [{"day": "2026-03-01", "players": 1}]
    assert report.totals() == {"players": 1}


def test_purchases_sum_count_quantity_and_revenue_per_day_and_sku() -> None:
    cy = ("cy", D2, [bought("starter-bundle", 1, {"gems": 10}), bought("potion-pack", 3, {"coins": 300, "gems": 1})])
    journal = [*JOURNAL, cy]
    assert purchases(journal) == [
        {"day": "2026-03-01", "sku": "potion-pack", "count": 1, "quantity": 2, "revenue": {"coins": 200}},
        {"day": "2026-03-02", "sku": "potion-pack", "count": 2, "quantity": 4, "revenue": {"coins": 400, "gems": 1}},
        {"day": "2026-03-02", "sku": "starter-bundle", "count": 1, "quantity": 1, "revenue": {"gems": 10}},
    ]
    assert fold("purchases", journal).totals() == {"count": 4, "quantity": 7, "revenue": {"coins": 600, "gems": 11}}


def test_currency_flow_reports_earned_spent_and_net_per_day_and_currency() -> None:
    assert currency_flow(JOURNAL) == [
        {"day": "2026-03-01", "currency": "coins", "earned": 500, "spent": 200, "net": 300},
        {"day": "2026-03-02", "currency": "coins", "earned": 100, "spent": 100, "net": 0},
        {"day": "2026-03-02", "currency": "gems", "earned": 10, "spent": 0, "net": 10},
    ]
    assert fold("currency-flow", JOURNAL).totals() == {
        "currencies": {
            "coins": {"earned": 600, "spent": 300, "net": 300},
            "gems": {"earned": 10, "spent": 0, "net": 10},
        }
    }


def test_an_empty_journal_gives_empty_reports() -> None:
    for name in REPORT_NAMES:
        assert fold(name, []).rows() == []
    assert fold("active-players", []).totals() == {"players": 0}


def test_an_unknown_report_name_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        new_report("revenue-forecast")


def test_folding_page_by_page_equals_folding_at_once() -> None:
    for name in REPORT_NAMES:
        paged = new_report(name)
        for page in (JOURNAL[:2], JOURNAL[2:3], JOURNAL[3:]):
            for record in page:
                paged.add(*record)
        whole = fold(name, JOURNAL)
        assert (paged.rows(), paged.totals()) == (whole.rows(), whole.totals())


DAYS = [f"2026-04-{day:02d}T{hour:02d}:00:00.000Z" for day in (1, 2, 3) for hour in (0, 12, 23)]
Move = tuple[str, str, int, int]  # (currency, "credit" | "debit", amount, day index)


@st.composite
def journals(draw: st.DrawFn) -> tuple[list[JournalEntry], dict[str, dict[str, int]]]:
    """Players with random credits and debits (never below zero), as a journal grouped by
    player, and each player's final balances."""
    players = draw(st.lists(st.text("abcdef", min_size=1, max_size=4), unique=True, max_size=5))
    journal: list[JournalEntry] = []
    finals: dict[str, dict[str, int]] = {}
    for player in players:
        balances: dict[str, int] = {}
        moves = draw(
            st.lists(
                st.tuples(
                    st.sampled_from(["coins", "gems"]),
                    st.sampled_from(["credit", "debit"]),
                    st.integers(1, 1_000),
                    st.integers(0, len(DAYS) - 1),
                ),
                max_size=12,
            )
        )
        for currency, kind, amount, day in sorted(moves, key=lambda m: m[3]):
            balance = balances.get(currency, 0)
            if kind == "debit":
                amount = min(amount, balance)
                if amount == 0:
                    continue
                balances[currency] = balance - amount
                event = debited(currency, amount, balance - amount)
            else:
                balances[currency] = balance + amount
                event = credited(currency, amount, balance + amount)
            journal.append((player, DAYS[day], [event]))
        finals[player] = balances
    return journal, finals


@settings(max_examples=200, deadline=None)
@given(journals())
def test_currency_flow_net_summed_over_days_is_the_sum_of_balance_changes(
    generated: tuple[list[JournalEntry], dict[str, dict[str, int]]],
) -> None:
    journal, finals = generated
    net: dict[str, int] = {}
    for row in currency_flow(journal):
        assert row["net"] == row["earned"] - row["spent"]
        net[row["currency"]] = net.get(row["currency"], 0) + row["net"]
    changes: dict[str, int] = {}
    for balances in finals.values():
        for currency, balance in balances.items():
            changes[currency] = changes.get(currency, 0) + balance
    assert {c: n for c, n in net.items() if n} == {c: n for c, n in changes.items() if n}


@settings(max_examples=200, deadline=None)
@given(journals(), st.randoms(use_true_random=False))
def test_active_players_match_a_set_count_whatever_the_order_within_a_player(
    generated: tuple[list[JournalEntry], dict[str, dict[str, int]]], rng: random.Random
) -> None:
    journal, _ = generated
    by_player: dict[str, list[JournalEntry]] = {}
    for record in journal:
        by_player.setdefault(record[0], []).append(record)
    shuffled = []
    for records in by_player.values():
        rng.shuffle(records)
        shuffled.extend(records)
    expected: dict[str, set[str]] = {}
    for player, occurred_at, _ in journal:
        expected.setdefault(occurred_at[:10], set()).add(player)
    report = fold("active-players", shuffled)
    assert report.rows() == [{"day": day, "players": len(players)} for day, players in sorted(expected.items())]
    assert report.totals() == {"players": len({player for player, _, _ in journal})}
    assert sum(row["count"] for row in events_per_day(shuffled)) == len(journal)
