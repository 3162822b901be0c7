"""Tests for parsing, validating and serialising economy definitions."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from engine.definitions import (
    Condition,
    DefinitionError,
    Economy,
    Grants,
    ItemGrant,
    Objective,
    XpCurve,
    economy_to_document,
    parse_economy,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
DEMO_PATH = REPO_ROOT / "config" / "demo-economy.yaml"


def demo_document() -> dict[str, Any]:
    with DEMO_PATH.open(encoding="utf-8") as handle:
        document: dict[str, Any] = yaml.safe_load(handle)
    return document


def minimal_document() -> dict[str, Any]:
    return {
        "currencies": [{"id": "coins", "kind": "soft"}, {"id": "gems", "kind": "hard"}],
        "items": [{"id": "sword", "stackLimit": 1}, {"id": "potion", "stackLimit": 99}],
        "xpCurve": {"levels": [0, 100, 250]},
        "counters": [{"id": "wins"}],
    }


def problems_of(document: Any) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionError) as caught:
        parse_economy(document)
    return caught.value.problems


def messages_of(document: Any) -> list[str]:
    return [f"{path}: {message}" for path, message in problems_of(document)]


# --- the demo economy -------------------------------------------------------------------


def test_demo_economy_parses_with_its_currencies_and_items() -> None:
    economy = parse_economy(demo_document())
    assert list(economy.currencies) == ["coins", "gems"]
    assert economy.currencies["coins"].kind == "soft"
    assert economy.currencies["gems"].kind == "hard"
    assert economy.items["sword"].stack_limit == 1
    assert economy.items["potion"].stack_limit == 99


def test_demo_economy_has_its_skus() -> None:
    economy = parse_economy(demo_document())
    assert list(economy.skus) == ["potion-pack", "starter-bundle"]
    pack = economy.skus["potion-pack"]
    assert pack.title == "Potion pack"
    assert pack.price == {"coins": 100}
    assert pack.grants == Grants(items=(ItemGrant("potion", 5),))
    assert pack.bundle is False
    bundle = economy.skus["starter-bundle"]
    assert bundle.title == "Starter bundle"
    assert bundle.bundle is True
    assert bundle.price == {"gems": 10}
    assert bundle.grants == Grants(xp=200, items=(ItemGrant("sword", 1),), currencies={"coins": 500})


def test_demo_economy_has_its_counters_achievements_quests_and_flags() -> None:
    economy = parse_economy(demo_document())
    assert list(economy.counters) == ["wins"]
    assert list(economy.achievements) == ["first-win", "ten-wins"]
    assert economy.achievements["first-win"].conditions == (Condition("counter.wins", 1),)
    assert economy.achievements["ten-wins"].conditions == (Condition("counter.wins", 10),)
    quest = economy.quests["daily-battles"]
    assert quest.objectives == (Objective("battles", 3),)
    assert quest.rewards == Grants(currencies={"coins": 50})
    assert economy.feature_flags == {"doubleXp": False, "newShop": False, "veteranOffer": "none"}
    assert economy.flags["newShop"].rollout == 25


def test_demo_xp_curve_maps_xp_to_levels() -> None:
    curve = parse_economy(demo_document()).xp_curve
    assert curve.thresholds == (0, 100, 250, 450, 700, 1000, 1400, 1900, 2500, 3200)
    assert curve.formula is None
    assert curve.level_for(0) == 1
    assert curve.level_for(99) == 1
    assert curve.level_for(100) == 2
    assert curve.level_for(3200) == 10
    assert curve.level_for(10**9) == 10
    assert curve.next_level_xp(1) == 100
    assert curve.next_level_xp(10) is None


def test_demo_economy_survives_a_round_trip() -> None:
    economy = parse_economy(demo_document())
    assert parse_economy(economy_to_document(economy)) == economy


def test_missing_optional_sections_mean_empty() -> None:
    economy = parse_economy({"xpCurve": {"levels": [0]}})
    assert economy.currencies == {}
    assert economy.items == {}
    assert economy.skus == {}
    assert economy.quests == {}
    assert economy.feature_flags == {}


def test_optional_titles_default_sensibly() -> None:
    document = minimal_document()
    document["skus"] = [{"sku": "pack", "price": {"coins": 1}}]
    economy = parse_economy(document)
    assert economy.skus["pack"].title == "pack"
    assert economy.skus["pack"].grants == Grants()
    assert economy.counters["wins"].title == ""


# --- problems and their paths -----------------------------------------------------------


def test_unknown_grant_item_is_reported_with_its_path() -> None:
    document = minimal_document()
    document["skus"] = [
        {"sku": "a", "price": {"coins": 1}},
        {"sku": "b", "price": {"coins": 2}},
        {"sku": "c", "price": {"gems": 3}, "grants": {"items": [{"itemId": "swrod", "quantity": 1}]}},
    ]
    assert messages_of(document) == ["skus[2].grants.items[0].itemId: unknown item 'swrod'"]
    assert str(DefinitionError(problems_of(document))) == ("skus[2].grants.items[0].itemId: unknown item 'swrod'")


def test_several_problems_are_reported_at_once() -> None:
    document = minimal_document()
    document["currencies"][1]["kind"] = "premium"
    document["items"][0]["stackLimit"] = 0
    document["skus"] = [{"sku": "a", "price": {"gold": 5}}]
    problems = problems_of(document)
    assert ("currencies[1].kind", "must be 'soft' or 'hard'") in problems
    assert ("items[0].stackLimit", "must be an integer >= 1") in problems
    assert ("skus[0].price.gold", "unknown currency 'gold'") in problems
    assert len(problems) == 3


def test_unknown_field_is_reported() -> None:
    document = minimal_document()
    document["items"][0] = {"id": "sword", "stacklimit": 1}
    assert set(problems_of(document)) == {
        ("items[0].stacklimit", "unknown field"),
        ("items[0].stackLimit", "required"),
    }


def test_unknown_top_level_key_is_reported() -> None:
    document = minimal_document()
    document["shops"] = []
    assert problems_of(document) == [("shops", "unknown field")]


def test_missing_xp_curve_is_required() -> None:
    document = minimal_document()
    del document["xpCurve"]
    assert problems_of(document) == [("xpCurve", "required")]


def test_non_mapping_document_is_reported_at_the_root() -> None:
    assert problems_of([1, 2, 3]) == [("$", "must be a mapping")]


def test_bool_is_rejected_where_an_integer_is_required() -> None:
    document = minimal_document()
    document["items"][0]["stackLimit"] = True
    document["xpCurve"] = {"levels": [False, 100]}
    assert set(problems_of(document)) == {
        ("items[0].stackLimit", "must be an integer >= 1"),
        ("xpCurve.levels[0]", "must be an integer >= 0"),
    }


def test_float_amount_is_rejected() -> None:
    document = minimal_document()
    document["skus"] = [{"sku": "a", "price": {"coins": 10.0}, "grants": {"currencies": {"gems": 1.5}}}]
    assert set(problems_of(document)) == {
        ("skus[0].price.coins", "must be an integer >= 1"),
        ("skus[0].grants.currencies.gems", "must be an integer >= 0"),
    }


def test_duplicate_ids_are_reported_on_the_repeat() -> None:
    document = minimal_document()
    document["currencies"].append({"id": "coins", "kind": "soft"})
    document["skus"] = [{"sku": "a", "price": {"coins": 1}}, {"sku": "a", "price": {"coins": 2}}]
    assert set(problems_of(document)) == {
        ("currencies[2].id", "duplicate id 'coins'"),
        ("skus[1].sku", "duplicate id 'a'"),
    }


def test_duplicate_objective_ids_within_a_quest_are_reported() -> None:
    document = minimal_document()
    document["quests"] = [{"id": "q", "objectives": [{"id": "o", "target": 1}, {"id": "o", "target": 0}]}]
    assert set(problems_of(document)) == {
        ("quests[0].objectives[1].id", "duplicate id 'o'"),
        ("quests[0].objectives[1].target", "must be an integer >= 1"),
    }


def test_bad_currency_kind_is_reported() -> None:
    document = minimal_document()
    document["currencies"][0]["kind"] = "Soft"
    assert problems_of(document) == [("currencies[0].kind", "must be 'soft' or 'hard'")]


def test_non_increasing_levels_are_reported() -> None:
    document = minimal_document()
    document["xpCurve"] = {"levels": [0, 100, 250, 250]}
    assert problems_of(document) == [("xpCurve.levels[3]", "must be strictly increasing")]


def test_levels_must_start_at_zero() -> None:
    document = minimal_document()
    document["xpCurve"] = {"levels": [10, 100]}
    assert problems_of(document) == [("xpCurve.levels[0]", "must be 0")]


def test_levels_need_at_least_one_entry() -> None:
    document = minimal_document()
    document["xpCurve"] = {"levels": []}
    assert [path for path, _ in problems_of(document)] == ["xpCurve.levels"]


def test_formula_curve_is_expanded_into_thresholds() -> None:
    document = minimal_document()
    document["xpCurve"] = {"formula": {"base": 100, "growth": 2, "maxLevel": 4}}
    curve = parse_economy(document).xp_curve
    assert curve.thresholds == (0, 100, 300, 700)
    assert curve.formula == {"base": 100, "growth": 2, "maxLevel": 4}
    assert curve.max_level == 4


def test_formula_curve_survives_a_round_trip() -> None:
    document = minimal_document()
    document["xpCurve"] = {"formula": {"base": 100, "growth": 1.5, "maxLevel": 50}}
    economy = parse_economy(document)
    assert economy_to_document(economy)["xpCurve"] == document["xpCurve"]
    assert parse_economy(economy_to_document(economy)) == economy


def test_formula_fields_are_validated() -> None:
    document = minimal_document()
    document["xpCurve"] = {"formula": {"base": 0, "growth": 0.5, "maxLevel": 1001}}
    assert set(problems_of(document)) == {
        ("xpCurve.formula.base", "must be an integer >= 1"),
        ("xpCurve.formula.growth", "must be a number >= 1"),
        ("xpCurve.formula.maxLevel", "must be an integer from 1 to 1000"),
    }


def test_formula_that_overflows_is_reported_not_raised() -> None:
    document = minimal_document()
    document["xpCurve"] = {"formula": {"base": 1, "growth": 1e10, "maxLevel": 1000}}
    assert problems_of(document) == [("xpCurve.formula", "thresholds grow too large")]


@pytest.mark.parametrize(
    "curve",
    [{}, {"levels": [0], "formula": {"base": 1, "growth": 1, "maxLevel": 1}}],
)
def test_xp_curve_needs_exactly_one_of_levels_or_formula(curve: dict[str, Any]) -> None:
    document = minimal_document()
    document["xpCurve"] = curve
    assert problems_of(document) == [("xpCurve", "must have exactly one of 'levels' or 'formula'")]


@pytest.mark.parametrize(
    ("metric", "message"),
    [
        ("wins", "unknown metric 'wins'"),
        ("counter.losses", "unknown counter 'losses'"),
        ("earned.gold", "unknown currency 'gold'"),
        ("spent.", "unknown metric 'spent.'"),
    ],
)
def test_unknown_metric_or_counter_in_conditions_is_reported(metric: str, message: str) -> None:
    document = minimal_document()
    document["achievements"] = [{"id": "a", "conditions": [{"metric": metric, "gte": 1}]}]
    assert problems_of(document) == [("achievements[0].conditions[0].metric", message)]


@pytest.mark.parametrize("metric", ["level", "xp", "purchases", "counter.wins", "earned.coins", "spent.gems"])
def test_every_documented_metric_is_accepted(metric: str) -> None:
    document = minimal_document()
    document["achievements"] = [{"id": "a", "conditions": [{"metric": metric, "gte": 0}]}]
    assert parse_economy(document).achievements["a"].conditions == (Condition(metric, 0),)


def test_achievement_needs_at_least_one_condition() -> None:
    document = minimal_document()
    document["achievements"] = [{"id": "a", "conditions": []}]
    assert [path for path, _ in problems_of(document)] == ["achievements[0].conditions"]


def test_sku_grant_over_stack_limit_is_reported() -> None:
    document = minimal_document()
    document["skus"] = [
        {"sku": "swords", "price": {"gems": 1}, "grants": {"items": [{"itemId": "sword", "quantity": 2}]}}
    ]
    assert messages_of(document) == ["skus[0].grants.items[0].quantity: exceeds stackLimit 1 of item 'sword'"]


def test_sku_needs_a_price() -> None:
    document = minimal_document()
    document["skus"] = [{"sku": "free", "price": {}}, {"sku": "nothing"}]
    assert set(problems_of(document)) == {
        ("skus[0].price", "must have at least 1 entry"),
        ("skus[1].price", "required"),
    }


def test_bad_feature_flag_value_is_reported() -> None:
    document = minimal_document()
    document["featureFlags"] = {"ok": "x", "rate": 0.5}
    assert problems_of(document) == [
        ("featureFlags.rate", "must be a boolean, integer or string, or a mapping {default, value, rollout, rules}")
    ]


def test_parsing_does_not_mutate_the_document() -> None:
    document = demo_document()
    before = copy.deepcopy(document)
    parse_economy(document)
    assert document == before


# --- properties -------------------------------------------------------------------------

increasing_tables = st.lists(st.integers(min_value=1, max_value=10_000), min_size=0, max_size=30).map(
    lambda steps: tuple([0] + [sum(steps[: i + 1]) for i in range(len(steps))])
)


@given(thresholds=increasing_tables, xp=st.integers(min_value=0, max_value=400_000))
def test_level_for_is_the_highest_level_whose_threshold_is_reached(thresholds: tuple[int, ...], xp: int) -> None:
    curve = XpCurve(thresholds=thresholds)
    expected = max(index + 1 for index, threshold in enumerate(thresholds) if threshold <= xp)
    assert curve.level_for(xp) == expected


ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=8)


@st.composite
def economy_documents(draw: st.DrawFn) -> dict[str, Any]:
    currency_ids = draw(st.lists(ids, min_size=1, max_size=4, unique=True))
    item_ids = draw(st.lists(ids, max_size=4, unique=True))
    counter_ids = draw(st.lists(ids, max_size=3, unique=True))
    stack_limits = {item: draw(st.integers(1, 100)) for item in item_ids}
    amounts = st.dictionaries(st.sampled_from(currency_ids), st.integers(0, 10_000))

    def grants(limit_stacks: bool) -> st.SearchStrategy[dict[str, Any]]:
        item_grants = (
            st.lists(
                st.sampled_from(item_ids).flatmap(
                    lambda item: st.fixed_dictionaries(
                        {
                            "itemId": st.just(item),
                            "quantity": st.integers(1, stack_limits[item] if limit_stacks else 1000),
                        }
                    )
                ),
                max_size=3,
            )
            if item_ids
            else st.just([])
        )
        return st.fixed_dictionaries(
            {}, optional={"xp": st.integers(0, 1000), "items": item_grants, "currencies": amounts}
        )

    metrics = ["level", "xp", "purchases"]
    metrics += [f"counter.{c}" for c in counter_ids]
    metrics += [f"earned.{c}" for c in currency_ids] + [f"spent.{c}" for c in currency_ids]
    if draw(st.booleans()):
        curve: dict[str, Any] = {"levels": list(draw(increasing_tables))}
    else:
        curve = {
            "formula": {
                "base": draw(st.integers(1, 500)),
                "growth": draw(st.one_of(st.integers(1, 3), st.floats(1, 2))),
                "maxLevel": draw(st.integers(1, 60)),
            }
        }
    return {
        "currencies": [{"id": c, "kind": draw(st.sampled_from(["soft", "hard"]))} for c in currency_ids],
        "items": [{"id": i, "stackLimit": stack_limits[i]} for i in item_ids],
        "xpCurve": curve,
        "skus": [
            {
                "sku": sku,
                "title": draw(st.text(max_size=10)),
                "price": draw(st.dictionaries(st.sampled_from(currency_ids), st.integers(1, 10_000), min_size=1)),
                "grants": draw(grants(limit_stacks=True)),
                "bundle": draw(st.booleans()),
            }
            for sku in draw(st.lists(ids, max_size=3, unique=True))
        ],
        "counters": [{"id": c} for c in counter_ids],
        "achievements": [
            {
                "id": achievement,
                "conditions": draw(
                    st.lists(
                        st.fixed_dictionaries({"metric": st.sampled_from(metrics), "gte": st.integers(0, 100)}),
                        min_size=1,
                        max_size=3,
                    )
                ),
                "rewards": draw(grants(limit_stacks=False)),
            }
            for achievement in draw(st.lists(ids, max_size=3, unique=True))
        ],
        "quests": [
            {
                "id": quest,
                "objectives": [
                    {"id": objective, "target": draw(st.integers(1, 50))}
                    for objective in draw(st.lists(ids, min_size=1, max_size=3, unique=True))
                ],
                "rewards": draw(grants(limit_stacks=False)),
            }
            for quest in draw(st.lists(ids, max_size=3, unique=True))
        ],
        "featureFlags": draw(st.dictionaries(ids, st.one_of(st.booleans(), st.integers(), st.text(max_size=5)))),
    }


@given(document=economy_documents())
def test_any_valid_economy_survives_a_round_trip(document: dict[str, Any]) -> None:
    economy = parse_economy(document)
    assert isinstance(economy, Economy)
    assert parse_economy(economy_to_document(economy)) == economy
