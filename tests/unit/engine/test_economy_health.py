"""Economy health folds: the balance histogram agrees with the players' balances, folding twice
changes nothing, and flows are classified by the engine's reasons."""

from __future__ import annotations

import math
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from engine.economy_health import (
    MAX_BUCKETS,
    MAX_KEYS,
    OTHER,
    SUB_BUCKETS,
    DayFlows,
    Holdings,
    Movement,
    fold_day,
    fold_holdings,
    movement_of,
)


def credited(position: int, amount: int, after: int, reason: str = "", day: str = "2026-03-01") -> Movement:
    data = {"currency": "coins", "amount": amount, "balanceAfter": after, "reason": reason}
    movement = movement_of(position, "wallet.credited", data, f"{day}T10:00:00.000Z")
    assert movement is not None
    return movement


def debited(position: int, amount: int, after: int, reason: str = "", day: str = "2026-03-01") -> Movement:
    data = {"currency": "coins", "amount": amount, "balanceAfter": after, "reason": reason}
    movement = movement_of(position, "wallet.debited", data, f"{day}T10:00:00.000Z")
    assert movement is not None
    return movement


@st.composite
def histories(draw: Any) -> tuple[list[Movement], dict[str, int]]:
    """Random credits and debits of a few players over a few days, in feed order, with the
    balances they leave (a debit never takes a balance below zero, as the engine guarantees)."""
    players = [f"p{n}" for n in range(draw(st.integers(1, 12)))]
    balances = dict.fromkeys(players, 0)
    movements: list[Movement] = []
    for position in range(1, draw(st.integers(0, 60)) + 1):
        player = draw(st.sampled_from(players))
        drawn = f"2026-03-0{draw(st.integers(1, 3))}"
        day = max(drawn, movements[-1].day) if movements else drawn  # the feed moves forward in time
        if draw(st.booleans()) or balances[player] == 0:
            amount = draw(st.integers(1, 1000))
            balances[player] += amount
            movements.append(credited(position, amount, balances[player], day=day))
        else:
            amount = draw(st.integers(1, balances[player]))
            balances[player] -= amount
            movements.append(debited(position, amount, balances[player], day=day))
    return movements, balances


@given(histories())
def test_the_histogram_gives_the_supply_holders_and_top_share_of_the_balances(
    history: tuple[list[Movement], dict[str, int]],
) -> None:
    movements, balances = history
    holdings = Holdings()
    fold_holdings(holdings, movements)
    positive = sorted((b for b in balances.values() if b > 0), reverse=True)
    figures = holdings.figures()
    assert figures.supply == sum(positive)
    assert figures.holders == len(positive)
    exact = sum(positive[: math.ceil(len(positive) / 100)])
    assert abs(figures.top1_percent - exact) <= exact / SUB_BUCKETS, "a partly taken bucket counts at its mean"


def test_the_holdings_document_is_bounded_whatever_the_number_of_distinct_balances() -> None:
    """Issue 25, finding 7: one entry per distinct balance reached MongoDB's 16 MB at ~480k."""
    holdings = Holdings()
    balances = [1 + n * 7919 for n in range(100_000)] + [2**40 + n * 104_729 for n in range(1_000)]
    fold_holdings(holdings, [credited(n + 1, b, b) for n, b in enumerate(balances)])
    document = holdings.to_document()
    assert len(document["counts"]) <= MAX_BUCKETS
    assert len(orjson.dumps(document)) < 256 * 1024
    figures = Holdings.from_document(document).figures()
    assert (figures.supply, figures.holders) == (sum(balances), len(balances))


def test_a_document_of_exact_balances_reads_into_buckets() -> None:
    old = {"counts": [[5, 2], [1000, 1], [1001, 3]], "through": 9}
    holdings = Holdings.from_document(old)
    assert holdings.through == 9
    assert (holdings.figures().supply, holdings.figures().holders) == (10 + 1000 + 3003, 6)


@given(histories(), st.integers(0, 60))
def test_folding_a_prefix_again_changes_nothing(history: tuple[list[Movement], dict[str, int]], cut: int) -> None:
    movements, _ = history
    once = Holdings()
    fold_holdings(once, movements)
    twice = Holdings()
    fold_holdings(twice, movements[:cut])
    fold_holdings(twice, movements)  # a retry after a crash re-reads from an older cursor
    assert Holdings.from_document(twice.to_document()) == Holdings.from_document(once.to_document())
    flows_once = fold_day(None, "2026-03-01", "coins", movements, None)
    flows_twice = fold_day(fold_day(None, "2026-03-01", "coins", movements[:cut], None), "", "", movements, None)
    assert flows_twice.sources == flows_once.sources and flows_twice.sinks == flows_once.sinks


@given(histories())
def test_a_day_s_net_is_what_its_movements_added_to_the_balances(
    history: tuple[list[Movement], dict[str, int]],
) -> None:
    movements, balances = history
    flows = fold_day(None, "any", "coins", movements, None)
    assert flows.row()["net"] == sum(balances.values())


def test_reasons_classify_sources_and_sinks() -> None:
    movements = [
        credited(1, 500, 500, "purchase:starter-bundle"),
        credited(2, 50, 550, "quest:daily-battles"),
        credited(3, 10, 560, "achievement:first-win"),
        credited(4, 7, 567, "daily-login"),
        credited(5, 3, 570),
        debited(6, 100, 470, "purchase:potion-pack"),
        debited(7, 20, 450, "quest:odd-debit"),  # a debit is never a reward: its reason is kept
    ]
    row = fold_day(None, "2026-03-01", "coins", movements, None).row()
    assert row["sources"] == {
        "credits": {"daily-login": 7, "(none)": 3},
        "purchases": {"starter-bundle": 500},
        "quests": {"daily-battles": 50},
        "achievements": {"first-win": 10},
        "total": 570,
    }
    assert row["sinks"] == {"debits": {"quest:odd-debit": 20}, "purchases": {"potion-pack": 100}, "total": 120}
    assert row["net"] == 450


def test_free_text_reasons_past_the_cap_add_up_under_other() -> None:
    movements = [credited(n, 1, n, f"reason-{n}") for n in range(1, MAX_KEYS + 11)]
    row = fold_day(None, "2026-03-01", "coins", movements, None).row()
    assert len(row["sources"]["credits"]) == MAX_KEYS + 1
    assert row["sources"]["credits"][OTHER] == 10
    assert row["sources"]["total"] == MAX_KEYS + 10


def test_each_day_gets_the_figures_after_its_last_movement() -> None:
    movements = [
        credited(1, 100, 100, day="2026-03-01"),
        credited(2, 50, 50, day="2026-03-01"),
        debited(3, 100, 0, day="2026-03-02"),
    ]
    figures = fold_holdings(Holdings(), movements)
    assert (figures["2026-03-01"].supply, figures["2026-03-01"].holders) == (150, 2)
    assert figures["2026-03-01"].top1_percent_share == round(100 / 150, 6)
    assert (figures["2026-03-02"].supply, figures["2026-03-02"].holders) == (50, 1)


def test_documents_round_trip() -> None:
    flows = fold_day(None, "2026-03-01", "coins", [credited(1, 5, 5, "x")], fold_holdings(Holdings(), []).get("x"))
    assert DayFlows.from_document(flows.to_document()) == flows
    assert movement_of(1, "item.granted", {}, "2026-03-01T00:00:00Z") is None
