"""The economy verifier: exact arbitrage search, reward loops, unreachable content, sinks."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from config.settings import DEMO_ECONOMY_PATH
from engine import economy_lp
from engine.definitions import DefinitionError, parse_economy
from engine.economy_rates import find_rate_loop
from engine.economy_verify import find_arbitrage, has_errors, mix_net, verify_document, verify_economy

DOCS = Path(__file__).resolve().parents[3] / "docs" / "ECONOMY.md"
CURRENCIES = ("c0", "c1", "c2")


def _economy(skus: list[dict[str, Any]], **sections: Any) -> dict[str, Any]:
    return {
        "currencies": [{"id": c, "kind": "soft"} for c in CURRENCIES],
        "xpCurve": {"levels": [0, 100, 250]},
        "skus": skus,
        **sections,
    }


def _kinds(document: dict[str, Any], severity: str | None = None) -> set[str]:
    return {f.kind for f in verify_document(document) if severity is None or f.severity == severity}


def test_the_demo_economy_verifies_clean() -> None:
    document = yaml.safe_load(Path(DEMO_ECONOMY_PATH).read_text())
    findings = verify_document(document)
    assert not has_errors(findings), [f.to_document() for f in findings]
    assert {f.kind for f in findings} == {"earn-bound"}


def _doc_examples() -> list[tuple[str, dict[str, Any]]]:
    text = DOCS.read_text()
    found = re.findall(r"<!-- fault: ([a-z-]+) -->\n```yaml\n(.*?)```", text, re.S)
    return [(kind, yaml.safe_load(body)) for kind, body in found]


def test_the_docs_show_an_example_of_each_fault() -> None:
    assert {kind for kind, _ in _doc_examples()} == {"arbitrage", "reward-loop", "unreachable", "no-sink"}


@pytest.mark.parametrize(("kind", "document"), _doc_examples())
def test_each_example_in_the_docs_is_found(kind: str, document: dict[str, Any]) -> None:
    assert kind in _kinds(document)


def test_an_arbitrage_spells_out_a_loop_that_really_gains() -> None:
    document = _economy(
        [
            {"sku": "buy", "price": {"c0": 100}, "grants": {"currencies": {"c1": 3}}},
            {"sku": "sell", "price": {"c1": 10}, "grants": {"currencies": {"c0": 500}}},
        ]
    )
    [finding] = [f for f in verify_document(document) if f.kind == "arbitrage"]
    assert finding.severity == "error"
    assert finding.path == "skus[0]"
    assert finding.cycle is not None
    assert finding.cycle[-1] == "net per round: +500 c0"
    mix = find_arbitrage(parse_economy(document))
    assert mix == {"buy": 10, "sell": 3}


def test_a_three_currency_loop_is_found_and_a_losing_one_is_not() -> None:
    loop = [
        {"sku": "a", "price": {"c0": 10}, "grants": {"currencies": {"c1": 10}}},
        {"sku": "b", "price": {"c1": 10}, "grants": {"currencies": {"c2": 10}}},
        {"sku": "c", "price": {"c2": 10}, "grants": {"currencies": {"c0": 11}}},
    ]
    assert "arbitrage" in _kinds(_economy(loop))
    loop[2]["grants"] = {"currencies": {"c0": 10}}  # break-even is no gain
    assert "arbitrage" not in _kinds(_economy(loop))


def test_a_multi_currency_price_needs_both_currencies_back() -> None:
    skus = [
        {"sku": "combo", "price": {"c0": 10, "c1": 1}, "grants": {"currencies": {"c0": 20}}},
        {"sku": "c1-pack", "price": {"c0": 11}, "grants": {"currencies": {"c1": 1}}},
    ]
    assert "arbitrage" not in _kinds(_economy(skus))
    skus[1]["price"] = {"c0": 9}
    assert "arbitrage" in _kinds(_economy(skus))


def test_reward_loops_and_self_feeding_rewards_are_warnings() -> None:
    document = _economy(
        [{"sku": "s", "price": {"c0": 1}}],
        achievements=[
            {"id": "self", "conditions": [{"metric": "earned.c1", "gte": 5}], "rewards": {"currencies": {"c1": 5}}},
            {"id": "plain", "conditions": [{"metric": "xp", "gte": 5}], "rewards": {"currencies": {"c2": 5}}},
        ],
    )
    [finding] = [f for f in verify_document(document) if f.kind == "reward-loop"]
    assert (finding.severity, finding.path) == ("warning", "achievements[0].rewards")


def test_unreachable_content() -> None:
    document = _economy(
        [{"sku": "s", "price": {"c0": 1}, "grants": {"items": [{"itemId": "crown", "quantity": 1}]}}],
        items=[{"id": "crown", "stackLimit": 1}, {"id": "relic", "stackLimit": 5}],
        achievements=[
            {"id": "max", "conditions": [{"metric": "level", "gte": 4}]},
            {
                "id": "greedy",
                "conditions": [{"metric": "xp", "gte": 1}],
                "rewards": {"items": [{"itemId": "crown", "quantity": 3}]},
            },
        ],
    )
    found = {(f.severity, f.path) for f in verify_document(document) if f.kind == "unreachable"}
    assert found == {
        ("warning", "achievements[0].conditions"),
        ("error", "achievements[1].rewards.items"),
        ("info", "items[1]"),
    }


def test_currencies_no_sku_spends_have_no_sink() -> None:
    found = [f for f in verify_document(_economy([{"sku": "s", "price": {"c0": 1}}])) if f.kind == "no-sink"]
    assert [f.path for f in found] == ["currencies[1]", "currencies[2]"]


def test_one_time_rewards_bound_what_a_player_earns() -> None:
    document = _economy(
        [{"sku": "s", "price": {"c1": 1}, "grants": {"currencies": {"c0": 1}}}],
        quests=[{"id": "q", "objectives": [{"id": "o", "target": 1}], "rewards": {"currencies": {"c0": 50}}}],
    )
    [bound] = [f for f in verify_document(document) if f.kind == "earn-bound" and f.path == "currencies[0]"]
    assert "at most 50 in all from rewards (quest:q 50)" in bound.message
    assert "purchases of s" in bound.message


def test_an_invalid_document_raises_its_definition_problems() -> None:
    with pytest.raises(DefinitionError):
        verify_document({"currencies": []})


# --- properties ------------------------------------------------------------------------------

amounts = st.integers(min_value=1, max_value=30)


@st.composite
def stores(draw: st.DrawFn, max_skus: int = 3) -> list[dict[str, Any]]:
    """Small random stores: each SKU costs one or two currencies and grants one or two."""
    skus = []
    for index in range(draw(st.integers(min_value=1, max_value=max_skus))):
        paid = draw(st.lists(st.sampled_from(CURRENCIES), min_size=1, max_size=2, unique=True))
        got = draw(st.lists(st.sampled_from(CURRENCIES), min_size=1, max_size=2, unique=True))
        skus.append(
            {
                "sku": f"s{index}",
                "price": {c: draw(amounts) for c in paid},
                "grants": {"currencies": {c: draw(amounts) for c in got}},
            }
        )
    return skus


@settings(max_examples=150)
@given(stores(), st.permutations(CURRENCIES), amounts, amounts, st.integers(min_value=1, max_value=5))
def test_a_planted_profitable_cycle_is_always_found(
    store: list[dict[str, Any]], order: list[str], rate: int, extra: int, length: int
) -> None:
    """Plant a loop through `length` SKUs over the currencies in `order` that returns more than
    it took; whatever else the store sells, an arbitrage is found and its mix really gains."""
    length = min(length, len(order))
    ring = [order[i % len(order)] for i in range(length)]
    planted: list[dict[str, Any]] = [
        {"sku": f"plant{i}", "price": {ring[i]: rate}, "grants": {"currencies": {ring[(i + 1) % length]: rate}}}
        for i in range(length)
    ]
    planted[-1]["grants"]["currencies"][ring[0]] = rate + extra
    economy = parse_economy(_economy(store + planted))
    assert any(f.kind == "arbitrage" for f in verify_economy(economy))
    mix = find_arbitrage(economy)
    assert mix
    net = mix_net(economy, mix)
    assert all(amount >= 0 for amount in net.values()) and any(amount > 0 for amount in net.values())


def _brute_force_gain(skus: list[dict[str, Any]], most: int) -> tuple[int, ...] | None:
    for counts in itertools.product(range(most + 1), repeat=len(skus)):
        if not any(counts):
            continue
        net = dict.fromkeys(CURRENCIES, 0)
        for sku, count in zip(skus, counts, strict=True):
            for c, a in sku["grants"]["currencies"].items():
                net[c] += a * count
            for c, a in sku["price"].items():
                net[c] -= a * count
        if all(v >= 0 for v in net.values()) and any(v > 0 for v in net.values()):
            return counts
    return None


@settings(max_examples=150)
@given(stores(max_skus=4))
def test_a_clean_store_has_no_loop_a_brute_force_search_finds(store: list[dict[str, Any]]) -> None:
    findings = verify_document(_economy(store))
    if not any(f.kind == "arbitrage" for f in findings):
        assert _brute_force_gain(store, most=6) is None


def test_a_store_past_the_search_budget_is_said_unchecked_never_clean(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(economy_lp, "MAX_CELL_UPDATES", 10)
    document = _economy(
        [
            {"sku": "combo", "price": {"c0": 10, "c1": 1}, "grants": {"currencies": {"c0": 20}}},
            {"sku": "c1-pack", "price": {"c0": 9}, "grants": {"currencies": {"c1": 1}}},
        ]
    )
    [finding] = [f for f in verify_document(document) if f.kind == "arbitrage"]  # a loop the fast check cannot see
    assert (finding.severity, finding.path) == ("warning", "skus")
    assert "too large to search for arbitrage in full" in finding.message


def test_levels_past_the_most_xp_a_player_can_hold_are_unreachable() -> None:
    document = _economy(
        [{"sku": "s", "price": {"c0": 1}}], xpCurve={"formula": {"base": 10**12, "growth": 10, "maxLevel": 8}}
    )
    [finding] = [f for f in verify_document(document) if f.kind == "unreachable"]
    assert (finding.severity, finding.path) == ("warning", "xpCurve.formula.maxLevel")
    assert finding.message.startswith("levels 6 to 8 need more XP than a player can hold")


def test_past_the_budget_the_fast_check_still_finds_an_exchange_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(economy_lp, "MAX_CELL_UPDATES", 10)
    loop = [
        {"sku": "a", "price": {"c0": 7}, "grants": {"currencies": {"c1": 5}}},
        {"sku": "b", "price": {"c1": 3}, "grants": {"currencies": {"c2": 4}}},
        {"sku": "c", "price": {"c2": 9}, "grants": {"currencies": {"c0": 11}}},
    ]
    findings = [f for f in verify_document(_economy(loop)) if f.kind == "arbitrage"]
    assert [f.severity for f in findings] == ["error", "warning"]
    economy = parse_economy(_economy(loop))
    mix = find_rate_loop(economy, list(economy.skus))
    assert mix is not None
    net = mix_net(economy, mix)
    assert all(amount > 0 for amount in net.values()) and set(net) == {"c0"}  # 5*4*11 > 7*3*9
    loop[2]["grants"] = {"currencies": {"c0": 9}}  # 5*4*9 = 180 < 189: loses
    assert find_rate_loop(parse_economy(_economy(loop)), ["a", "b", "c"]) is None
