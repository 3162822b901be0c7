"""Audit replay over random command sequences with economy changes between them, run the way a
host runs them (decide with the economy it has cached, fold each accepted command as one journal
record): the state `engine.replay` recomputes after every record equals the state the host had
after that command, and so does the profile shown with the economy version then in force."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from engine import commands as c
from engine.definitions import parse_economy
from engine.events import event_id, event_to_dict
from engine.formats import RECORD_FORMAT
from engine.project import ProjectState, define_economy, evolve_project
from engine.replay import command_view, economy_in_force, economy_versions, fold, journal_entry, state_view
from engine.rules import Accepted, Context, decide, rfc3339, state_after
from engine.state import PlayerState, state_to_dict
from engine.views import profile_view
from tests.unit.engine.test_properties import DEMO_PATH, ENTITY, PLAYER_ID, PROPERTY_SETTINGS, START, player_commands

DEMO: dict[str, Any] = yaml.safe_load(DEMO_PATH.read_text(encoding="utf-8"))


def variant(scale: int) -> dict[str, Any]:
    """The demo economy with an XP curve `scale` times as steep: the profile's next-level XP shows
    which version a view used."""
    document = copy.deepcopy(DEMO)
    document["xpCurve"]["levels"] = [level * scale for level in DEMO["xpCurve"]["levels"]]
    return document


@dataclass(frozen=True)
class Record:
    seq: int
    events: list[dict[str, Any]]
    occurred_at: str
    format_version: int = RECORD_FORMAT
    recorded_at_ms: int = 1_714_564_800_250  # 2024-05-01T12:00:00.250Z


Step = c.Command | int  # an int redefines the economy with that curve scale
steps = st.lists(st.one_of(player_commands, player_commands, st.integers(1, 4)), min_size=1, max_size=40).map(
    lambda rest: [c.CreatePlayer("alice", {"team": "red"}), c.Credit("coins", 300), *rest]
)


@dataclass
class Live:
    records: list[Record]
    project_records: list[Record]
    states: dict[int, PlayerState]  # seq -> the host's state once that record was durable
    profiles: dict[int, dict[str, Any]]  # seq -> the profile the host showed right after


def host_run(sequence: list[Step]) -> Live:
    live = Live([], [], {}, {})
    project = ProjectState()
    state = PlayerState(player_id=PLAYER_ID)
    now = START
    for step in [1, *sequence]:  # version 1 before the first command
        occurred_at = rfc3339(now)
        if isinstance(step, int):
            event = define_economy(project, variant(step))
            assert isinstance(event, dict)
            project = evolve_project(project, event, project.seq + 1)
            live.project_records.append(Record(project.seq, [event], occurred_at))
        else:
            economy = parse_economy(project.document)
            decision = decide(state, step, Context(now=now, economy=economy, entity=ENTITY))
            if isinstance(decision, Accepted) and decision.events:
                seq = state.seq + 1
                state = state_after(state, decision, seq, occurred_at)
                live.records.append(Record(seq, [event_to_dict(e) for e in decision.events], occurred_at))
                live.states[seq] = state
                live.profiles[seq] = profile_view(state, economy, now)
        now += timedelta(milliseconds=1500)
    return live


@PROPERTY_SETTINGS
@given(steps)
def test_the_state_at_every_seq_is_the_state_the_host_had_after_that_command(sequence: list[Step]) -> None:
    live = host_run(sequence)
    versions = economy_versions(live.project_records)
    for record in live.records:
        replayed = fold(PlayerState(player_id=PLAYER_ID), [r for r in live.records if r.seq <= record.seq])
        assert state_to_dict(replayed) == state_to_dict(live.states[record.seq])
        view = state_view(replayed, economy_in_force(versions, record.occurred_at), record.occurred_at)
        extensions = {"seq": record.seq, "occurredAt": record.occurred_at, "deleted": False}
        assert {k: view.pop(k) for k in extensions} == extensions
        assert view.pop("economyVersion") >= 1
        assert view == live.profiles[record.seq]


def test_the_economy_in_force_is_the_last_installed_at_or_before_the_time() -> None:
    project_records = [
        Record(1, [define_economy(ProjectState(), variant(1))], "2024-05-01T12:00:00.000Z"),  # type: ignore[list-item]
        Record(2, [define_economy(ProjectState(version=1), variant(2))], "2024-05-01T13:00:00.000Z"),  # type: ignore[list-item]
    ]
    versions = economy_versions(project_records)
    assert [v.version for v in versions] == [1, 2]
    assert economy_in_force(versions, "2024-05-01T11:59:59.999Z") is None
    assert economy_in_force(versions, "2024-05-01T12:00:00.000Z") == versions[0]
    assert economy_in_force(versions, "2024-05-01T12:59:59.999Z") == versions[0]
    assert economy_in_force(versions, "2024-05-01T13:00:00.000Z") == versions[1]


def test_a_journal_entry_names_its_command_key_request_and_events() -> None:
    credited = {"type": "wallet.credited", "data": {"currency": "coins", "amount": 5}}
    record = Record(3, [credited], "2024-05-01T12:00:00Z")
    command = c.command_to_dict(c.GrantItem("potion", 2))
    entry = journal_entry(ENTITY, record, command=command, idempotency_key="k-1", request_id="req-1")
    assert entry == {
        "seq": 3,
        "recordedAt": "2024-05-01T12:00:00.250Z",
        "occurredAt": "2024-05-01T12:00:00Z",
        "format": RECORD_FORMAT,
        "command": {"op": "grant", "itemId": "potion", "quantity": 2},
        "idempotencyKey": "k-1",
        "requestId": "req-1",
        "events": [
            {"id": event_id(ENTITY, 3, 0), "type": "wallet.credited", "data": {"currency": "coins", "amount": 5}}
        ],
    }
    assert command_view(None) is None
