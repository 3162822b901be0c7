"""Events: what happened to a player, in past tense. They are the journal's content and the
only way state changes (`rules.evolve`). Field names become the camelCase `data` of the
public Event."""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar


@dataclass(frozen=True)
class Event:
    type: ClassVar[str] = "event"


@dataclass(frozen=True)
class PlayerCreated(Event):
    type: ClassVar[str] = "player.created"
    username: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PlayerUpdated(Event):
    type: ClassVar[str] = "player.updated"
    username: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PlayerDeleted(Event):
    type: ClassVar[str] = "player.deleted"


@dataclass(frozen=True)
class XpAdded(Event):
    type: ClassVar[str] = "player.xp.added"
    amount: int
    xp: int
    reason: str = ""


@dataclass(frozen=True)
class LevelReached(Event):
    """One per level crossed, so subscribers can celebrate each."""

    type: ClassVar[str] = "player.levelup"
    level: int


@dataclass(frozen=True)
class LevelUpdated(Event):
    type: ClassVar[str] = "player.level.updated"
    level: int
    previous_level: int


@dataclass(frozen=True)
class WalletCredited(Event):
    type: ClassVar[str] = "wallet.credited"
    currency: str
    amount: int
    balance_after: int
    reason: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WalletDebited(Event):
    type: ClassVar[str] = "wallet.debited"
    currency: str
    amount: int
    balance_after: int
    reason: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ItemGranted(Event):
    type: ClassVar[str] = "item.granted"
    item_id: str
    quantity: int
    total: int
    reason: str = ""


@dataclass(frozen=True)
class ItemConsumed(Event):
    type: ClassVar[str] = "item.consumed"
    item_id: str
    quantity: int
    total: int
    reason: str = ""


@dataclass(frozen=True)
class CounterIncremented(Event):
    type: ClassVar[str] = "counter.incremented"
    counter_id: str
    by: int
    value: int


@dataclass(frozen=True)
class CounterReset(Event):
    type: ClassVar[str] = "counter.reset"
    counter_id: str


@dataclass(frozen=True)
class QuestProgressed(Event):
    type: ClassVar[str] = "quest.progressed"
    quest_id: str
    objective_id: str
    by: int
    value: int


@dataclass(frozen=True)
class QuestCompleted(Event):
    type: ClassVar[str] = "quest.completed"
    quest_id: str


@dataclass(frozen=True)
class AchievementUnlocked(Event):
    type: ClassVar[str] = "achievement.unlocked"
    achievement_id: str


@dataclass(frozen=True)
class PurchaseSucceeded(Event):
    type: ClassVar[str] = "store.purchase.succeeded"
    purchase_id: str
    sku: str
    quantity: int
    price: dict[str, int]
    grants: dict[str, Any]
    balances: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class WalletClawedBack(Event):
    """A remediation taking back `amount`: `taken` from the balance, the rest added to the
    player's debt of the currency (a balance never goes negative)."""

    type: ClassVar[str] = "wallet.clawedback"
    currency: str
    amount: int
    taken: int
    balance_after: int
    debt_after: int
    reason: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DebtRepaid(Event):
    """A credit's first `amount` going to the player's debt of the currency, not the balance."""

    type: ClassVar[str] = "wallet.debt.repaid"
    currency: str
    amount: int
    balance_after: int
    debt_after: int
    reason: str = ""


@dataclass(frozen=True)
class ItemClawedBack(Event):
    """A remediation taking back items: at most what is held (`shortfall`: what could not be)."""

    type: ClassVar[str] = "item.clawedback"
    item_id: str
    quantity: int
    total: int
    shortfall: int = 0
    reason: str = ""


@dataclass(frozen=True)
class AchievementRevoked(Event):
    type: ClassVar[str] = "achievement.revoked"
    achievement_id: str
    reason: str = ""


@dataclass(frozen=True)
class ScoreSubmitted(Event):
    type: ClassVar[str] = "leaderboard.score.submitted"
    board_id: str
    score: int
    period_id: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BoostStarted(Event):
    """A consumed item started (or extended) a boost: `ends_at` is where it now ends."""

    type: ClassVar[str] = "player.boost.started"
    metric: str
    multiplier: float
    ends_at: str
    item_id: str = ""


@dataclass(frozen=True)
class FlagSet(Event):
    """A consumed item set one of the player's flags (`engine/item_effects.py`)."""

    type: ClassVar[str] = "player.flag.set"
    flag: str
    value: bool | int | str
    item_id: str = ""


@dataclass(frozen=True)
class GuardrailCounted(Event):
    """The player's per-player guardrail windows this command filled: per guardrail id, the
    window's start (epoch seconds) and what the player received in it. Journaled so a cap holds
    across passivation, replay and slot moves (`engine/guardrails.py`). Two flat mappings: the
    journal copies event data, and nested ones cost more to copy than the check itself."""

    type: ClassVar[str] = "economy.guardrail.counted"
    windows: dict[str, int]
    received: dict[str, int]


@dataclass(frozen=True)
class GuardrailTripped(Event):
    """A command went over a guardrail's limit: refused (`action: refuse`, the command's only
    event) or applied with the player flagged `guardrail:<id>` (`action: flag`)."""

    type: ClassVar[str] = "economy.guardrail.tripped"
    guardrail_id: str
    action: str
    scope: str
    currency: str
    item_id: str
    amount: int
    used: int
    limit: int
    per: str


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        PlayerCreated,
        PlayerUpdated,
        PlayerDeleted,
        XpAdded,
        LevelReached,
        LevelUpdated,
        WalletCredited,
        WalletDebited,
        ItemGranted,
        ItemConsumed,
        CounterIncremented,
        CounterReset,
        QuestProgressed,
        QuestCompleted,
        AchievementUnlocked,
        PurchaseSucceeded,
        ScoreSubmitted,
        BoostStarted,
        FlagSet,
        GuardrailCounted,
        GuardrailTripped,
        WalletClawedBack,
        DebtRepaid,
        ItemClawedBack,
        AchievementRevoked,
    )
}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


_FIELD_NAMES: dict[type[Event], dict[str, str]] = {
    cls: {f.name: _camel(f.name) for f in fields(cls)} for cls in EVENT_TYPES.values()
}


def event_to_dict(event: Event) -> dict[str, Any]:
    """`{type, data}` with camelCase data: the journal's and the API's form."""
    # Events hold flat values and plain dicts: a deep copy of those is `asdict` without its
    # recursion through dataclass fields, which cost more than deciding an XP award.
    names = _FIELD_NAMES[type(event)]
    values = event.__dict__
    return {"type": event.type, "data": {camel: _copied(values[snake]) for snake, camel in names.items()}}


def _copied(value: Any) -> Any:
    return copy.deepcopy(value) if isinstance(value, dict | list) else value


def event_from_dict(document: dict[str, Any]) -> Event:
    cls = EVENT_TYPES[document["type"]]
    names = _FIELD_NAMES[cls]
    data = document["data"]
    return cls(**{snake: data[camel] for snake, camel in names.items() if camel in data})


def event_id(entity: str, seq: int, index: int) -> str:
    """Stable across retries and redeliveries: derived from where the event sits in the journal."""
    digest = hashlib.blake2b(f"{entity}#{seq}#{index}".encode(), digest_size=12).hexdigest()
    return f"evt_{digest}"


def purchase_id(entity: str, seq: int) -> str:
    """`pur_<seq>_<digest>`: the seq finds the journal record, the digest proves the entity."""
    digest = hashlib.blake2b(f"{entity}#{seq}#purchase".encode(), digest_size=12).hexdigest()
    return f"pur_{seq}_{digest}"


def purchase_seq(entity: str, purchase: str) -> int | None:
    """The journal seq of `purchase` if it is a purchase id of `entity`, else None."""
    mark, _, rest = purchase.partition("_")
    seq_text, _, _ = rest.partition("_")
    if mark != "pur" or not seq_text.isdigit() or purchase_id(entity, int(seq_text)) != purchase:
        return None
    return int(seq_text)
