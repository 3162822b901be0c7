"""Economy health: per currency and UTC day, where currency came from (sources), where it went
(sinks), the net flow, the circulating supply and the share held by the top 1 % of holders.

Kept incrementally, never by rescanning: each wallet event is folded once into two small
aggregates, in event-feed order —

- `DayFlows`, one per (currency, day): sums by kind and key, plus the supply figures as they
  stood after that day's last movement;
- `Holdings`, one per currency: how many players hold each exact balance (a histogram). A
  wallet event carries the balance after it and its amount, so the balance before is known
  and the histogram moves one player from one count to another without remembering players.
  The supply is the sum of balance x count; the top 1 % are the `ceil(holders / 100)` largest
  balances, read from the top of the histogram. Its size is the number of distinct balances,
  not of players.

Both carry `through`, the feed position of the last event folded in, and skip events at or
below it: folding a page twice (a retry after a crash, two replicas at once) changes nothing.

Sources are keyed by where the currency came from, as the engine names it in the event's
reason: `purchases` (`purchase:<sku>` grants), `quests` (`quest:<id>`), `achievements`
(`achievement:<id>`) and `credits` (any other reason, as given; `(none)` when empty). Sinks are
`purchases` (`purchase:<sku>` prices) and `debits` (any other reason). Free-text reasons are
capped at `MAX_KEYS` per kind, day and currency; the rest add up under `(other)`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

SOURCE_KINDS = ("credits", "purchases", "quests", "achievements")
SINK_KINDS = ("debits", "purchases")
NO_REASON = "(none)"
OTHER = "(other)"
ERASED = "(erased)"  # where an erased player's free-text reasons' amounts go (docs/PRIVACY.md)
MAX_KEYS = 100
WALLET_EVENTS = ("wallet.credited", "wallet.debited")
_REASON_KINDS = {"purchase": "purchases", "quest": "quests", "achievement": "achievements"}


@dataclass(frozen=True)
class Movement:
    """One wallet event, as economy health sees it."""

    position: int
    day: str  # YYYY-MM-DD (UTC)
    currency: str
    delta: int  # + credited, - debited
    balance_after: int
    flow: str  # "sources" | "sinks"
    kind: str  # one of SOURCE_KINDS / SINK_KINDS
    key: str  # reason, SKU, quest or achievement id

    @property
    def balance_before(self) -> int:
        return self.balance_after - self.delta


def movement_of(position: int, event_type: str, data: Mapping[str, Any], occurred_at: str) -> Movement | None:
    """The movement a feed event makes, or None for events that move no currency."""
    if event_type not in WALLET_EVENTS:
        return None
    credited = event_type == "wallet.credited"
    amount = int(data["amount"])
    reason = str(data.get("reason") or "")
    prefix, _, name = reason.partition(":")
    kind = _REASON_KINDS.get(prefix) if name else None
    if kind is None or (not credited and kind != "purchases"):
        kind, name = ("credits" if credited else "debits"), (reason or NO_REASON)
    return Movement(
        position=position,
        day=occurred_at[:10],
        currency=str(data["currency"]),
        delta=amount if credited else -amount,
        balance_after=int(data["balanceAfter"]),
        flow="sources" if credited else "sinks",
        kind=kind,
        key=name,
    )


@dataclass(frozen=True)
class SupplyFigures:
    supply: int
    holders: int
    top1_percent: int  # sum of the top 1 % of holders' balances

    @property
    def top1_percent_share(self) -> float:
        return round(self.top1_percent / self.supply, 6) if self.supply > 0 else 0.0


def top_count(holders: int) -> int:
    """How many holders make the top 1 %: at least one when there is any holder."""
    return math.ceil(holders / 100)


@dataclass
class Holdings:
    """Players per exact positive balance, for one currency (see the module docstring)."""

    counts: dict[int, int] = field(default_factory=dict)
    through: int = 0

    def apply(self, movement: Movement) -> bool:
        """Folds a movement in unless it was already (its position is at or below `through`)."""
        if movement.position <= self.through:
            return False
        self.through = movement.position
        before, after = movement.balance_before, movement.balance_after
        if before > 0 and self.counts.get(before, 0) > 0:  # a balance from before the feed began is unknown
            self.counts[before] -= 1
            if self.counts[before] == 0:
                del self.counts[before]
        if after > 0:
            self.counts[after] = self.counts.get(after, 0) + 1
        return True

    def figures(self) -> SupplyFigures:
        supply = sum(balance * count for balance, count in self.counts.items())
        holders = sum(self.counts.values())
        remaining, top = top_count(holders), 0
        for balance in sorted(self.counts, reverse=True):
            if remaining == 0:
                break
            taken = min(remaining, self.counts[balance])
            top += balance * taken
            remaining -= taken
        return SupplyFigures(supply, holders, top)

    def to_document(self) -> dict[str, Any]:
        return {"counts": [[balance, count] for balance, count in sorted(self.counts.items())], "through": self.through}

    @classmethod
    def from_document(cls, document: Mapping[str, Any] | None) -> Holdings:
        if document is None:
            return cls()
        return cls({int(b): int(c) for b, c in document.get("counts", [])}, int(document.get("through", 0)))


@dataclass
class DayFlows:
    """Sources, sinks and end-of-day supply figures of one currency on one day."""

    day: str
    currency: str
    sources: dict[str, dict[str, int]] = field(default_factory=dict)
    sinks: dict[str, dict[str, int]] = field(default_factory=dict)
    figures: SupplyFigures = SupplyFigures(0, 0, 0)
    through: int = 0

    def apply(self, movement: Movement) -> bool:
        if movement.position <= self.through:
            return False
        self.through = movement.position
        kinds = self.sources if movement.flow == "sources" else self.sinks
        keys = kinds.setdefault(movement.kind, {})
        key = movement.key if movement.key in keys or len(keys) < MAX_KEYS else OTHER
        keys[key] = keys.get(key, 0) + abs(movement.delta)
        return True

    def forget_keys(self, keys: set[str]) -> bool:
        """Fold the amounts kept under `keys` (an erased player's free-text reasons) into
        `(erased)`: every total stays, the reasons are gone. Answers whether anything moved."""
        moved = False
        for kinds in (self.sources, self.sinks):
            for amounts in kinds.values():
                for key in keys & set(amounts):
                    amounts[ERASED] = amounts.get(ERASED, 0) + amounts.pop(key)
                    moved = True
        return moved

    @property
    def sources_total(self) -> int:
        return sum(sum(keys.values()) for keys in self.sources.values())

    @property
    def sinks_total(self) -> int:
        return sum(sum(keys.values()) for keys in self.sinks.values())

    def row(self) -> dict[str, Any]:
        """The report's row: `{day, currency, sources, sinks, net, supply, holders, top1PercentShare}`."""
        return {
            "day": self.day,
            "currency": self.currency,
            "sources": {
                **{kind: dict(self.sources.get(kind, {})) for kind in SOURCE_KINDS},
                "total": self.sources_total,
            },
            "sinks": {**{kind: dict(self.sinks.get(kind, {})) for kind in SINK_KINDS}, "total": self.sinks_total},
            "net": self.sources_total - self.sinks_total,
            "supply": self.figures.supply,
            "holders": self.figures.holders,
            "top1PercentShare": self.figures.top1_percent_share,
        }

    def to_document(self) -> dict[str, Any]:
        return {
            "day": self.day,
            "currency": self.currency,
            "sources": self.sources,
            "sinks": self.sinks,
            "supply": self.figures.supply,
            "holders": self.figures.holders,
            "top1Percent": self.figures.top1_percent,
            "through": self.through,
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> DayFlows:
        figures = SupplyFigures(int(document["supply"]), int(document["holders"]), int(document["top1Percent"]))
        return cls(
            document["day"],
            document["currency"],
            {k: dict(v) for k, v in document["sources"].items()},
            {k: dict(v) for k, v in document["sinks"].items()},
            figures,
            int(document["through"]),
        )


def fold_holdings(holdings: Holdings, movements: Iterable[Movement]) -> dict[str, SupplyFigures]:
    """Folds one currency's movements into `holdings`, in order, and answers each day's supply
    figures after its last movement folded in (days whose movements were all folded before are
    absent: their figures were recorded then)."""
    figures: dict[str, SupplyFigures] = {}
    pending: str | None = None
    for movement in movements:
        if pending is not None and movement.day != pending:
            figures[pending] = holdings.figures()
            pending = None
        if holdings.apply(movement):
            pending = movement.day
    if pending is not None:
        figures[pending] = holdings.figures()
    return figures


def fold_day(
    flows: DayFlows | None, day: str, currency: str, movements: Iterable[Movement], figures: SupplyFigures | None
) -> DayFlows:
    """A day's flows with these movements (of that day and currency) folded in, and its figures
    replaced when the holdings fold produced new ones."""
    flows = flows or DayFlows(day, currency)
    for movement in movements:
        flows.apply(movement)
    if figures is not None:
        flows.figures = figures
    return flows
