"""The project entity: it owns a project's economy definitions and their version, so a change
of definitions is journaled like any other command and every host can rebuild it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.definitions import DefinitionError, Economy, parse_economy
from engine.errors import InvalidDefinitionError
from engine.formats import RECORD_FORMAT, upcast_events

ECONOMY_DEFINED = "project.economy.defined"


@dataclass(frozen=True)
class ProjectState:
    version: int = 0
    document: dict[str, Any] = field(default_factory=dict)
    seq: int = 0


def define_economy(state: ProjectState, document: dict[str, Any]) -> dict[str, Any] | InvalidDefinitionError:
    """The event that installs `document` as the next version, or why it is invalid."""
    try:
        parse_economy(document)
    except DefinitionError as error:
        return InvalidDefinitionError(error.problems)
    return {"type": ECONOMY_DEFINED, "data": {"version": state.version + 1, "document": document}}


def evolve_project(state: ProjectState, event: dict[str, Any], seq: int) -> ProjectState:
    if event["type"] != ECONOMY_DEFINED:
        raise TypeError(f"no rule evolves {event['type']} on a project")
    data = event["data"]
    return ProjectState(version=data["version"], document=data["document"], seq=seq)


def replay_project(
    state: ProjectState, seq: int, events: list[dict[str, Any]], format_version: int = RECORD_FORMAT
) -> ProjectState:
    """Fold a stored project journal record of any format this code ever wrote."""
    for event in upcast_events(format_version, events):
        state = evolve_project(state, event, seq)
    return state


def economy_of(state: ProjectState) -> Economy | None:
    return parse_economy(state.document) if state.version else None
