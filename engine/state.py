"""The state of one player entity: profile, progression, wallet, inventory, counters,
quests and achievements. The wallet is a facet of the player entity, so a purchase that debits
it and grants items is one decision and one journal record."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any


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

    @property
    def is_active(self) -> bool:
        return self.exists and not self.deleted

    def balance(self, currency: str) -> int:
        return self.balances.get(currency, 0)

    def quantity(self, item_id: str) -> int:
        return self.inventory.get(item_id, 0)


def state_to_dict(state: PlayerState) -> dict[str, Any]:
    return asdict(state)


def state_from_dict(data: Mapping[str, Any]) -> PlayerState:
    fields = dict(data)
    fields["quests"] = {
        quest_id: QuestState(progress=dict(q["progress"]), completed_at=q["completed_at"])
        for quest_id, q in fields.get("quests", {}).items()
    }
    return PlayerState(**fields)
