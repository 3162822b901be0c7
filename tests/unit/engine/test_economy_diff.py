from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from engine.definitions import economy_to_document, parse_economy
from engine.economy_diff import diff_economies

DEMO = """
currencies: [{id: coins, kind: soft}]
items: [{id: potion, stackLimit: 99}, {id: shield, stackLimit: 1}]
xpCurve: {levels: [0, 100, 250, 450, 700, 1000, 1400, 1900, 2500, 3200]}
skus:
  - {sku: potion-pack, title: Potion pack, price: {coins: 100}, grants: {items: [{itemId: potion, quantity: 5}]}}
counters: [{id: wins, title: Wins}]
achievements: [{id: first-win, title: First win, conditions: [{metric: counter.wins, gte: 1}]}]
quests: [{id: daily, title: Daily, objectives: [{id: battles, target: 3}], rewards: {currencies: {coins: 50}}}]
featureFlags: {doubleXp: false}
"""


@pytest.fixture
def old() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(DEMO)
    return document


def test_identical_documents_have_no_differences(old: dict[str, Any]) -> None:
    assert diff_economies(old, copy.deepcopy(old)) == []


def test_implicit_defaults_are_not_reported_as_changes(old: dict[str, Any]) -> None:
    assert diff_economies(old, economy_to_document(parse_economy(old))) == []
    spelled_out = copy.deepcopy(old)
    spelled_out["skus"][0]["bundle"] = False
    assert diff_economies(old, spelled_out) == []


def test_additions_removals_and_changes_are_listed_per_section(old: dict[str, Any]) -> None:
    new = copy.deepcopy(old)
    new["currencies"].append({"id": "gems", "kind": "hard"})
    new["items"] = [i for i in new["items"] if i["id"] != "shield"]
    new["items"][0]["stackLimit"] = 50
    new["skus"][0]["price"] = {"coins": 120}
    new["counters"][0]["title"] = "Victories"
    new["achievements"][0]["conditions"][0]["gte"] = 2
    new["quests"] = []
    new["featureFlags"] = {"doubleXp": True, "newShop": "beta"}
    new["xpCurve"]["levels"] += [4000, 5000]
    assert diff_economies(old, new) == [
        "+ currency gems (hard)",
        "~ item potion: stackLimit 99 -> 50",
        "- item shield",
        "~ sku potion-pack: price {coins: 100} -> {coins: 120}",
        "~ counter wins: title 'Wins' -> 'Victories'",
        "~ achievement first-win: conditions [{metric: 'counter.wins', gte: 1}] -> [{metric: 'counter.wins', gte: 2}]",
        "- quest daily",
        "~ featureFlag doubleXp: false -> true",
        "+ featureFlag newShop = 'beta'",
        "~ xpCurve: levels changed (10 -> 12 levels)",
    ]


def test_a_first_economy_lists_everything_as_added(old: dict[str, Any]) -> None:
    assert diff_economies(None, old) == [
        "+ currency coins (soft)",
        "+ item potion (stackLimit 99)",
        "+ item shield (stackLimit 1)",
        "+ sku potion-pack (price {coins: 100})",
        "+ counter wins",
        "+ achievement first-win",
        "+ quest daily",
        "+ featureFlag doubleXp = false",
        "+ xpCurve: levels (10 levels)",
    ]


def test_curve_changes_name_the_kind_of_curve(old: dict[str, Any]) -> None:
    same_count = copy.deepcopy(old)
    same_count["xpCurve"]["levels"][1] = 120
    assert diff_economies(old, same_count) == ["~ xpCurve: levels changed (10 levels)"]
    formula = {**old, "xpCurve": {"formula": {"base": 100, "growth": 1.5, "maxLevel": 20}}}
    assert diff_economies(old, formula) == [
        "~ xpCurve: levels (10 levels) -> formula {base: 100, growth: 1.5, maxLevel: 20}"
    ]


def test_sku_changes_list_every_changed_field_on_one_line(old: dict[str, Any]) -> None:
    new = copy.deepcopy(old)
    new["skus"][0].update(title="Big pack", bundle=True)
    assert diff_economies(old, new) == ["~ sku potion-pack: title 'Potion pack' -> 'Big pack'; bundle false -> true"]


def test_invalid_documents_are_compared_as_written(old: dict[str, Any]) -> None:
    broken = {**old, "items": [{"id": "potion", "stackLimit": 0}]}
    assert "~ item potion: stackLimit 99 -> 0" in diff_economies(old, broken)


def test_leaderboard_changes_are_listed(old: dict[str, Any]) -> None:
    old = {**old, "leaderboards": [{"id": "xp-all-time", "metric": "xp"}, {"id": "high-score", "metric": "submitted"}]}
    new = copy.deepcopy(old)
    new["leaderboards"] = [b for b in new["leaderboards"] if b["id"] != "high-score"]
    new["leaderboards"][0]["reset"] = "daily"
    new["leaderboards"].append({"id": "lap", "metric": "submitted", "order": "asc"})
    assert diff_economies(old, new) == [
        "- leaderboard high-score",
        "+ leaderboard lap (submitted, best, asc, reset never)",
        "~ leaderboard xp-all-time: reset 'never' -> 'daily'",
    ]


def test_client_policy_changes_are_listed_and_the_default_written_out_is_none(old: dict[str, Any]) -> None:
    assert diff_economies(old, {**old, "clientPolicy": {"allow": ["consume", "purchase"]}}) == []
    opened = {**old, "clientPolicy": {"allow": ["purchase", "consume", "increment"]}}
    assert diff_economies(old, opened) == [
        "~ clientPolicy: allow [consume, purchase] -> [consume, increment, purchase]"
    ]
    assert diff_economies(opened, {**old, "clientPolicy": {"allow": []}}) == [
        "~ clientPolicy: allow [consume, increment, purchase] -> []"
    ]
    assert economy_to_document(parse_economy(opened))["clientPolicy"] == {"allow": ["consume", "increment", "purchase"]}
    assert "clientPolicy" not in economy_to_document(parse_economy(old))


def test_item_effect_changes_are_listed(old: dict[str, Any]) -> None:
    new = copy.deepcopy(old)
    potion = next(item for item in new["items"] if item["id"] == "potion")
    potion["effects"] = [{"kind": "xp", "amount": 5}]
    assert diff_economies(old, new) == ["~ item potion: effects none -> [{kind: 'xp', amount: 5}]"]
    assert diff_economies(new, old) == ["~ item potion: effects [{kind: 'xp', amount: 5}] -> none"]


def test_guardrail_changes_are_listed_by_id() -> None:
    base: dict[str, Any] = {"currencies": [{"id": "coins", "kind": "soft"}], "xpCurve": {"levels": [0, 100]}}
    cap = {"id": "cap", "currency": "coins", "perPlayer": {"amount": 5, "per": "hour"}, "action": "refuse"}
    guarded = {**base, "guardrails": [cap]}
    raised = {**base, "guardrails": [{**cap, "perPlayer": {"amount": 9, "per": "hour"}}]}
    assert diff_economies(base, guarded) == ["+ guardrail cap (coins, refuse)"]
    assert diff_economies(guarded, raised) == [
        "~ guardrail cap: perPlayer {amount: 5, per: 'hour'} -> {amount: 9, per: 'hour'}"
    ]
    assert diff_economies(raised, base) == ["- guardrail cap"]
