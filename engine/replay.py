"""Audit replay: a player's journal as the API shows it, and the player exactly as it was after
any record, recomputed from the journal with the economy version then in force.

The fold is the one activation uses (`rules.replay_record`), so "the state after record N" is
by construction the state a host had once record N was durable; the economy only shapes the
view (the next level's XP, the quests listed), and it is the version installed last at or
before the record's time (`economy_in_force`)."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from engine.definitions import Economy, parse_economy
from engine.events import event_id
from engine.formats import upcast_events
from engine.item_effects import moment
from engine.project import ProjectState, replay_project
from engine.rules import replay_record, rfc3339
from engine.state import PlayerState
from engine.views import profile_view


class Record(Protocol):
    """What replay needs of a journal record (`actors.stores.base.JournalRecord` is one)."""

    @property
    def seq(self) -> int: ...
    @property
    def events(self) -> list[dict[str, Any]]: ...
    @property
    def occurred_at(self) -> str: ...
    @property
    def format_version(self) -> int: ...
    @property
    def recorded_at_ms(self) -> int: ...


@dataclass(frozen=True)
class EconomyVersion:
    version: int
    defined_at: str  # RFC 3339, the time of the project record that installed it
    document: Mapping[str, Any]

    def economy(self) -> Economy:
        return parse_economy(dict(self.document))


def economy_versions(project_records: Iterable[Record]) -> list[EconomyVersion]:
    """Every version a project's journal installed, oldest first."""
    state = ProjectState()
    versions: list[EconomyVersion] = []
    for record in project_records:
        before = state.version
        state = replay_project(state, record.seq, record.events, record.format_version)
        if state.version != before:
            versions.append(EconomyVersion(state.version, record.occurred_at, state.document))
    return versions


def economy_in_force(versions: Sequence[EconomyVersion], occurred_at: str) -> EconomyVersion | None:
    """The version installed last at or before `occurred_at` (RFC 3339 strings of one width
    compare in time order), or None before the first."""
    index = bisect.bisect_right([v.defined_at for v in versions], occurred_at)
    return versions[index - 1] if index else None


def fold(state: PlayerState, records: Iterable[Record]) -> PlayerState:
    """`state` after `records`, in journal order."""
    for record in records:
        state = replay_record(state, record.seq, record.events, record.occurred_at, record.format_version)
    return state


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def command_view(command: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A journaled command (`command_to_dict`) in the API's camelCase; None for records written
    before commands were kept (format 1)."""
    return None if command is None else {_camel(name): value for name, value in command.items()}


def journal_entry(
    entity: str,
    record: Record,
    *,
    command: Mapping[str, Any] | None,
    idempotency_key: str | None,
    request_id: str | None,
) -> dict[str, Any]:
    """One record of `GET .../journal`: what was asked, by which request, and what it caused."""
    events = upcast_events(record.format_version, record.events)
    return {
        "seq": record.seq,
        "recordedAt": rfc3339(datetime.fromtimestamp(record.recorded_at_ms / 1000, UTC)),
        "occurredAt": record.occurred_at,
        "format": record.format_version,
        "command": command_view(command),
        "idempotencyKey": idempotency_key,
        "requestId": request_id,
        "events": [
            {"id": event_id(entity, record.seq, index), "type": event["type"], "data": event["data"]}
            for index, event in enumerate(events)
        ],
    }


def state_view(state: PlayerState, economy: EconomyVersion, occurred_at: str) -> dict[str, Any]:
    """`GET .../state?seq=N`: the Profile after record N under the economy then in force, with
    the record's seq and time, that economy's version, and whether the player was deleted."""
    return {
        **profile_view(state, economy.economy(), moment(occurred_at)),
        "seq": state.seq,
        "occurredAt": occurred_at,
        "economyVersion": economy.version,
        "deleted": state.deleted,
    }
