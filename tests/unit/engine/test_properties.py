"""Properties of the player rules over random command sequences, run the way a host runs them:
decide, then fold each accepted command that has events as one journal record."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import commands as c
from engine import events as e
from engine.definitions import Economy, parse_economy
from engine.errors import InsufficientFundsError, Rejection, StackLimitError
from engine.rules import Accepted, Context, apply_record, decide, state_after
from engine.state import PlayerState, state_from_dict, state_to_dict, with_changes

REPO_ROOT = Path(__file__).resolve().parents[3]
DEMO_PATH = REPO_ROOT / "config" / "demo-economy.yaml"
ECONOMY: Economy = parse_economy(yaml.safe_load(DEMO_PATH.read_text(encoding="utf-8")))
PLAYER_ID = "p1"
ENTITY = f"player:acme/demo/{PLAYER_ID}"
START = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)

PROPERTY_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- strategies -----------------------------------------------------------------------------

currencies = st.sampled_from(["coins", "coins", "gems", "gold"])
items = st.sampled_from(["sword", "potion", "potion", "shield"])
counters = st.sampled_from(["wins", "wins", "wins", "losses"])
quests = st.sampled_from(["daily-battles", "daily-battles", "weekly-raids"])
objectives = st.sampled_from(["battles", "battles", "raids"])
skus = st.sampled_from(["potion-pack", "potion-pack", "starter-bundle", "mystery-box"])


def small(maximum: int) -> st.SearchStrategy[int]:
    """Mostly valid amounts, with the occasional zero or negative one to be rejected."""
    return st.integers(-1, maximum * 10).map(lambda n: n if n <= 0 else 1 + n % maximum)


credits = st.builds(c.Credit, currencies, small(400))
player_commands: st.SearchStrategy[c.Command] = st.one_of(
    st.builds(c.AwardXp, small(600)),
    credits,
    credits,
    st.builds(c.Debit, currencies, small(80)),
    st.builds(c.GrantItem, items, small(30)),
    st.builds(c.ConsumeItem, items, small(10)),
    st.builds(c.IncrementCounter, counters, small(6)),
    st.builds(c.ResetCounter, counters),
    st.builds(c.ProgressQuest, quests, objectives, small(3)),
    st.builds(c.Purchase, skus, small(3)),
    st.builds(c.Purchase, skus, small(3)),
)

# Some early funding so purchases and debits get accepted often enough to matter.
funding = st.lists(st.builds(c.Credit, st.sampled_from(["coins", "gems"]), st.integers(1, 500)), max_size=3)

command_sequences = st.tuples(funding, st.lists(player_commands, min_size=1, max_size=40)).map(
    lambda parts: [c.CreatePlayer("alice", {"team": "red"}), *parts[0], *parts[1]]
)


# --- a minimal host -------------------------------------------------------------------------


@dataclass
class Step:
    command: c.Command
    before: PlayerState
    result: Accepted | Rejection
    after: PlayerState


@dataclass
class Run:
    state: PlayerState
    journal: list[tuple[int, list[e.Event], str]] = field(default_factory=list)
    ledger: list[e.WalletCredited | e.WalletDebited] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)


def run(commands: list[c.Command]) -> Run:
    result_run = Run(state=PlayerState(player_id=PLAYER_ID))
    now = START
    for command in commands:
        ctx = Context(now=now, economy=ECONOMY, entity=ENTITY)
        before = result_run.state
        result = decide(before, command, ctx)
        if isinstance(result, Accepted) and result.events:
            seq = before.seq + 1
            events = list(result.events)
            result_run.state = apply_record(before, seq, events, ctx.occurred_at)
            result_run.journal.append((seq, events, ctx.occurred_at))
            result_run.ledger.extend(ev for ev in events if isinstance(ev, e.WalletCredited | e.WalletDebited))
        result_run.steps.append(Step(command, before, result, result_run.state))
        now += timedelta(milliseconds=1500)
    return result_run


def ledger_delta(entry: e.WalletCredited | e.WalletDebited) -> int:
    return entry.amount if isinstance(entry, e.WalletCredited) else -entry.amount


# --- properties -----------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(command_sequences)
def test_every_balance_is_the_sum_of_its_ledger_and_never_negative(commands: list[c.Command]) -> None:
    outcome = run(commands)
    sums: Counter[str] = Counter()
    for entry in outcome.ledger:
        sums[entry.currency] += ledger_delta(entry)
        assert entry.balance_after == sums[entry.currency]
        assert entry.balance_after >= 0
    for currency in ECONOMY.currencies:
        assert outcome.state.balance(currency) == sums[currency]
        assert outcome.state.balance(currency) >= 0
    assert set(outcome.state.balances) <= set(ECONOMY.currencies)
    for step in outcome.steps:
        assert all(amount >= 0 for amount in step.after.balances.values())


@PROPERTY_SETTINGS
@given(command_sequences)
def test_every_inventory_quantity_stays_within_its_stack_limit(commands: list[c.Command]) -> None:
    for step in run(commands).steps:
        for item_id, quantity in step.after.inventory.items():
            assert item_id in ECONOMY.items
            assert 1 <= quantity <= ECONOMY.items[item_id].stack_limit


@PROPERTY_SETTINGS
@given(command_sequences)
def test_level_always_matches_the_xp_curve(commands: list[c.Command]) -> None:
    for step in run(commands).steps:
        assert step.after.level == ECONOMY.xp_curve.level_for(step.after.xp)
        assert 1 <= step.after.level <= ECONOMY.xp_curve.max_level


@PROPERTY_SETTINGS
@given(command_sequences)
def test_a_rejected_command_changes_nothing_and_an_accepted_one_bumps_seq_once(commands: list[c.Command]) -> None:
    for step in run(commands).steps:
        if isinstance(step.result, Rejection):
            assert step.after == step.before
        elif step.result.events:
            assert step.after.seq == step.before.seq + 1
        else:
            assert step.after == step.before


@PROPERTY_SETTINGS
@given(command_sequences)
def test_a_purchase_is_all_or_nothing(commands: list[c.Command]) -> None:
    for step in run(commands).steps:
        command = step.command
        if not isinstance(command, c.Purchase) or command.sku not in ECONOMY.skus:
            continue
        sku = ECONOMY.skus[command.sku]
        before, after, quantity = step.before, step.after, command.quantity
        if isinstance(step.result, Rejection):
            assert after == before
            if isinstance(quantity, int) and quantity >= 1:
                # A valid purchase is refused only when it could not be paid for or delivered in full.
                short = any(before.balance(cur) < price * quantity for cur, price in sku.price.items())
                over = any(
                    before.quantity(g.item_id) + g.quantity * quantity > ECONOMY.items[g.item_id].stack_limit
                    for g in sku.grants.items
                )
                assert short or over
                assert isinstance(step.result, InsufficientFundsError | StackLimitError)
            continue
        for currency in ECONOMY.currencies:
            expected = (
                before.balance(currency)
                - sku.price.get(currency, 0) * quantity
                + sku.grants.currencies.get(currency, 0) * quantity
            )
            assert after.balance(currency) == expected
        granted = {g.item_id: g.quantity * quantity for g in sku.grants.items}
        for item_id in ECONOMY.items:
            assert after.quantity(item_id) == before.quantity(item_id) + granted.get(item_id, 0)
        assert after.xp == before.xp + sku.grants.xp * quantity
        assert after.purchases == before.purchases + 1
        body = step.result.body
        assert body is not None
        assert body["balances"] == dict(after.balances)
        assert body["purchaseId"] == e.purchase_id(ENTITY, after.seq)


@PROPERTY_SETTINGS
@given(command_sequences)
def test_replaying_the_journal_rebuilds_the_live_state(commands: list[c.Command]) -> None:
    outcome = run(commands)
    assert [seq for seq, _, _ in outcome.journal] == list(range(1, len(outcome.journal) + 1))

    replayed = PlayerState(player_id=PLAYER_ID)
    for seq, events, occurred_at in outcome.journal:
        replayed = apply_record(replayed, seq, events, occurred_at)
    assert replayed == outcome.state

    # The journal as stored: each event in its JSON `{type, data}` form.
    stored = json.dumps(
        [(seq, [e.event_to_dict(ev) for ev in events], at) for seq, events, at in outcome.journal],
    )
    decoded = PlayerState(player_id=PLAYER_ID)
    for seq, documents, occurred_at in json.loads(stored):
        decoded = apply_record(decoded, seq, [e.event_from_dict(doc) for doc in documents], occurred_at)
    assert decoded == outcome.state

    assert state_from_dict(state_to_dict(outcome.state)) == outcome.state
    snapshot = json.loads(json.dumps(state_to_dict(outcome.state)))
    assert state_from_dict(snapshot) == outcome.state


@PROPERTY_SETTINGS
@given(command_sequences, st.integers(0, 40))
def test_replaying_from_a_snapshot_plus_the_rest_of_the_journal_rebuilds_the_live_state(
    commands: list[c.Command], cut: int
) -> None:
    outcome = run(commands)
    cut = min(cut, len(outcome.journal))
    state = PlayerState(player_id=PLAYER_ID)
    for seq, events, occurred_at in outcome.journal[:cut]:
        state = apply_record(state, seq, events, occurred_at)
    state = state_from_dict(json.loads(json.dumps(state_to_dict(state))))
    for seq, events, occurred_at in outcome.journal[cut:]:
        state = apply_record(state, seq, events, occurred_at)
    assert state == outcome.state


@PROPERTY_SETTINGS
@given(command_sequences)
def test_wallet_entry_ids_name_the_wallet_event_in_the_journal(commands: list[c.Command]) -> None:
    for step in run(commands).steps:
        if not isinstance(step.command, c.Credit | c.Debit) or not isinstance(step.result, Accepted):
            continue
        body = step.result.body
        assert body is not None
        index = next(i for i, ev in enumerate(step.result.events) if isinstance(ev, e.WalletCredited | e.WalletDebited))
        assert body["entryId"] == e.event_id(ENTITY, step.after.seq, index)
        assert body["balance"] == step.after.balance(step.command.currency)


state_changes = st.fixed_dictionaries(
    {},
    optional={
        "xp": st.integers(0, 10**9),
        "username": st.text(max_size=8),
        "balances": st.dictionaries(currencies, st.integers(0, 10**6)),
        "seq": st.integers(0, 10**6),
        "deleted": st.booleans(),
    },
)


@PROPERTY_SETTINGS
@given(command_sequences, state_changes)
def test_with_changes_is_dataclasses_replace(commands: list[c.Command], changes: dict[str, object]) -> None:
    state = run(commands).state
    changed = with_changes(state, **changes)
    assert changed == replace(state, **changes)
    assert changed is not state and state == run(commands).state  # the original is untouched


def test_with_changes_refuses_a_field_the_state_does_not_have() -> None:
    with pytest.raises(TypeError, match="balance"):
        with_changes(PlayerState(player_id="p1"), balance=3)


@PROPERTY_SETTINGS
@given(command_sequences)
def test_the_snapshot_form_is_asdict_and_shares_nothing_with_the_state(commands: list[c.Command]) -> None:
    state = run(commands).state
    snapshot = state_to_dict(state)
    expected = asdict(state)
    for optional in ("guardrail_windows", "flags"):  # left out when empty: older snapshots stay equal
        if not expected[optional]:
            del expected[optional]
    assert snapshot == expected
    for value in snapshot.values():
        if isinstance(value, dict):
            value["mutated"] = {"mutated": True}
    assert asdict(state) == asdict(run(commands).state)


@PROPERTY_SETTINGS
@given(command_sequences)
def test_the_state_decide_reaches_is_the_state_its_record_replays_to(commands: list[c.Command]) -> None:
    outcome = run(commands)  # folds every record with apply_record
    for step in outcome.steps:
        if isinstance(step.result, Accepted) and step.result.events:
            assert step.result.state is not None
            assert state_after(step.before, step.result, step.before.seq + 1, "unused") == step.after
