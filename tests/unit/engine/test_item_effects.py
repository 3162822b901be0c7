"""Item effects: parsing and its problems, what consuming applies, boosts and their end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import commands as c
from engine import events as e
from engine.definitions import DefinitionError, Economy, economy_to_document, parse_economy
from engine.errors import BoostLimitError, Rejection, StackLimitError
from engine.item_effects import MAX_BOOST_TOTAL_SECONDS, Boost, boosted, effect_cycle, multiplier_at
from engine.rules import Accepted, Context, apply_record, decide, rfc3339
from engine.state import PlayerState, state_from_dict, state_to_dict
from engine.views import flags_view, profile_view

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ENTITY = "player:acme/demo/p1"


def document(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "currencies": [{"id": "coins", "kind": "soft"}, {"id": "gems", "kind": "hard"}],
        "items": [
            {"id": "gem", "stackLimit": 10_000},
            {
                "id": "chest",
                "stackLimit": 500,
                "effects": [
                    {"kind": "xp", "amount": 50},
                    {"kind": "currency", "currency": "coins", "amount": 7},
                    {"kind": "item", "itemId": "gem", "quantity": 3},
                    {"kind": "counter", "counterId": "chests", "amount": 1},
                    {"kind": "flag", "flag": "vip", "value": True},
                ],
            },
            {
                "id": "xp-potion",
                "stackLimit": 500,
                "effects": [{"kind": "boost", "metric": "xp", "multiplier": 2, "durationS": 3600}],
            },
            {
                "id": "big-xp-potion",
                "stackLimit": 5,
                "effects": [{"kind": "boost", "metric": "xp", "multiplier": 3, "durationS": 600}],
            },
            {
                "id": "coin-charm",
                "stackLimit": 5,
                "effects": [{"kind": "boost", "metric": "currency:coins", "multiplier": 1.15, "durationS": 60}],
            },
        ],
        "counters": [{"id": "chests"}],
        "featureFlags": {"vip": False, "theme": "light"},
        "xpCurve": {"levels": [0, 100, 300, 1000, 10_000]},
    }
    base.update(overrides)
    return base


ECONOMY = parse_economy(document())


class Player:
    """A player's state driven through `decide`, as a host would, with a clock the test moves."""

    def __init__(self, economy: Economy = ECONOMY) -> None:
        self.economy = economy
        self.now = NOW
        self.state = PlayerState(player_id="p1")
        self.records: list[tuple[int, list[e.Event], str]] = []
        self.accept(c.CreatePlayer("alice"))

    def run(self, command: c.Command) -> Accepted | Rejection:
        ctx = Context(now=self.now, economy=self.economy, entity=ENTITY)
        result = decide(self.state, command, ctx)
        if isinstance(result, Accepted) and result.events:
            seq = self.state.seq + 1
            self.state = apply_record(self.state, seq, list(result.events), ctx.occurred_at)
            self.records.append((seq, list(result.events), ctx.occurred_at))
        return result

    def accept(self, command: c.Command) -> Accepted:
        result = self.run(command)
        assert isinstance(result, Accepted), result
        return result

    def replayed(self) -> PlayerState:
        state = PlayerState(player_id="p1")
        for seq, events, at in self.records:
            state = apply_record(state, seq, events, at)
        return state


def problems(doc: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionError) as raised:
        parse_economy(doc)
    return raised.value.problems


# --- the economy document ---------------------------------------------------------------------


def test_effects_round_trip_through_the_document() -> None:
    again = parse_economy(economy_to_document(ECONOMY))
    assert again.items == ECONOMY.items
    assert economy_to_document(again)["items"][1]["effects"][0] == {"kind": "xp", "amount": 50}
    assert "effects" not in economy_to_document(again)["items"][0], "no effects, no key"


@pytest.mark.parametrize(
    ("effect", "path", "message"),
    [
        ({"kind": "currency", "currency": "gold", "amount": 1}, "currency", "unknown currency 'gold'"),
        ({"kind": "item", "itemId": "sword", "quantity": 1}, "itemId", "unknown item 'sword'"),
        ({"kind": "counter", "counterId": "wins", "amount": 1}, "counterId", "unknown counter 'wins'"),
        ({"kind": "flag", "flag": "beta", "value": True}, "flag", "unknown flag 'beta'"),
        ({"kind": "flag", "flag": "theme", "value": 3}, "value", "must be of the flag's own type (str)"),
        ({"kind": "xp", "amount": 0}, "amount", "must be an integer from 1"),
        ({"kind": "xp", "amount": True}, "amount", "must be an integer from 1"),
        ({"kind": "boost", "metric": "xp", "multiplier": 1, "durationS": 60}, "multiplier", "above 1"),
        ({"kind": "boost", "metric": "xp", "multiplier": 11, "durationS": 60}, "multiplier", "at most 10"),
        ({"kind": "boost", "metric": "xp", "multiplier": float("nan"), "durationS": 60}, "multiplier", "above 1"),
        ({"kind": "boost", "metric": "xp", "multiplier": "2", "durationS": 60}, "multiplier", "above 1"),
        ({"kind": "boost", "metric": "currency:gold", "multiplier": 2, "durationS": 60}, "metric", "currency:<id>"),
        ({"kind": "boost", "metric": "level", "multiplier": 2, "durationS": 60}, "metric", "must be 'xp'"),
        ({"kind": "boost", "metric": "xp", "multiplier": 2, "durationS": 0}, "durationS", "from 1 to"),
        ({"kind": "xp", "amount": 5, "bonus": 1}, "bonus", "unknown field"),
        ({"kind": "currency", "amount": 5}, "currency", "required"),
        ({"kind": "teleport"}, "kind", "must be one of xp, currency, item, counter, flag, boost"),
    ],
)
def test_a_bad_effect_is_named_by_its_path(effect: dict[str, Any], path: str, message: str) -> None:
    doc = document()
    doc["items"][0]["effects"] = [{"kind": "xp", "amount": 1}, effect]
    found = problems(doc)
    assert any(where == f"items[0].effects[1].{path}" and message in text for where, text in found), found


def test_items_granting_each_other_in_a_loop_are_refused() -> None:
    doc = document()
    doc["items"][0]["effects"] = [{"kind": "item", "itemId": "chest", "quantity": 1}]
    found = problems(doc)
    assert ("items", "item effects grant each other in a loop: chest -> gem -> chest") in found


def test_an_item_granting_itself_is_a_loop() -> None:
    doc = document()
    doc["items"][0]["effects"] = [{"kind": "item", "itemId": "gem", "quantity": 1}]
    assert ("items", "item effects grant each other in a loop: gem -> gem") in problems(doc)


def test_an_effect_granting_past_the_stack_limit_is_refused() -> None:
    doc = document()
    doc["items"][0]["effects"] = [{"kind": "item", "itemId": "big-xp-potion", "quantity": 6}]
    assert ("items[0].effects[0].quantity", "exceeds stackLimit 5 of item 'big-xp-potion'") in problems(doc)


def test_effects_must_be_a_short_list() -> None:
    doc = document()
    doc["items"][0]["effects"] = {"kind": "xp", "amount": 1}
    assert ("items[0].effects", "must be a list") in problems(doc)
    doc["items"][0]["effects"] = [{"kind": "xp", "amount": 1}] * 17
    assert ("items[0].effects", "must have at most 16 entries") in problems(doc)


@given(st.dictionaries(st.sampled_from("abcdef"), st.lists(st.sampled_from("abcdef"), max_size=3)))
def test_effect_cycle_finds_a_loop_exactly_when_the_grant_graph_has_one(graph: dict[str, list[str]]) -> None:
    from engine.item_effects import ItemEffect

    cycle = effect_cycle({item: [ItemEffect(t, 1) for t in targets] for item, targets in graph.items()})
    # a graph is acyclic exactly when repeatedly removing items that grant nothing empties it
    remaining = {item: set(targets) for item, targets in graph.items()}
    while True:
        leaves = {item for item, targets in remaining.items() if not targets & set(remaining)}
        if not leaves:
            break
        remaining = {item: targets for item, targets in remaining.items() if item not in leaves}
    assert (cycle is not None) == bool(remaining)
    if cycle is not None:
        assert cycle[0] == cycle[-1]
        assert all(b in graph.get(a, []) for a, b in zip(cycle, cycle[1:], strict=False))


# --- consuming -------------------------------------------------------------------------------


def test_consuming_applies_each_effect_per_unit_with_the_direct_commands_events() -> None:
    player = Player()
    player.accept(c.GrantItem("chest", 3))
    result = player.accept(c.ConsumeItem("chest", 3))
    types = [event.type for event in result.events]
    assert types == [
        "item.consumed",
        "player.xp.added",
        "player.levelup",
        "player.level.updated",
        "wallet.credited",
        "item.granted",
        "counter.incremented",
        "player.flag.set",
    ]
    state = player.state
    assert (state.xp, state.level, state.balance("coins"), state.quantity("gem")) == (150, 2, 21, 9)
    assert state.counters == {"chests": 3} and state.flags == {"vip": True}
    assert state.quantity("chest") == 0
    credited = next(ev for ev in result.events if isinstance(ev, e.WalletCredited))
    assert credited.reason == "item:chest"
    assert result.body == {"itemId": "chest", "quantity": 0}


def test_an_effect_that_cannot_apply_rejects_the_whole_consumption() -> None:
    player = Player()
    player.accept(c.GrantItem("gem", 9_999))
    player.accept(c.GrantItem("chest", 1))
    before = player.state
    result = player.run(c.ConsumeItem("chest", 1))
    assert isinstance(result, StackLimitError)
    assert player.state == before, "nothing consumed, nothing granted"


def test_a_set_flag_wins_over_the_rollout_in_the_players_flags() -> None:
    player = Player()
    assert flags_view(player.state, ECONOMY)["flags"]["vip"] is False
    player.accept(c.GrantItem("chest", 1))
    player.accept(c.ConsumeItem("chest", 1))
    assert flags_view(player.state, ECONOMY)["flags"] == {"vip": True, "theme": "light"}


# --- boosts ----------------------------------------------------------------------------------


def test_a_boost_multiplies_later_awards_until_it_ends() -> None:
    player = Player()
    player.accept(c.GrantItem("xp-potion", 1))
    player.accept(c.ConsumeItem("xp-potion", 1))
    ends = rfc3339(NOW + timedelta(hours=1))
    assert profile_view(player.state, ECONOMY, NOW)["boosts"] == [{"metric": "xp", "multiplier": 2, "endsAt": ends}]
    player.now = NOW + timedelta(minutes=59)
    assert player.accept(c.AwardXp(40)).body["xp"] == 80  # type: ignore[index]
    player.now = NOW + timedelta(hours=1)  # the end itself is outside
    assert player.accept(c.AwardXp(40)).body["xp"] == 120  # type: ignore[index]
    assert profile_view(player.state, ECONOMY, player.now)["boosts"] == []


def test_a_currency_boost_rounds_down_from_the_multiplier_as_written() -> None:
    player = Player()
    player.accept(c.GrantItem("coin-charm", 1))
    player.accept(c.ConsumeItem("coin-charm", 1))
    assert player.accept(c.Credit("coins", 100)).body["balance"] == 115  # type: ignore[index]
    assert player.accept(c.Credit("gems", 100)).body["balance"] == 100  # type: ignore[index]  # other currency
    player.accept(c.Credit("coins", 3))
    assert player.state.balance("coins") == 118  # floor(3 * 1.15) = 3


def test_same_boosts_extend_and_different_multipliers_run_side_by_side_the_largest_applying() -> None:
    player = Player()
    player.accept(c.GrantItem("xp-potion", 3))
    player.accept(c.GrantItem("big-xp-potion", 1))
    player.accept(c.ConsumeItem("xp-potion", 2))
    player.now = NOW + timedelta(minutes=30)
    player.accept(c.ConsumeItem("xp-potion", 1))  # extends the running x2 by an hour
    player.accept(c.ConsumeItem("big-xp-potion", 1))
    boosts = profile_view(player.state, ECONOMY, player.now)["boosts"]
    assert boosts == [
        {"metric": "xp", "multiplier": 3, "endsAt": rfc3339(NOW + timedelta(minutes=40))},
        {"metric": "xp", "multiplier": 2, "endsAt": rfc3339(NOW + timedelta(hours=3))},
    ]
    assert multiplier_at(player.state.boosts, "xp", player.now) == 3
    assert multiplier_at(player.state.boosts, "xp", NOW + timedelta(minutes=41)) == 2
    assert multiplier_at(player.state.boosts, "xp", NOW + timedelta(hours=3)) == 1


def test_item_effects_themselves_are_not_boosted() -> None:
    player = Player()
    player.accept(c.GrantItem("xp-potion", 1))
    player.accept(c.ConsumeItem("xp-potion", 1))
    player.accept(c.GrantItem("chest", 1))
    player.accept(c.ConsumeItem("chest", 1))
    assert player.state.xp == 50


def test_a_boost_stacked_past_the_limit_is_refused() -> None:
    economy = parse_economy(
        document(
            items=[
                {
                    "id": "week",
                    "stackLimit": 1000,
                    "effects": [{"kind": "boost", "metric": "xp", "multiplier": 2, "durationS": 7 * 24 * 3600}],
                }
            ]
        )
    )
    player = Player(economy)
    player.accept(c.GrantItem("week", 100))
    player.accept(c.ConsumeItem("week", 52))
    result = player.run(c.ConsumeItem("week", 1))
    assert isinstance(result, BoostLimitError)
    assert result.limit_s == MAX_BOOST_TOTAL_SECONDS
    assert player.state.quantity("week") == 48


def test_boosts_survive_a_snapshot_and_a_replay() -> None:
    player = Player()
    player.accept(c.GrantItem("xp-potion", 1))
    player.accept(c.ConsumeItem("xp-potion", 1))
    player.accept(c.GrantItem("chest", 1))
    player.accept(c.ConsumeItem("chest", 1))
    assert state_from_dict(state_to_dict(player.state)) == player.state
    assert player.replayed() == player.state
    assert player.state.boosts == (Boost("xp", 2, rfc3339(NOW + timedelta(hours=1))),)


def test_an_ended_boost_leaves_the_state_when_the_next_one_starts() -> None:
    player = Player()
    player.accept(c.GrantItem("coin-charm", 2))
    player.accept(c.GrantItem("xp-potion", 1))
    player.accept(c.ConsumeItem("coin-charm", 1))
    player.now = NOW + timedelta(minutes=5)
    player.accept(c.ConsumeItem("xp-potion", 1))
    assert [b.metric for b in player.state.boosts] == ["xp"]


@given(st.integers(min_value=0, max_value=10**12), st.sampled_from([1.5, 1.15, 2, 3.3, 10]))
def test_boosted_is_the_exact_product_rounded_down(amount: int, multiplier: float) -> None:
    from fractions import Fraction

    exact = Fraction(repr(multiplier)) * amount
    assert boosted(amount, multiplier) <= exact < boosted(amount, multiplier) + 1


# --- invariants ------------------------------------------------------------------------------

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
consumables = st.sampled_from(["chest", "xp-potion", "big-xp-potion", "coin-charm"])


@PROPERTY
@given(
    st.lists(st.tuples(consumables, st.integers(min_value=1, max_value=5)), max_size=6),
    st.lists(st.integers(min_value=0, max_value=4000), min_size=6, max_size=6),
)
def test_consuming_n_units_at_once_equals_consuming_one_unit_n_times(
    steps: list[tuple[str, int]], pauses: list[int]
) -> None:
    together, apart = Player(), Player()
    for player in (together, apart):
        for item in ("chest", "xp-potion", "big-xp-potion", "coin-charm"):
            player.accept(c.GrantItem(item, 5))
    held = dict.fromkeys(("chest", "xp-potion", "big-xp-potion", "coin-charm"), 5)
    for (item, wanted), pause in zip(steps, pauses, strict=False):
        units = min(wanted, held[item])
        held[item] -= units
        if not units:
            continue
        for player in (together, apart):
            player.now += timedelta(seconds=pause)
        together.accept(c.ConsumeItem(item, units))
        for _ in range(units):
            apart.accept(c.ConsumeItem(item, 1))
        for player in (together, apart):
            player.accept(c.AwardXp(10))
            player.accept(c.Credit("coins", 10))
    a, b = together.state, apart.state
    assert (a.xp, a.level, a.balances, a.inventory, a.counters, a.flags) == (
        b.xp,
        b.level,
        b.balances,
        b.inventory,
        b.counters,
        b.flags,
    )
    assert profile_view(a, ECONOMY, together.now)["boosts"] == profile_view(b, ECONOMY, apart.now)["boosts"]


@PROPERTY
@given(
    st.lists(st.tuples(consumables, st.integers(min_value=1, max_value=3)), max_size=5),
    st.integers(min_value=1, max_value=5),
)
def test_effects_apply_exactly_once_per_unit_and_replay_rebuilds_the_state(
    steps: list[tuple[str, int]], chests: int
) -> None:
    player = Player()
    player.accept(c.GrantItem("chest", chests))
    for item in ("xp-potion", "big-xp-potion", "coin-charm"):
        player.accept(c.GrantItem(item, 5))
    player.accept(c.ConsumeItem("chest", chests))
    for item, units in steps:
        if item != "chest":
            player.run(c.ConsumeItem(item, units))
        player.now += timedelta(minutes=7)
    assert player.state.counters["chests"] == chests
    assert player.state.quantity("gem") == 3 * chests
    assert player.state.balance("coins") == 7 * chests
    assert player.state.xp == 50 * chests
    assert player.replayed() == player.state


@PROPERTY
@given(st.integers(min_value=1, max_value=5), st.integers(min_value=0, max_value=20_000))
def test_a_boost_ends_exactly_duration_times_units_after_consumption(units: int, later_s: int) -> None:
    player = Player()
    player.accept(c.GrantItem("big-xp-potion", units))
    player.accept(c.ConsumeItem("big-xp-potion", units))
    moment = NOW + timedelta(seconds=later_s)
    running = later_s < 600 * units
    assert multiplier_at(player.state.boosts, "xp", moment) == (3 if running else 1)
    assert bool(profile_view(player.state, ECONOMY, moment)["boosts"]) == running


def test_purchase_grants_are_not_boosted_but_quest_rewards_are() -> None:
    economy = parse_economy(
        document(
            skus=[
                {"sku": "coin-pack", "title": "Coins", "price": {"gems": 1}, "grants": {"currencies": {"coins": 100}}}
            ],
            quests=[{"id": "q", "title": "Q", "objectives": [{"id": "o", "target": 1}], "rewards": {"xp": 10}}],
        )
    )
    player = Player(economy)
    for item in ("coin-charm", "xp-potion"):
        player.accept(c.GrantItem(item, 1))
        player.accept(c.ConsumeItem(item, 1))
    player.accept(c.Credit("gems", 1))
    player.accept(c.Purchase("coin-pack", 1))
    assert player.state.balance("coins") == 100
    player.accept(c.ProgressQuest("q", "o", 1))
    assert player.state.xp == 20


def test_the_verifier_counts_what_consuming_a_sold_item_gives() -> None:
    from engine.economy_verify import verify_document

    doc = document(
        skus=[
            {
                "sku": "chest-deal",
                "title": "Chest",
                "price": {"coins": 5},
                "grants": {"items": [{"itemId": "chest", "quantity": 1}]},
            },
        ]
    )
    doc["items"][1]["effects"][1]["amount"] = 6  # a chest gives 6 coins back: buying it mints 1
    arbitrage = [f for f in verify_document(doc) if f.kind == "arbitrage"]
    assert [f.severity for f in arbitrage] == ["error"] and arbitrage[0].path == "skus[0]"
    doc["items"][1]["effects"][1]["amount"] = 4
    assert not [f for f in verify_document(doc) if f.kind == "arbitrage"]


@pytest.mark.parametrize("item_id", [["chest"], {"id": 1}, None, 7])
def test_an_item_with_a_malformed_id_and_effects_is_reported_not_crashed_on(item_id: object) -> None:
    doc = document()
    doc["items"].append({"id": item_id, "stackLimit": 1, "effects": [{"kind": "xp", "amount": 1}]})
    assert any(path == "items[5].id" for path, _ in problems(doc))


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.integers(),
            st.text(max_size=5),
            st.lists(st.integers(), max_size=2),
            st.dictionaries(
                st.sampled_from(
                    [
                        "kind",
                        "amount",
                        "currency",
                        "itemId",
                        "flag",
                        "value",
                        "metric",
                        "multiplier",
                        "durationS",
                        "quantity",
                        "counterId",
                    ]
                ),
                st.one_of(
                    st.none(),
                    st.integers(),
                    st.floats(),
                    st.text(max_size=8),
                    st.booleans(),
                    st.lists(st.integers(), max_size=2),
                ),
                max_size=5,
            ),
        ),
        max_size=4,
    )
)
def test_any_effects_value_parses_or_is_reported_never_crashes(effects: list[Any]) -> None:
    doc = document()
    doc["items"][0]["effects"] = effects
    try:
        economy = parse_economy(doc)
    except DefinitionError as error:
        assert error.problems
    else:
        assert len(economy.items["gem"].effects) == len(effects)
