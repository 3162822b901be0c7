"""What-if (`engine/economy_whatif.py`): replaying recorded commands under the economy that
recorded them gives back exactly what was recorded; a price change moves sinks, purchases and
supply the way it must; refusals are counted and change nothing."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from actors.stores.base import JournalRecord
from engine.definitions import parse_economy
from engine.economy_whatif import WhatIf, replay, window_days
from tests.support.histories import history

SINCE, UNTIL = "2026-03-01T00:00:00.000Z", "2026-03-08T00:00:00.000Z"


def _economy(document: dict[str, Any], potion_price: int | None = None) -> Any:
    changed = copy.deepcopy(document)
    if potion_price is not None:
        changed["skus"][0]["price"] = {"coins": potion_price}
    return parse_economy(changed)


def _sides_equal(result: dict[str, Any]) -> bool:
    rows_equal = all(row["before"] == row["after"] for row in result["currencies"])
    balances_equal = all(row["before"] == row["after"] for row in result["balances"])
    bought_equal = all(row["before"] == row["after"] for row in result["purchases"] + result["items"])
    return rows_equal and balances_equal and bought_equal and result["levels"]["before"] == result["levels"]["after"]


@given(seed=st.integers(0, 10_000), players=st.integers(1, 12), days=st.integers(1, 6), cut=st.integers(0, 5))
def test_the_unchanged_economy_reproduces_the_recorded_outcomes(
    demo_economy_document: dict[str, Any], seed: int, players: int, days: int, cut: int
) -> None:
    economy = _economy(demo_economy_document)
    records = list(history(economy, players=players, commands=players * 30, days=days, seed=seed))
    since = f"2026-03-0{1 + min(cut, days)}T00:00:00.000Z"  # the window may start mid-history
    result = replay(economy, since, UNTIL, records)
    assert result["refused"] == [] and result["refusedCommands"] == 0 and result["skipped"] == 0
    assert _sides_equal(result)
    assert result["commands"] == sum(1 for _, record in records if record.occurred_at >= since)


def test_a_price_rise_moves_sinks_purchases_and_supply(demo_economy_document: dict[str, Any]) -> None:
    records = list(history(_economy(demo_economy_document), players=40, commands=4_000, seed=7))
    result = replay(_economy(demo_economy_document, potion_price=400), SINCE, UNTIL, records)
    [potions] = [row for row in result["purchases"] if row["sku"] == "potion-pack"]
    assert potions["after"]["receipts"] < potions["before"]["receipts"]
    refused = [group for group in result["refused"] if group["target"] == "potion-pack"]
    assert refused and refused[0]["reason"] == "insufficient-funds" and refused[0]["op"] == "purchase"
    last = [row for row in result["currencies"] if row["currency"] == "coins"][-1]
    assert last["day"] == "2026-03-07"
    # Fewer potions sold, but each costs 4x: the coins' supply at the end differs from history.
    assert last["after"]["supply"] != last["before"]["supply"]
    coins_before = next(row for row in result["balances"] if row["currency"] == "coins")["before"]
    assert coins_before["supply"] == last["before"]["supply"]  # opening + net flows = closing balances


def test_a_cheaper_price_sells_at_least_as_many(demo_economy_document: dict[str, Any]) -> None:
    records = list(history(_economy(demo_economy_document), players=30, commands=3_000, seed=3))
    result = replay(_economy(demo_economy_document, potion_price=50), SINCE, UNTIL, records)
    [potions] = [row for row in result["purchases"] if row["sku"] == "potion-pack"]
    assert potions["after"]["receipts"] == potions["before"]["receipts"]
    sinks = sum(row["after"]["sinks"]["purchases"].get("potion-pack", 0) for row in result["currencies"])
    was = sum(row["before"]["sinks"]["purchases"].get("potion-pack", 0) for row in result["currencies"])
    assert sinks * 2 == was


def test_a_removed_sku_is_refused_by_name(demo_economy_document: dict[str, Any]) -> None:
    records = list(history(_economy(demo_economy_document), players=10, commands=1_000, seed=5))
    document = copy.deepcopy(demo_economy_document)
    document["skus"] = [sku for sku in document["skus"] if sku["sku"] != "starter-bundle"]
    result = replay(parse_economy(document), SINCE, UNTIL, records)
    [group] = [g for g in result["refused"] if g["target"] == "starter-bundle"]
    assert group["reason"] == "unknown-sku" and 1 <= len(group["examples"]) <= 3
    assert group["examples"][0]["playerId"].startswith("p")
    [bundle] = [row for row in result["purchases"] if row["sku"] == "starter-bundle"]
    assert bundle["after"] == {"receipts": 0, "units": 0} and bundle["before"]["receipts"] == group["count"]


def test_a_record_without_its_command_is_skipped_not_guessed(demo_economy_document: dict[str, Any]) -> None:
    economy = _economy(demo_economy_document)
    records = list(history(economy, players=1, commands=20, seed=2))
    old = records[3][1]
    stripped = JournalRecord(old.entity, old.seq, old.events, old.occurred_at, old.recorded_at_ms, format_version=1)
    records[3] = (records[3][0], stripped)
    fold = WhatIf(economy, SINCE, UNTIL)
    for player_id, record in records:
        fold.add(record, player_id)
    assert fold.result()["skipped"] == 1


def test_the_window_lists_every_day_it_touches() -> None:
    assert window_days("2026-03-01", "2026-03-03T00:00:00.000Z") == ["2026-03-01", "2026-03-02"]
    assert window_days("2026-03-01", "2026-03-01T00:00:01.000Z") == ["2026-03-01"]
