"""The state of one player entity: profile, progression, wallet, inventory, counters,
quests and achievements. The wallet is a facet of the player entity, so a purchase that debits
it and grants items is one decision and one journal record."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from engine.item_effects import Boost, boosts_from_list, boosts_to_rows

_Frozen = TypeVar("_Frozen", "PlayerState", "QuestState")


@dataclass(frozen=True)
class QuestState:
    progress: Mapping[str, int] = field(default_factory=dict)
    completed_at: str | None = None


@dataclass(frozen=True)
class PlayerState:
    player_id: str
    exists: bool = False
    deleted: bool = False
    username: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    created_at: str | None = None
    updated_at: str | None = None
    xp: int = 0
    level: int = 1
    balances: Mapping[str, int] = field(default_factory=dict)
    inventory: Mapping[str, int] = field(default_factory=dict)
    counters: Mapping[str, int] = field(default_factory=dict)
    achievements: Mapping[str, str] = field(default_factory=dict)
    quests: Mapping[str, QuestState] = field(default_factory=dict)
    earned: Mapping[str, int] = field(default_factory=dict)
    spent: Mapping[str, int] = field(default_factory=dict)
    purchases: int = 0
    seq: int = 0
    # Set by item effects (`engine/item_effects.py`): timed multipliers and per-player flag values.
    boosts: tuple[Boost, ...] = ()
    flags: Mapping[str, bool | int | str] = field(default_factory=dict)
    # Per-player guardrail windows: guardrail id -> (window start, epoch s; received in it).
    guardrail_windows: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    # What remediations could not take back, per currency: later credits of it pay this first.
    debts: Mapping[str, int] = field(default_factory=dict)

    @property
    def is_active(self) -> bool:
        return self.exists and not self.deleted

    def balance(self, currency: str) -> int:
        return self.balances.get(currency, 0)

    def debt(self, currency: str) -> int:
        return self.debts.get(currency, 0)

    def quantity(self, item_id: str) -> int:
        return self.inventory.get(item_id, 0)


_FLAT_MAPPINGS = ("balances", "inventory", "counters", "achievements", "earned", "spent", "flags", "debts")


def state_to_dict(state: PlayerState) -> dict[str, Any]:
    """The snapshot form, equal to `asdict(state)` (less the guardrail windows and flags when
    empty) but built by hand: `asdict`'s recursion was most of a passivation sweep's CPU
    (benchmarks/bench_scale.py)."""
    data = dict(state.__dict__)
    for name in _FLAT_MAPPINGS:
        data[name] = dict(data[name])
    # Absent when empty, so snapshots of players no guardrail touched stay as they were written.
    if state.guardrail_windows:
        data["guardrail_windows"] = {key: list(window) for key, window in state.guardrail_windows.items()}
    else:
        del data["guardrail_windows"]
    if state.flags:
        data["flags"] = dict(state.flags)
    else:
        del data["flags"]
    data["metadata"] = copy.deepcopy(dict(state.metadata))
    data["quests"] = {
        quest_id: {"progress": dict(quest.progress), "completed_at": quest.completed_at}
        for quest_id, quest in state.quests.items()
    }
    data["boosts"] = boosts_to_rows(state.boosts)
    return data


def state_from_dict(data: Mapping[str, Any]) -> PlayerState:
    fields = dict(data)
    fields["quests"] = {
        quest_id: QuestState(progress=dict(q["progress"]), completed_at=q["completed_at"])
        for quest_id, q in fields.get("quests", {}).items()
    }
    fields["boosts"] = boosts_from_list(fields.get("boosts", ()))
    if fields.get("guardrail_windows"):
        fields["guardrail_windows"] = {key: (w[0], w[1]) for key, w in fields["guardrail_windows"].items()}
    return PlayerState(**fields)


_FIELDS: dict[type, frozenset[str]] = {}


def with_changes(value: _Frozen, **changes: Any) -> _Frozen:
    """`dataclasses.replace` for our plain frozen states, without re-running `__init__`: replaying
    a journal is mostly this, and `replace` cost ~5 µs a call, a fifth of a host's CPU per command
    when every command activated its entity (benchmarks/bench_scale.py)."""
    names = _FIELDS.get(type(value))
    if names is None:
        names = _FIELDS[type(value)] = frozenset(f.name for f in fields(value))
    if not names.issuperset(changes):
        raise TypeError(f"{type(value).__name__} has no field {sorted(set(changes) - names)}")
    clone = object.__new__(type(value))
    clone.__dict__.update(value.__dict__, **changes)
    return clone
