"""Example-based tests for the player rules (`decide`/`evolve`), idempotency and event codecs."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine import commands as c
from engine import events as e
from engine.definitions import Economy, parse_economy
from engine.errors import (
    IdempotencyKeyReusedError,
    InsufficientFundsError,
    InsufficientItemsError,
    InvalidAmountError,
    InvalidFieldError,
    PlayerExistsError,
    PlayerNotFoundError,
    QuestCompletedError,
    Rejection,
    StackLimitError,
    UnknownCurrencyError,
    UnknownSkuError,
)
from engine.idempotency import IdempotencyRecord, check_idempotency, fingerprint
from engine.rules import Accepted, Context, apply_record, decide, evolve
from engine.state import PlayerState, state_from_dict, state_to_dict

REPO_ROOT = Path(__file__).resolve().parents[3]
DEMO_PATH = REPO_ROOT / "config" / "demo-economy.yaml"
ECONOMY: Economy = parse_economy(yaml.safe_load(DEMO_PATH.read_text(encoding="utf-8")))
PLAYER_ID = "p1"
ENTITY = f"player:acme/demo/{PLAYER_ID}"
NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


class Host:
    """Runs commands the way an actor would: decide, then fold accepted events as one record."""

    def __init__(self, economy: Economy = ECONOMY) -> None:
        self.economy = economy
        self.state = PlayerState(player_id=PLAYER_ID)
        self.journal: list[tuple[int, list[e.Event], str]] = []
        self.clock = NOW

    def context(self) -> Context:
        return Context(now=self.clock, economy=self.economy, entity=ENTITY)

    def run(self, command: c.Command) -> Accepted | Rejection:
        ctx = self.context()
        result = decide(self.state, command, ctx)
        if isinstance(result, Accepted) and result.events:
            seq = self.state.seq + 1
            self.state = apply_record(self.state, seq, list(result.events), ctx.occurred_at)
            self.journal.append((seq, list(result.events), ctx.occurred_at))
        self.clock += timedelta(seconds=1)
        return result

    def accept(self, command: c.Command) -> Accepted:
        result = self.run(command)
        assert isinstance(result, Accepted), result
        return result

    def reject(self, command: c.Command) -> Rejection:
        before = self.state
        result = self.run(command)
        assert isinstance(result, Rejection), result
        assert self.state == before
        return result


def created_host() -> Host:
    host = Host()
    host.accept(c.CreatePlayer("alice", {"team": "red"}))
    return host


def types_of(result: Accepted) -> list[str]:
    return [event.type for event in result.events]


# --- creating players ---------------------------------------------------------------------


def test_create_player_emits_player_created_and_reports_created() -> None:
    host = Host()
    result = host.accept(c.CreatePlayer("alice", {"team": "red"}))
    assert result.created is True
    assert types_of(result) == ["player.created"]
    assert result.body is not None
    assert result.body["playerId"] == PLAYER_ID
    assert result.body["username"] == "alice"
    assert result.body["metadata"] == {"team": "red"}
    assert result.body["createdAt"] == "2024-05-01T12:00:00.000Z"
    assert host.state.is_active
    assert host.state.seq == 1


def test_create_player_again_with_same_body_is_accepted_without_events() -> None:
    host = created_host()
    result = host.accept(c.CreatePlayer("alice", {"team": "red"}))
    assert result.events == ()
    assert result.created is False
    assert result.body is not None
    assert result.body["username"] == "alice"
    assert host.state.seq == 1


def test_create_player_again_with_different_body_is_rejected_as_existing() -> None:
    host = created_host()
    assert host.reject(c.CreatePlayer("bob", {"team": "red"})) == PlayerExistsError(PLAYER_ID)
    assert host.reject(c.CreatePlayer("alice", {"team": "blue"})) == PlayerExistsError(PLAYER_ID)


@pytest.mark.parametrize(
    "command",
    [
        c.AwardXp(10),
        c.Credit("coins", 10),
        c.Debit("coins", 10),
        c.GrantItem("potion", 1),
        c.ConsumeItem("potion", 1),
        c.IncrementCounter("wins"),
        c.ResetCounter("wins"),
        c.ProgressQuest("daily-battles", "battles"),
        c.Purchase("potion-pack"),
        c.UpdatePlayer(username="zed"),
        c.DeletePlayer(),
    ],
)
def test_commands_on_a_missing_player_are_rejected_as_not_found(command: c.Command) -> None:
    host = Host()
    assert host.reject(command) == PlayerNotFoundError(PLAYER_ID)


@pytest.mark.parametrize(
    "command",
    [c.AwardXp(10), c.Credit("coins", 10), c.GrantItem("potion", 1), c.Purchase("potion-pack"), c.DeletePlayer()],
)
def test_commands_on_a_deleted_player_are_rejected_as_not_found(command: c.Command) -> None:
    host = created_host()
    host.accept(c.DeletePlayer())
    assert host.reject(command) == PlayerNotFoundError(PLAYER_ID)


# --- progression --------------------------------------------------------------------------


def test_xp_award_crossing_several_levels_emits_one_levelup_per_level() -> None:
    host = created_host()
    result = host.accept(c.AwardXp(460, reason="boss"))
    assert result.body == {
        "xp": 460,
        "level": 4,
        "leveledUp": True,
        "levelsGained": 3,
        "nextLevelXp": 700,
    }
    assert types_of(result) == [
        "player.xp.added",
        "player.levelup",
        "player.levelup",
        "player.levelup",
        "player.level.updated",
    ]
    assert [ev.level for ev in result.events if isinstance(ev, e.LevelReached)] == [2, 3, 4]
    assert result.events[-1] == e.LevelUpdated(level=4, previous_level=1)
    assert host.state.xp == 460
    assert host.state.level == 4


def test_xp_award_within_a_level_emits_no_level_events() -> None:
    host = created_host()
    result = host.accept(c.AwardXp(50))
    assert types_of(result) == ["player.xp.added"]
    assert result.body is not None
    assert result.body["leveledUp"] is False
    assert result.body["levelsGained"] == 0


def test_xp_award_at_max_level_adds_xp_but_no_levels() -> None:
    host = created_host()
    host.accept(c.AwardXp(5000))
    assert host.state.level == ECONOMY.xp_curve.max_level == 10
    result = host.accept(c.AwardXp(1000))
    assert types_of(result) == ["player.xp.added"]
    assert result.body == {"xp": 6000, "level": 10, "leveledUp": False, "levelsGained": 0, "nextLevelXp": None}


def test_xp_award_reaching_max_level_exactly_reports_no_next_level() -> None:
    host = created_host()
    result = host.accept(c.AwardXp(3200))
    assert result.body is not None
    assert result.body["level"] == 10
    assert result.body["levelsGained"] == 9
    assert result.body["nextLevelXp"] is None


# --- wallet -------------------------------------------------------------------------------


def test_credit_adds_to_balance_and_reports_it() -> None:
    host = created_host()
    result = host.accept(c.Credit("coins", 120, reason="quest"))
    assert result.events == (e.WalletCredited("coins", 120, 120, "quest", {}),)
    assert result.body is not None
    assert result.body["currency"] == "coins"
    assert result.body["balance"] == 120
    assert host.state.balance("coins") == 120
    assert host.state.earned == {"coins": 120}


def test_debit_subtracts_from_balance() -> None:
    host = created_host()
    host.accept(c.Credit("coins", 120))
    result = host.accept(c.Debit("coins", 20))
    assert result.events == (e.WalletDebited("coins", 20, 100, "", {}),)
    assert result.body is not None
    assert result.body["balance"] == 100
    assert host.state.spent == {"coins": 20}


def test_debit_of_whole_balance_leaves_zero() -> None:
    host = created_host()
    host.accept(c.Credit("gems", 7))
    host.accept(c.Debit("gems", 7))
    assert host.state.balance("gems") == 0


def test_debit_rejects_amount_greater_than_balance() -> None:
    host = created_host()
    host.accept(c.Credit("coins", 30))
    rejection = host.reject(c.Debit("coins", 31))
    assert isinstance(rejection, InsufficientFundsError)
    assert (rejection.currency, rejection.balance, rejection.amount) == ("coins", 30, 31)
    assert rejection.slug == "insufficient-funds"


def test_debit_on_empty_wallet_reports_zero_balance() -> None:
    host = created_host()
    assert host.reject(c.Debit("gems", 1)) == InsufficientFundsError("gems", 0, 1)


@pytest.mark.parametrize("command", [c.Credit("gold", 10), c.Debit("gold", 10)])
def test_wallet_commands_reject_unknown_currency(command: c.Command) -> None:
    host = created_host()
    assert host.reject(command) == UnknownCurrencyError("gold")


@pytest.mark.parametrize("amount", [0, -5, True, 1.5, 10.0, "10", None])
@pytest.mark.parametrize(
    "make",
    [
        lambda amount: c.Credit("coins", amount),
        lambda amount: c.Debit("coins", amount),
        lambda amount: c.AwardXp(amount),
        lambda amount: c.GrantItem("potion", amount),
        lambda amount: c.ConsumeItem("potion", amount),
        lambda amount: c.IncrementCounter("wins", amount),
        lambda amount: c.ProgressQuest("daily-battles", "battles", amount),
        lambda amount: c.Purchase("potion-pack", amount),
    ],
    ids=["credit", "debit", "xp", "grant", "consume", "increment", "progress", "purchase"],
)
def test_amounts_that_are_not_positive_integers_are_rejected_as_invalid(make: Any, amount: Any) -> None:
    host = created_host()
    host.accept(c.Credit("coins", 1000))
    host.accept(c.GrantItem("potion", 5))
    rejection = host.reject(make(amount))
    assert isinstance(rejection, InvalidAmountError)
    assert rejection.value is amount


def test_credit_ledger_entry_id_is_the_event_id_of_the_wallet_event() -> None:
    host = created_host()
    result = host.accept(c.Credit("coins", 10))
    seq = host.state.seq
    assert seq == 2
    assert result.body is not None
    assert result.body["entryId"] == e.event_id(ENTITY, seq, 0)
    assert re.fullmatch(r"evt_[0-9a-f]{24}", result.body["entryId"])


def test_debit_ledger_entry_ids_differ_between_records() -> None:
    host = created_host()
    first = host.accept(c.Credit("coins", 10))
    second = host.accept(c.Debit("coins", 5))
    assert first.body is not None and second.body is not None
    assert second.body["entryId"] == e.event_id(ENTITY, host.state.seq, 0)
    assert first.body["entryId"] != second.body["entryId"]


# --- inventory ----------------------------------------------------------------------------


def test_grant_item_adds_to_inventory() -> None:
    host = created_host()
    result = host.accept(c.GrantItem("potion", 3))
    assert result.events == (e.ItemGranted("potion", 3, 3, ""),)
    assert result.body == {"itemId": "potion", "quantity": 3}


def test_grant_item_over_stack_limit_is_rejected() -> None:
    host = created_host()
    host.accept(c.GrantItem("sword", 1))
    rejection = host.reject(c.GrantItem("sword", 1))
    assert rejection == StackLimitError("sword", stack_limit=1, quantity=1, requested=1)


def test_grant_item_of_more_than_stack_limit_at_once_is_rejected() -> None:
    host = created_host()
    assert host.reject(c.GrantItem("potion", 100)) == StackLimitError("potion", 99, 0, 100)


def test_consume_more_than_held_is_rejected() -> None:
    host = created_host()
    host.accept(c.GrantItem("potion", 2))
    assert host.reject(c.ConsumeItem("potion", 3)) == InsufficientItemsError("potion", quantity=2, requested=3)


def test_consume_everything_removes_the_inventory_entry() -> None:
    host = created_host()
    host.accept(c.GrantItem("potion", 2))
    result = host.accept(c.ConsumeItem("potion", 2))
    assert result.body == {"itemId": "potion", "quantity": 0}
    assert "potion" not in host.state.inventory


# --- counters and achievements --------------------------------------------------------------


def test_first_increment_unlocks_first_win() -> None:
    host = created_host()
    result = host.accept(c.IncrementCounter("wins"))
    assert result.body == {"counterId": "wins", "value": 1, "unlocked": ["first-win"]}
    assert "first-win" in host.state.achievements


def test_counter_increment_unlocks_first_win_and_ten_wins_in_one_decision() -> None:
    host = created_host()
    result = host.accept(c.IncrementCounter("wins", by=10))
    assert result.body == {"counterId": "wins", "value": 10, "unlocked": ["first-win", "ten-wins"]}
    assert types_of(result) == ["counter.incremented", "achievement.unlocked", "achievement.unlocked"]
    assert set(host.state.achievements) == {"first-win", "ten-wins"}


def test_unlocked_achievements_are_not_unlocked_again() -> None:
    host = created_host()
    host.accept(c.IncrementCounter("wins"))
    result = host.accept(c.IncrementCounter("wins"))
    assert result.body is not None
    assert result.body["unlocked"] == []
    assert types_of(result) == ["counter.incremented"]


def test_reset_counter_sets_it_to_zero_and_keeps_achievements() -> None:
    host = created_host()
    host.accept(c.IncrementCounter("wins", by=4))
    result = host.accept(c.ResetCounter("wins"))
    assert result.body == {"counterId": "wins", "value": 0}
    assert host.state.counters["wins"] == 0
    assert "first-win" in host.state.achievements
    again = host.accept(c.IncrementCounter("wins"))
    assert again.body == {"counterId": "wins", "value": 1, "unlocked": []}


# --- quests -------------------------------------------------------------------------------


def test_quest_completes_at_target_and_pays_reward_in_the_same_decision() -> None:
    host = created_host()
    host.accept(c.ProgressQuest("daily-battles", "battles"))
    host.accept(c.ProgressQuest("daily-battles", "battles"))
    assert host.state.balance("coins") == 0
    result = host.accept(c.ProgressQuest("daily-battles", "battles"))
    assert types_of(result) == ["quest.progressed", "quest.completed", "wallet.credited"]
    assert result.body is not None
    assert result.body["completed"] is True
    assert result.body["objectives"] == [{"objectiveId": "battles", "progress": 3, "target": 3}]
    assert host.state.balance("coins") == 50
    assert host.state.quests["daily-battles"].completed_at == result.body["completedAt"]


def test_quest_progress_is_capped_at_target() -> None:
    host = created_host()
    result = host.accept(c.ProgressQuest("daily-battles", "battles", by=7))
    assert result.body is not None
    assert result.body["objectives"][0]["progress"] == 3
    assert host.state.balance("coins") == 50


def test_progress_on_a_completed_quest_is_rejected() -> None:
    host = created_host()
    host.accept(c.ProgressQuest("daily-battles", "battles", by=3))
    assert host.reject(c.ProgressQuest("daily-battles", "battles")) == QuestCompletedError("daily-battles")
    assert host.state.balance("coins") == 50


# --- store --------------------------------------------------------------------------------


def test_purchase_debits_price_grants_items_and_returns_a_receipt() -> None:
    host = created_host()
    host.accept(c.Credit("coins", 150))
    result = host.accept(c.Purchase("potion-pack"))
    seq = host.state.seq
    assert result.created is True
    assert result.body == {
        "purchaseId": e.purchase_id(ENTITY, seq),
        "sku": "potion-pack",
        "quantity": 1,
        "price": {"coins": 100},
        "grants": {"items": [{"itemId": "potion", "quantity": 5}]},
        "balances": {"coins": 50},
        "occurredAt": host.journal[-1][2],
    }
    assert types_of(result) == ["wallet.debited", "item.granted", "store.purchase.succeeded"]
    assert host.state.balance("coins") == 50
    assert host.state.quantity("potion") == 5
    assert host.state.purchases == 1


def test_purchase_of_several_multiplies_price_and_grants() -> None:
    host = created_host()
    host.accept(c.Credit("coins", 300))
    result = host.accept(c.Purchase("potion-pack", quantity=3))
    assert result.body is not None
    assert result.body["price"] == {"coins": 300}
    assert result.body["grants"] == {"items": [{"itemId": "potion", "quantity": 15}]}
    assert host.state.balance("coins") == 0
    assert host.state.quantity("potion") == 15


def test_purchase_with_insufficient_funds_changes_nothing() -> None:
    host = created_host()
    host.accept(c.Credit("coins", 99))
    before = state_to_dict(host.state)
    rejection = host.reject(c.Purchase("potion-pack"))
    assert rejection == InsufficientFundsError("coins", 99, 100)
    assert state_to_dict(host.state) == before
    assert host.state.quantity("potion") == 0


def test_starter_bundle_grants_xp_items_and_currency() -> None:
    host = created_host()
    host.accept(c.Credit("gems", 10))
    result = host.accept(c.Purchase("starter-bundle"))
    assert result.body is not None
    assert result.body["balances"] == {"gems": 0, "coins": 500}
    assert result.body["grants"] == {
        "xp": 200,
        "items": [{"itemId": "sword", "quantity": 1}],
        "currencies": {"coins": 500},
    }
    assert host.state.quantity("sword") == 1
    assert host.state.xp == 200
    assert host.state.level == 2


def test_starter_bundle_when_player_holds_a_sword_is_rejected_without_debit() -> None:
    host = created_host()
    host.accept(c.Credit("gems", 10))
    host.accept(c.GrantItem("sword", 1))
    before = host.state
    rejection = host.reject(c.Purchase("starter-bundle"))
    assert rejection == StackLimitError("sword", 1, 1, 1)
    assert host.state == before
    assert host.state.balance("gems") == 10
    assert host.state.balance("coins") == 0
    assert host.state.xp == 0
    assert host.state.purchases == 0


def test_purchase_of_unknown_sku_is_rejected() -> None:
    host = created_host()
    assert host.reject(c.Purchase("mystery-box")) == UnknownSkuError("mystery-box")


# --- evolve -------------------------------------------------------------------------------


def test_replaying_decided_events_through_evolve_rebuilds_the_state() -> None:
    host = created_host()
    for command in [
        c.Credit("coins", 500),
        c.AwardXp(460),
        c.Purchase("potion-pack", 2),
        c.ConsumeItem("potion", 3),
        c.IncrementCounter("wins", 10),
        c.ProgressQuest("daily-battles", "battles", 3),
        c.ResetCounter("wins"),
        c.UpdatePlayer(username="alicia"),
    ]:
        host.accept(command)
    replayed = PlayerState(player_id=PLAYER_ID)
    for seq, events, occurred_at in host.journal:
        for event in events:
            replayed = evolve(replayed, event, occurred_at)
        replayed = dataclasses.replace(replayed, seq=seq)
    assert replayed == host.state
    assert state_from_dict(state_to_dict(host.state)) == host.state


def test_evolve_rejects_unknown_event_types() -> None:
    @dataclasses.dataclass(frozen=True)
    class Strange(e.Event):
        type = "strange"

    with pytest.raises(TypeError):
        evolve(PlayerState(PLAYER_ID), Strange(), "2024-01-01T00:00:00.000Z")


# --- idempotency --------------------------------------------------------------------------


def test_fingerprint_is_stable_for_equal_commands() -> None:
    first = c.Credit("coins", 10, reason="r", metadata={"a": 1, "b": 2})
    second = c.Credit("coins", 10, reason="r", metadata={"b": 2, "a": 1})
    assert fingerprint(first) == fingerprint(second)
    assert re.fullmatch(r"[0-9a-f]{64}", fingerprint(first))


@pytest.mark.parametrize(
    "other",
    [
        c.Credit("coins", 11),
        c.Credit("gems", 10),
        c.Credit("coins", 10, reason="x"),
        c.Credit("coins", 10, metadata={"k": 1}),
        c.Debit("coins", 10),
    ],
)
def test_fingerprint_differs_for_different_commands(other: c.Command) -> None:
    assert fingerprint(c.Credit("coins", 10)) != fingerprint(other)


def _record(recorded_at: datetime = NOW) -> IdempotencyRecord:
    return IdempotencyRecord(
        key="key-1",
        fingerprint=fingerprint(c.Credit("coins", 10)),
        outcome={"status": 200, "body": {"balance": 10}},
        recorded_at=recorded_at,
    )


def test_check_idempotency_replays_the_outcome_for_the_same_request() -> None:
    record = _record()
    outcome = check_idempotency(record, fingerprint(c.Credit("coins", 10)), NOW + timedelta(hours=1))
    assert outcome == {"status": 200, "body": {"balance": 10}}


def test_check_idempotency_returns_none_for_a_new_key() -> None:
    assert check_idempotency(None, fingerprint(c.Credit("coins", 10)), NOW) is None


def test_check_idempotency_rejects_a_key_reused_for_another_request() -> None:
    with pytest.raises(IdempotencyKeyReusedError) as caught:
        check_idempotency(_record(), fingerprint(c.Credit("coins", 11)), NOW)
    assert caught.value.idempotency_key == "key-1"


def test_check_idempotency_treats_an_expired_record_as_new() -> None:
    record = _record()
    later = NOW + timedelta(days=7, seconds=1)
    assert check_idempotency(record, fingerprint(c.Credit("coins", 11)), later) is None
    assert check_idempotency(record, fingerprint(c.Credit("coins", 10)), later) is None


def test_check_idempotency_keeps_a_record_until_retention_ends() -> None:
    record = _record()
    assert check_idempotency(record, record.fingerprint, NOW + timedelta(days=7)) == record.outcome
    short = timedelta(minutes=5)
    assert check_idempotency(record, record.fingerprint, NOW + timedelta(minutes=6), short) is None


# --- event codecs -------------------------------------------------------------------------

SAMPLE_EVENTS: dict[str, e.Event] = {
    "player.created": e.PlayerCreated("alice", {"team": "red"}),
    "player.updated": e.PlayerUpdated("alicia", {"team": "blue"}),
    "player.deleted": e.PlayerDeleted(),
    "player.xp.added": e.XpAdded(amount=10, xp=110, reason="win"),
    "player.levelup": e.LevelReached(level=2),
    "player.level.updated": e.LevelUpdated(level=2, previous_level=1),
    "wallet.credited": e.WalletCredited("coins", 5, 15, "gift", {"by": "admin"}),
    "wallet.debited": e.WalletDebited("coins", 5, 10, "shop", {"order": 7}),
    "item.granted": e.ItemGranted("potion", 2, 4, "loot"),
    "item.consumed": e.ItemConsumed("potion", 1, 3, "drink"),
    "counter.incremented": e.CounterIncremented("wins", 2, 5),
    "counter.reset": e.CounterReset("wins"),
    "quest.progressed": e.QuestProgressed("daily-battles", "battles", 1, 2),
    "quest.completed": e.QuestCompleted("daily-battles"),
    "achievement.unlocked": e.AchievementUnlocked("first-win"),
    "store.purchase.succeeded": e.PurchaseSucceeded(
        "pur_1", "potion-pack", 2, {"coins": 200}, {"items": [{"itemId": "potion", "quantity": 10}]}
    ),
    "leaderboard.score.submitted": e.ScoreSubmitted("high-score", 4200, "all", {"level": "3-2"}),
    "player.boost.started": e.BoostStarted("xp", 2, "2026-01-01T01:00:00.000Z", "xp-potion"),
    "player.flag.set": e.FlagSet("vip", True, "vip-pass"),
    "economy.guardrail.counted": e.GuardrailCounted({"coin-cap": 1_700_000_000}, {"coin-cap": 40}),
    "economy.guardrail.tripped": e.GuardrailTripped("coin-cap", "refuse", "player", "coins", "", 5, 100, 100, "hour"),
    "wallet.clawedback": e.WalletClawedBack("coins", 50, 30, 0, 20, "remediation:rem_1", {}),
    "wallet.debt.repaid": e.DebtRepaid("coins", 20, 5, 0, "match-won"),
    "item.clawedback": e.ItemClawedBack("potion", 2, 0, 1, "remediation:rem_1"),
    "achievement.revoked": e.AchievementRevoked("first-win", "remediation:rem_1"),
}


def test_sample_events_cover_every_event_type() -> None:
    assert set(SAMPLE_EVENTS) == set(e.EVENT_TYPES)
    for type_name, event in SAMPLE_EVENTS.items():
        assert type(event) is e.EVENT_TYPES[type_name]


@pytest.mark.parametrize("type_name", sorted(e.EVENT_TYPES))
def test_event_round_trips_through_its_dict_form(type_name: str) -> None:
    event = SAMPLE_EVENTS[type_name]
    document = e.event_to_dict(event)
    assert document["type"] == type_name
    assert e.event_from_dict(document) == event


@pytest.mark.parametrize("type_name", sorted(e.EVENT_TYPES))
def test_event_data_is_a_copy_of_every_field(type_name: str) -> None:
    event = SAMPLE_EVENTS[type_name]
    data = e.event_to_dict(event)["data"]
    assert list(data.values()) == list(dataclasses.asdict(event).values())
    before = dataclasses.asdict(event)
    for value in data.values():
        if isinstance(value, dict):
            value["mutated"] = True  # the journal's copy must not reach into the event
    assert dataclasses.asdict(event) == before


@pytest.mark.parametrize("type_name", sorted(e.EVENT_TYPES))
def test_event_data_keys_are_camel_case(type_name: str) -> None:
    document = e.event_to_dict(SAMPLE_EVENTS[type_name])
    for key in document["data"]:
        assert re.fullmatch(r"[a-z][a-zA-Z0-9]*", key), key


def test_event_data_uses_the_public_field_names() -> None:
    assert e.event_to_dict(SAMPLE_EVENTS["wallet.credited"])["data"] == {
        "currency": "coins",
        "amount": 5,
        "balanceAfter": 15,
        "reason": "gift",
        "metadata": {"by": "admin"},
    }
    assert e.event_to_dict(SAMPLE_EVENTS["player.level.updated"])["data"] == {"level": 2, "previousLevel": 1}
    assert e.event_to_dict(SAMPLE_EVENTS["store.purchase.succeeded"])["data"]["purchaseId"] == "pur_1"
    assert e.event_to_dict(SAMPLE_EVENTS["item.granted"])["data"]["itemId"] == "potion"


def test_event_from_dict_fills_defaults_for_missing_optional_fields() -> None:
    event = e.event_from_dict(
        {"type": "wallet.credited", "data": {"currency": "coins", "amount": 1, "balanceAfter": 1}}
    )
    assert event == e.WalletCredited("coins", 1, 1)


def test_event_ids_are_stable_and_positional() -> None:
    assert e.event_id(ENTITY, 3, 0) == e.event_id(ENTITY, 3, 0)
    assert len({e.event_id(ENTITY, 3, 0), e.event_id(ENTITY, 3, 1), e.event_id(ENTITY, 4, 0)}) == 3


@pytest.mark.parametrize("username", ["", "   ", "x" * 65, "bad\x00name", "tab\tname"])
def test_usernames_that_are_empty_too_long_or_have_control_characters_are_refused(username: str) -> None:
    rejection = Host().reject(c.CreatePlayer(username))
    assert isinstance(rejection, InvalidFieldError) and rejection.field == "username"
