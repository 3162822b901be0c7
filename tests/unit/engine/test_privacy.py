"""What erasure rewrites: personal values go, everything the economy counts stays, and a
scrubbed journal folds to the same balances, items, counters, quests and achievements."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given

from engine import commands as c
from engine.events import event_to_dict
from engine.privacy import (
    holds_personal_data,
    is_engine_reason,
    scrub_command,
    scrub_events,
    scrub_fields,
    scrub_public_event,
    scrub_state,
)
from engine.rules import replay_record
from engine.state import PlayerState, state_to_dict
from tests.unit.engine.test_properties import PLAYER_ID, PROPERTY_SETTINGS, command_sequences, run


def test_personal_fields_are_emptied_and_the_rest_kept() -> None:
    data = {"currency": "coins", "amount": 5, "balanceAfter": 9, "reason": "gift from Ana", "metadata": {"k": "v"}}
    assert scrub_fields(data) == {"currency": "coins", "amount": 5, "balanceAfter": 9, "reason": "", "metadata": {}}
    assert scrub_fields({"username": "ana", "metadata": {"email": "a@x"}}) == {"username": "", "metadata": {}}
    assert data["reason"] == "gift from Ana", "the input is not changed"


def test_the_reasons_the_engine_writes_name_definitions_and_stay() -> None:
    for reason in ("purchase:potion-pack", "quest:daily-battles", "achievement:first-win"):
        assert is_engine_reason(reason)
        assert scrub_fields({"reason": reason})["reason"] == reason
    for reason in ("daily bonus", "quest: Ana's", "purchase:", "refund for ana@example.com"):
        assert not is_engine_reason(reason)
        assert scrub_fields({"reason": reason})["reason"] == ""


def test_commands_states_and_public_events_are_scrubbed() -> None:
    update = c.command_to_dict(c.UpdatePlayer(username=None, metadata={"city": "Lyon"}))
    assert scrub_command(update) == {"op": "update", "username": None, "metadata": {}}
    assert scrub_command(None) is None
    state = state_to_dict(PlayerState(PLAYER_ID, exists=True, username="ana", metadata={"a": 1}, balances={"c": 3}))
    assert scrub_state(state) == {**state, "username": "", "metadata": {}}
    event = {"id": "evt_1", "type": "player.created", "data": {"username": "ana", "metadata": {}}}
    scrubbed = {"id": "evt_1", "type": "player.created", "data": {"username": "", "metadata": {}}}
    assert scrub_public_event(event) == scrubbed
    assert holds_personal_data(event["data"]) and not holds_personal_data(scrub_public_event(event)["data"])


@PROPERTY_SETTINGS
@given(command_sequences)
def test_a_scrubbed_journal_replays_to_the_same_state_but_the_personal_data(commands: list[c.Command]) -> None:
    journal = run(commands).journal
    live = PlayerState(player_id=PLAYER_ID)
    erased = PlayerState(player_id=PLAYER_ID)
    for seq, events, occurred_at in journal:
        documents = [event_to_dict(event) for event in events]
        live = replay_record(live, seq, documents, occurred_at)
        erased = replay_record(erased, seq, scrub_events(documents), occurred_at)
    assert erased == replace(live, username="", metadata={})
    for _, events, _ in journal:
        for event in scrub_events([event_to_dict(e) for e in events]):
            assert not holds_personal_data(event["data"])
