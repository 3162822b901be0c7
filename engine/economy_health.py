"""Economy health: per currency and UTC day, where currency came from (sources), where it went
(sinks), the net flow, the circulating supply and the share held by the top 1 % of holders.

Kept incrementally, never by rescanning: each wallet event is folded once into two small
aggregates, in event-feed order —

- `DayFlows`, one per (currency, day): sums by kind and key, plus the supply figures as they
  stood after that day's last movement;
- `Holdings`, one per currency: how many players hold a balance in each bucket of a log-scale
  histogram, and the sum of those balances. A wallet event carries the balance after it and its
  amount, so the balance before is known and the histogram moves one player from one bucket to
  another without remembering players. Balances below `EXACT_BELOW` have a bucket each; above,
  every power of two is split in `SUB_BUCKETS` buckets, so a bucket's balances differ by less
  than 1/`SUB_BUCKETS` of their value and a currency has at most `MAX_BUCKETS` buckets (a
  document of bounded size, whatever the number of distinct balances: MongoDB's 16 MB document
  limit was reached at ~480k distinct balances when every balance had an entry). The supply and
  the holders are exact (sums); the top 1 % are the `ceil(holders / 100)` largest balances, read
  from the top buckets, a partly taken bucket counted at its mean balance: within 1/`SUB_BUCKETS`
  of the exact sum.

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
WALLET_EVENTS = ("wallet.credited", "wallet.debited", "wallet.clawedback", "wallet.debt.repaid")
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


def flow_of(credited: bool, reason: str) -> tuple[str, str]:
    """The kind and key a wallet movement with this reason counts under (the module docstring)."""
    prefix, _, name = reason.partition(":")
    kind = _REASON_KINDS.get(prefix) if name else None
    if kind is None or (not credited and kind != "purchases"):
        return ("credits" if credited else "debits"), (reason or NO_REASON)
    return kind, name


def movement_of(position: int, event_type: str, data: Mapping[str, Any], occurred_at: str) -> Movement | None:
    """The movement a feed event makes, or None for events that move no currency."""
    if event_type not in WALLET_EVENTS:
        return None
    credited = event_type == "wallet.credited"
    # a clawback sinks what it took from the balance; a debt repayment what the debt took of a credit
    amount = int(data["taken"] if event_type == "wallet.clawedback" else data["amount"])
    reason = "debt" if event_type == "wallet.debt.repaid" else str(data.get("reason") or "")
    kind, name = flow_of(credited, reason)
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


SUB_BUCKETS = 64
EXACT_BELOW = 2 * SUB_BUCKETS
MAX_BUCKETS = EXACT_BELOW + 64 * SUB_BUCKETS  # balances are below 2**64


def bucket_of(balance: int) -> int:
    """The lowest balance of `balance`'s bucket (the bucket's key)."""
    if balance < EXACT_BELOW:
        return balance
    shift = balance.bit_length() - SUB_BUCKETS.bit_length()
    return (balance >> shift) << shift


def top_count(holders: int) -> int:
    """How many holders make the top 1 %: at least one when there is any holder."""
    return math.ceil(holders / 100)


@dataclass
class Holdings:
    """Players and the sum of their balances per balance bucket (`bucket_of`), for one currency
    (see the module docstring). `counts[bucket] = [players, sum of their balances]`."""

    counts: dict[int, list[int]] = field(default_factory=dict)
    through: int = 0

    def apply(self, movement: Movement) -> bool:
        """Folds a movement in unless it was already (its position is at or below `through`)."""
        if movement.position <= self.through:
            return False
        self.through = movement.position
        before, after = movement.balance_before, movement.balance_after
        held = self.counts.get(bucket_of(before)) if before > 0 else None
        if held is not None and held[0] > 0:  # a balance from before the feed began is unknown
            held[0] -= 1
            held[1] -= before
            if held[0] == 0:
                del self.counts[bucket_of(before)]
        if after > 0:
            bucket = self.counts.setdefault(bucket_of(after), [0, 0])
            bucket[0] += 1
            bucket[1] += after
        return True

    def figures(self) -> SupplyFigures:
        supply = sum(total for _, total in self.counts.values())
        holders = sum(players for players, _ in self.counts.values())
        remaining, top = top_count(holders), 0
        for bucket in sorted(self.counts, reverse=True):
            if remaining == 0:
                break
            players, total = self.counts[bucket]
            taken = min(remaining, players)
            top += total if taken == players else total * taken // players
            remaining -= taken
        return SupplyFigures(supply, holders, top)

    def to_document(self) -> dict[str, Any]:
        return {
            "counts": [[bucket, players, total] for bucket, (players, total) in sorted(self.counts.items())],
            "through": self.through,
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any] | None) -> Holdings:
        """Reads both layouts: `[bucket, players, sum]`, and the exact `[balance, players]` of
        documents written before buckets (re-bucketed as they are read)."""
        if document is None:
            return cls()
        holdings = cls(through=int(document.get("through", 0)))
        for entry in document.get("counts", []):
            balance, players = int(entry[0]), int(entry[1])
            total = int(entry[2]) if len(entry) > 2 else balance * players
            bucket = holdings.counts.setdefault(bucket_of(balance), [0, 0])
            bucket[0] += players
            bucket[1] += total
        return holdings


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
