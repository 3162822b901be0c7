"""Every journal format Ludex ever wrote still folds to the state the code that wrote it computed
(fixtures: tests/fixtures/journal-formats/format-N.json, made by make_journal_format.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.formats import RECORD_FORMAT, FormatTooNewError, record_format, upcast_events
from engine.project import ProjectState, replay_project
from engine.rules import replay_record
from engine.state import PlayerState, state_to_dict

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "journal-formats"


def load(version: int) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((FIXTURES / f"format-{version}.json").read_text())
    return document


def fold(player: str, records: list[dict[str, Any]]) -> PlayerState:
    state = PlayerState(player_id=player)
    for record in records:
        version = record_format(record.get("v"))
        state = replay_record(state, record["seq"], record["events"], record["occurredAt"], version)
    return state


def test_there_is_a_fixture_journal_for_every_format_this_code_knows() -> None:
    assert sorted(int(p.stem.split("-")[1]) for p in FIXTURES.glob("format-*.json")) == list(
        range(1, RECORD_FORMAT + 1)
    )


@pytest.mark.parametrize("version", range(1, RECORD_FORMAT + 1))
def test_a_journal_of_each_format_folds_to_the_state_its_writer_computed(version: int) -> None:
    fixture = load(version)
    assert fixture["format"] == version
    for player, journal in fixture["players"].items():
        records = journal["records"]
        assert {record_format(r.get("v")) for r in records} == {version}, "the fixture holds its own format only"
        assert state_to_dict(fold(player, records)) == {"debts": {}, **journal["state"]}, "debts came later, empty"


def test_format_1_records_carry_no_format_field_and_format_2_ones_keep_their_command() -> None:
    first, second = load(1)["players"]["alice"]["records"], load(2)["players"]["alice"]["records"]
    assert all("v" not in r and "command" not in r for r in first)
    assert all(r["v"] == 2 and r["command"]["op"] and r["requestId"] for r in second)
    assert [r["events"] for r in first] == [r["events"] for r in second], "the same story, the same events"


def test_a_journal_mixing_formats_folds_like_either_alone() -> None:
    first, second = load(1)["players"]["alice"], load(2)["players"]["alice"]
    half = len(first["records"]) // 2
    mixed = first["records"][:half] + second["records"][half:]
    assert state_to_dict(fold("alice", mixed)) == {"debts": {}, **first["state"]}
    assert first["state"] == second["state"]


def test_a_record_of_a_newer_format_is_refused_not_guessed_at() -> None:
    record = load(RECORD_FORMAT)["players"]["alice"]["records"][0]
    with pytest.raises(FormatTooNewError, match=f"format {RECORD_FORMAT + 1} is newer"):
        replay_record(PlayerState(player_id="alice"), 1, record["events"], record["occurredAt"], RECORD_FORMAT + 1)
    with pytest.raises(FormatTooNewError):
        replay_project(ProjectState(), 1, [], RECORD_FORMAT + 1)


def test_an_absent_format_field_means_format_1() -> None:
    assert record_format(None) == 1
    assert upcast_events(1, [{"type": "player.deleted", "data": {}}]) == [{"type": "player.deleted", "data": {}}]
    with pytest.raises(ValueError, match="does not exist"):
        upcast_events(0, [])
