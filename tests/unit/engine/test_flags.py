"""Feature flags: stable bucketing, monotonic rollouts, targeting rules, overrides, definitions."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.definitions import DefinitionError, economy_to_document, parse_economy
from engine.flags import (
    BUCKETS,
    Flag,
    HasAchievement,
    MetadataMatch,
    MinLevel,
    PlayerTraits,
    bucket,
    evaluate,
    evaluate_all,
    is_in_rollout,
)

ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=24)
percentages = st.integers(min_value=0, max_value=10_000).map(lambda bp: bp / 100)


@given(ids, ids)
def test_bucket_is_stable_and_in_range(flag_id: str, player_id: str) -> None:
    first = bucket(flag_id, player_id)
    assert first == bucket(flag_id, player_id)
    assert 0 <= first < BUCKETS


def test_bucket_is_the_documented_hash() -> None:
    import hashlib

    digest = hashlib.sha256(b"new-shop/p-1").digest()
    assert bucket("new-shop", "p-1") == int.from_bytes(digest[:8], "big") % 10_000


@given(ids, ids, percentages, percentages)
def test_raising_the_rollout_never_turns_a_player_off(flag_id: str, player_id: str, a: float, b: float) -> None:
    low, high = sorted((a, b))
    if is_in_rollout(flag_id, player_id, low):
        assert is_in_rollout(flag_id, player_id, high)


@given(ids, ids)
def test_zero_is_nobody_and_hundred_is_everybody(flag_id: str, player_id: str) -> None:
    assert not is_in_rollout(flag_id, player_id, 0)
    assert is_in_rollout(flag_id, player_id, 100)


@settings(max_examples=20, deadline=None)
@given(ids, st.sampled_from([1, 10, 25, 50, 90]))
def test_the_share_of_players_in_a_rollout_matches_its_percentage(flag_id: str, percent: int) -> None:
    players = 20_000
    inside = sum(is_in_rollout(flag_id, f"player-{n}", percent) for n in range(players))
    # binomial standard deviation is at most 0.35 % of 20k; 1.5 points is > 4 sigma
    assert abs(inside / players * 100 - percent) < 1.5


def test_one_flag_s_rollout_does_not_pick_the_same_players_as_another_s() -> None:
    players = [f"p{n}" for n in range(4000)]
    a = {p for p in players if is_in_rollout("flag-a", p, 50)}
    b = {p for p in players if is_in_rollout("flag-b", p, 50)}
    assert 0.4 < len(a & b) / len(a) < 0.6


NEW_SHOP = Flag(
    "new-shop",
    default=False,
    value=True,
    rollout=100,
    rules=(MinLevel(5), HasAchievement("first-win"), MetadataMatch("country", ("BR", "PT"))),
)


def traits(**changes: Any) -> PlayerTraits:
    base: dict[str, Any] = {
        "player_id": "p-1",
        "level": 5,
        "achievements": frozenset({"first-win"}),
        "metadata": {"country": "BR"},
    }
    return PlayerTraits(**{**base, **changes})


def test_a_player_matching_every_rule_gets_the_value() -> None:
    assert evaluate(NEW_SHOP, traits()) is True


@pytest.mark.parametrize(
    "changes",
    [
        {"level": 4},
        {"achievements": frozenset()},
        {"metadata": {"country": "US"}},
        {"metadata": {}},
        {"metadata": {"country": True}},
    ],
)
def test_a_player_failing_any_rule_gets_the_default(changes: dict[str, Any]) -> None:
    assert evaluate(NEW_SHOP, traits(**changes)) is False


def test_a_metadata_rule_without_values_needs_only_the_key() -> None:
    flag = Flag("beta", default="off", value="on", rules=(MetadataMatch("tester"),))
    assert evaluate(flag, traits(metadata={"tester": 0})) == "on"
    assert evaluate(flag, traits(metadata={})) == "off"


def test_overrides_win_for_defined_flags_and_unknown_ones_are_ignored() -> None:
    flags = {"new-shop": NEW_SHOP, "double-xp": Flag("double-xp", default=1, value=1)}
    values = evaluate_all(flags, traits(level=1), {"new-shop": True, "gone": "x"})
    assert values == {"new-shop": True, "double-xp": 1}


ECONOMY: dict[str, Any] = {
    "currencies": [{"id": "coins", "kind": "soft"}],
    "xpCurve": {"levels": [0, 100]},
    "achievements": [{"id": "first-win", "conditions": [{"metric": "level", "gte": 2}]}],
    "featureFlags": {
        "doubleXp": False,
        "shopVariant": {
            "default": "a",
            "value": "b",
            "rollout": 12.5,
            "rules": [
                {"minLevel": 3},
                {"achievement": "first-win"},
                {"metadata": {"key": "country", "in": ["BR", "PT"]}},
            ],
        },
    },
}


def test_flags_parse_and_write_back_as_written() -> None:
    economy = parse_economy(ECONOMY)
    assert economy.feature_flags == {"doubleXp": False, "shopVariant": "a"}
    assert economy.flags["shopVariant"].rollout == 12.5
    assert economy_to_document(economy)["featureFlags"] == ECONOMY["featureFlags"]


@pytest.mark.parametrize(
    ("flag", "path"),
    [
        ({"value": True}, "featureFlags.f.default"),
        ({"default": False, "rollout": 101}, "featureFlags.f.rollout"),
        ({"default": False, "rollout": 1.234}, "featureFlags.f.rollout"),
        ({"default": False, "rules": [{"achievement": "nope"}]}, "featureFlags.f.rules[0].achievement"),
        ({"default": False, "rules": [{"minLevel": 0}]}, "featureFlags.f.rules[0].minLevel"),
        ({"default": False, "rules": [{"weather": "rain"}]}, "featureFlags.f.rules[0].weather"),
        ({"default": False, "colour": "red"}, "featureFlags.f.colour"),
        ({"default": [1]}, "featureFlags.f.default"),
        ({"default": "a"}, "featureFlags.f.value"),
    ],
)
def test_a_bad_flag_is_reported_with_its_path(flag: dict[str, Any], path: str) -> None:
    document = {**ECONOMY, "featureFlags": {"f": flag}}
    with pytest.raises(DefinitionError) as raised:
        parse_economy(document)
    assert path in [where for where, _ in raised.value.problems]


values = st.one_of(st.booleans(), st.integers(-5, 5), st.text(alphabet="abc", min_size=1, max_size=3))
rules = st.one_of(
    st.integers(1, 50).map(lambda n: {"minLevel": n}),
    st.just({"achievement": "first-win"}),
    st.builds(lambda key: {"metadata": {"key": key}}, ids),
    st.builds(lambda key, v: {"metadata": {"key": key, "equals": v}}, ids, values),
    st.builds(lambda key, vs: {"metadata": {"key": key, "in": vs}}, ids, st.lists(values, min_size=2, max_size=4)),
)
flag_documents = st.one_of(
    values,
    st.fixed_dictionaries(
        {"default": st.booleans()},
        optional={"value": values, "rollout": percentages, "rules": st.lists(rules, max_size=4)},
    ),
    st.fixed_dictionaries(
        {"default": values, "value": values}, optional={"rollout": percentages, "rules": st.lists(rules, max_size=4)}
    ),
)


@given(st.dictionaries(ids, flag_documents, max_size=5))
def test_any_valid_flag_survives_a_round_trip_with_the_same_answers(flags: dict[str, Any]) -> None:
    economy = parse_economy({**ECONOMY, "featureFlags": flags})
    again = parse_economy({**ECONOMY, "featureFlags": economy_to_document(economy)["featureFlags"]})
    player = traits(level=7, metadata={"country": "BR", "a": True})
    for flag_id, flag in economy.flags.items():
        assert evaluate(again.flags[flag_id], player) == evaluate(flag, player)
        assert type(evaluate(again.flags[flag_id], player)) is type(evaluate(flag, player))


def test_an_override_must_have_its_flag_s_type_and_a_safe_integer() -> None:
    from engine.flags import override_problems

    flags: dict[str, object] = {
        "on": False,
        "tier": {"default": 1, "value": 3},
        "shop": {"default": "a", "value": "b"},
        "mixed": {"default": False, "value": "vip"},
    }
    assert override_problems({"on": True, "tier": 2, "shop": "c", "mixed": "vip"}, flags) == []
    assert override_problems({"mixed": False}, flags) == []
    refused = override_problems({"on": 1, "tier": True, "shop": 7, "mixed": 2, "gone": True}, flags)
    assert [where for where, _ in refused] == [f"overrides.{f}" for f in ("on", "tier", "shop", "mixed", "gone")]
    assert refused[0][1].startswith("must be a boolean") and "boolean or string" in refused[3][1]
    assert override_problems({"tier": 2**53}, flags) == [
        ("overrides.tier", "must be an integer from -9007199254740991 to 9007199254740991")
    ]
