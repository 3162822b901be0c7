"""The documented maxima: metadata every store can keep exactly, totals that stop at the safe
integer range with a rejection, and economies that cannot make a shared host's decisions slow."""

from __future__ import annotations

import math
from typing import Any

import bson
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import commands as c
from engine.definitions import DefinitionError, parse_economy
from engine.errors import BalanceLimitError, CounterLimitError, InvalidFieldError, XpLimitError
from engine.limits import (
    MAX_ACHIEVEMENTS,
    MAX_ECONOMY_BYTES,
    MAX_ENTRIES_PER_KIND,
    MAX_METADATA_BYTES,
    MAX_METADATA_DEPTH,
    MAX_SAFE_INTEGER,
    MAX_UNLOCK_PASSES,
    MAX_XP_LEVELS,
    MetadataError,
    check_metadata,
)
from engine.rules import Accepted
from engine.state import PlayerState, with_changes
from tests.unit.engine.test_definitions import minimal_document, problems_of
from tests.unit.engine.test_rules import Host


def refusal(metadata: Any) -> tuple[str, str]:
    with pytest.raises(MetadataError) as caught:
        check_metadata(metadata)
    return caught.value.path, caught.value.message


# --- metadata --------------------------------------------------------------------------------


def test_metadata_refuses_integers_past_the_safe_range_at_their_path() -> None:
    assert refusal({"x": 18446744073709551616})[0] == "x"
    assert refusal({"a": {"b": [1, -(2**53)]}})[0] == "a.b[1]"
    check_metadata({"x": MAX_SAFE_INTEGER, "y": -MAX_SAFE_INTEGER})


def test_metadata_refuses_operator_and_path_keys() -> None:
    assert refusal({"$where": 1})[0] == "$where"
    assert refusal({"a": {"b.c": 1}})[0] == "a.b.c"
    assert refusal({"": 1})[0] == ""
    assert "'$'" in refusal({"a": [{"$set": 1}]})[1]


def test_metadata_refuses_non_finite_numbers_and_non_json_values() -> None:
    assert refusal({"x": math.inf})[0] == "x"
    assert refusal({"x": math.nan})[0] == "x"
    assert refusal({"x": {1, 2}})[0] == "x"
    assert refusal([1])[0] == ""


def test_metadata_refuses_deep_nesting_and_large_documents() -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(MAX_METADATA_DEPTH):
        node["n"] = {}
        node = node["n"]
    assert "deeper" in refusal(deep)[1]
    assert "bytes" in refusal({"blob": "x" * MAX_METADATA_BYTES})[1]


JSON_LEAVES = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=5))
def test_accepted_metadata_survives_both_stores_encodings_exactly(metadata: dict[str, Any]) -> None:
    """Whatever passes the check is kept exactly by SQLite's orjson and MongoDB's BSON: a group
    commit never fails on it."""
    try:
        check_metadata(metadata)
    except MetadataError:
        return
    assert orjson.loads(orjson.dumps(metadata)) == metadata
    assert bson.decode(bson.encode({"m": metadata}))["m"] == metadata


# --- totals ----------------------------------------------------------------------------------


def created_host() -> Host:
    host = Host()
    assert isinstance(host.run(c.CreatePlayer(username="ada")), Accepted)
    return host


def test_a_credit_with_unsafe_metadata_is_refused_at_the_metadata_path() -> None:
    host = created_host()
    refused = host.run(c.Credit(currency="coins", amount=5, metadata={"x": 2**64}))
    assert isinstance(refused, InvalidFieldError) and refused.field == "metadata.x"
    assert host.state.balance("coins") == 0


def test_creating_or_updating_a_player_with_unsafe_metadata_is_refused() -> None:
    host = Host()
    refused = host.run(c.CreatePlayer(username="ada", metadata={"a": {"$gt": 1}}))
    assert isinstance(refused, InvalidFieldError) and refused.field == "metadata.a.$gt"
    host = created_host()
    refused = host.run(c.UpdatePlayer(metadata={"k": 2**60}))
    assert isinstance(refused, InvalidFieldError) and refused.field == "metadata.k"


def test_xp_stops_at_the_limit_with_a_rejection() -> None:
    host = created_host()
    host.state = with_changes(host.state, xp=MAX_SAFE_INTEGER - 10)
    refused = host.run(c.AwardXp(amount=11))
    assert isinstance(refused, XpLimitError) and refused.limit == MAX_SAFE_INTEGER
    assert isinstance(host.run(c.AwardXp(amount=10)), Accepted)
    assert host.state.xp == MAX_SAFE_INTEGER


def test_balances_stop_at_the_safe_integer_limit() -> None:
    host = created_host()
    host.state = with_changes(host.state, balances={"coins": MAX_SAFE_INTEGER - 1})
    assert isinstance(host.run(c.Credit(currency="coins", amount=2)), BalanceLimitError)
    assert isinstance(host.run(c.Credit(currency="coins", amount=1)), Accepted)


def test_counters_stop_at_the_limit_with_a_rejection() -> None:
    host = created_host()
    counter = next(iter(host.economy.counters))
    host.state = with_changes(host.state, counters={counter: MAX_SAFE_INTEGER})
    refused = host.run(c.IncrementCounter(counter_id=counter, by=1))
    assert isinstance(refused, CounterLimitError) and refused.value == MAX_SAFE_INTEGER


def test_lifetime_earnings_saturate_instead_of_passing_the_limit() -> None:
    host = created_host()
    host.state = with_changes(host.state, earned={"coins": MAX_SAFE_INTEGER - 1})
    assert isinstance(host.run(c.Credit(currency="coins", amount=100)), Accepted)
    assert host.state.earned["coins"] == MAX_SAFE_INTEGER


# --- economies -------------------------------------------------------------------------------


def test_economy_integers_are_bounded() -> None:
    document = minimal_document()
    document["items"][1]["stackLimit"] = MAX_SAFE_INTEGER + 1
    assert ("items[1].stackLimit", f"must be at most {MAX_SAFE_INTEGER}") in problems_of(document)


def test_economy_sections_levels_and_size_are_bounded() -> None:
    document = minimal_document()
    document["counters"] = [{"id": f"c{i}"} for i in range(MAX_ENTRIES_PER_KIND + 1)]
    assert ("counters", f"must have at most {MAX_ENTRIES_PER_KIND} entries") in problems_of(document)
    document = minimal_document()
    document["xpCurve"] = {"levels": list(range(MAX_XP_LEVELS + 1))}
    assert ("xpCurve.levels", f"must have at most {MAX_XP_LEVELS} entries") in problems_of(document)
    document = minimal_document()
    document["achievements"] = [
        {"id": f"a{i}", "conditions": [{"metric": "xp", "gte": i}]} for i in range(MAX_ACHIEVEMENTS + 1)
    ]
    assert ("achievements", f"must have at most {MAX_ACHIEVEMENTS} entries") in problems_of(document)
    document = minimal_document()
    document["currencies"].append({"id": "x" * MAX_ECONOMY_BYTES, "kind": "soft"})
    with pytest.raises(DefinitionError) as caught:
        parse_economy(document)
    assert caught.value.problems[0][0] == "$" and "bytes" in caught.value.problems[0][1]


def test_a_reward_chain_unlocks_at_most_the_bounded_passes_per_command() -> None:
    """Achievement i needs XP >= i+1 and rewards 1 XP, listed in reverse so the first command's
    passes unlock one each: it stops after MAX_UNLOCK_PASSES passes although the next achievement
    is already satisfied; later commands carry on until the chain is done."""
    chain = 8 * MAX_UNLOCK_PASSES
    document = minimal_document()
    document["achievements"] = [
        {"id": f"a{i}", "conditions": [{"metric": "xp", "gte": i + 1}], "rewards": {"xp": 1}}
        for i in reversed(range(chain))
    ]
    host = Host(parse_economy(document))
    host.state = PlayerState(player_id="p1")
    assert isinstance(host.run(c.CreatePlayer(username="ada")), Accepted)
    assert isinstance(host.run(c.AwardXp(amount=1)), Accepted)
    assert len(host.state.achievements) == MAX_UNLOCK_PASSES
    assert host.state.xp >= MAX_UNLOCK_PASSES + 1  # achievement a16 is satisfied, yet waits
    for _ in range(chain):
        assert isinstance(host.run(c.AwardXp(amount=1)), Accepted)
    assert len(host.state.achievements) == chain
