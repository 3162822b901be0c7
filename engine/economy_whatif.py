"""What-if: a project's recorded commands replayed under a proposed economy, beside what they
recorded, so a designer sees what a change would have done to real history before shipping it.

`WhatIf` is a fold over journal records, fed one player at a time in seq order (the order
`scan_journal` pages them in). For each player it keeps two states that start equal:

- *before* folds the recorded events (`rules.apply_record`, as activation does): what happened;
- *after* decides each record's recorded command again (`rules.decide`, the code the hosts
  run) with the candidate economy and the record's own time, and folds what that decides.

Records before the window only bring both states to where the window starts. A command the
candidate refuses is counted (by op, problem and target) and changes nothing; a record without
a command (format 1, docs/UPGRADING.md) cannot be decided again and is counted as `skipped`.
Nothing here writes anything: the states live only in this fold.

Memory follows the window's days × currencies × keys (capped as economy health caps them), the
economy's SKUs, items and levels, and one player's two states; never the number of records.
Supply per day is the window's opening balances plus each day's net flow, so players need not
be replayed in time order."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from engine import events as e
from engine.commands import COMMAND_TYPES, command_from_dict
from engine.definitions import Economy
from engine.economy_health import DayFlows, Holdings, Movement, SupplyFigures, bucket_of, flow_of
from engine.errors import Rejection
from engine.formats import upcast_events
from engine.rules import Accepted, Context, apply_record, decide, state_after
from engine.state import PlayerState

MAX_REFUSED_GROUPS = 50
MAX_EXAMPLES = 3
OTHER_REFUSALS = "(other)"


class Record(Protocol):
    """What the fold reads of a journal record (`actors.stores.base.JournalRecord` is one)."""

    @property
    def entity(self) -> str: ...
    @property
    def seq(self) -> int: ...
    @property
    def events(self) -> list[dict[str, Any]]: ...
    @property
    def occurred_at(self) -> str: ...
    @property
    def command(self) -> dict[str, Any] | None: ...
    @property
    def format_version(self) -> int: ...


@dataclass
class Side:
    """One world's tallies over the window: flows per (currency, day), purchases, items, and
    each player's closing balances and level."""

    flows: dict[tuple[str, str], DayFlows] = field(default_factory=dict)
    purchases: dict[str, list[int]] = field(default_factory=dict)  # sku -> [receipts, units]
    items: dict[str, list[int]] = field(default_factory=dict)  # item -> [granted, consumed]
    balances: dict[str, Holdings] = field(default_factory=dict)
    levels: Counter[int] = field(default_factory=Counter)
    position: int = 0

    def tally(self, events: Iterable[e.Event], day: str) -> None:
        for event in events:
            if isinstance(event, e.WalletCredited | e.WalletDebited):
                credited = isinstance(event, e.WalletCredited)
                kind, key = flow_of(credited, event.reason)
                self.position += 1
                delta = event.amount if credited else -event.amount
                movement = Movement(
                    self.position, day, event.currency, delta, event.balance_after, "sources" if credited else "sinks",
                    kind, key,
                )  # fmt: skip
                flows = self.flows.get((event.currency, day))
                if flows is None:
                    flows = self.flows[event.currency, day] = DayFlows(day, event.currency)
                flows.apply(movement)
            elif isinstance(event, e.PurchaseSucceeded):
                bought = self.purchases.setdefault(event.sku, [0, 0])
                bought[0] += 1
                bought[1] += event.quantity
            elif isinstance(event, e.ItemGranted):
                self.items.setdefault(event.item_id, [0, 0])[0] += event.quantity
            elif isinstance(event, e.ItemConsumed):
                self.items.setdefault(event.item_id, [0, 0])[1] += event.quantity

    def close(self, state: PlayerState) -> None:
        """Counts a player's state at the window's end into the distributions."""
        if not state.is_active:
            return
        self.levels[state.level] += 1
        for currency, balance in state.balances.items():
            holdings = self.balances.setdefault(currency, Holdings())
            if balance > 0:
                entry = holdings.counts.setdefault(bucket_of(balance), [0, 0])
                entry[0] += 1
                entry[1] += balance


@dataclass
class _Refusals:
    """The commands the candidate refuses, grouped by (op, problem, target), capped."""

    groups: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    total: int = 0

    def add(self, op: str, rejection: Rejection, target: str, player_id: str, occurred_at: str) -> None:
        self.total += 1
        key = (op, rejection.slug, target)
        if key not in self.groups and len(self.groups) >= MAX_REFUSED_GROUPS:
            key = (OTHER_REFUSALS, OTHER_REFUSALS, "")
        group = self.groups.get(key)
        if group is None:
            detail = rejection.detail if key[0] != OTHER_REFUSALS else "further kinds of refusal"
            group = self.groups[key] = {"op": key[0], "reason": key[1], "target": key[2], "count": 0,
                                        "detail": detail, "examples": []}  # fmt: skip
        group["count"] += 1
        if len(group["examples"]) < MAX_EXAMPLES:
            group["examples"].append({"playerId": player_id, "occurredAt": occurred_at})

    def rows(self) -> list[dict[str, Any]]:
        return sorted(self.groups.values(), key=lambda group: (-group["count"], group["op"], group["reason"]))


def command_target(command: Mapping[str, Any]) -> str:
    """What a command acts on, for grouping refusals: its SKU, currency, item, quest or board."""
    for name in ("sku", "currency", "item_id", "quest_id", "counter_id", "board_id"):
        value = command.get(name)
        if isinstance(value, str):
            return value
    return ""


def parse_time(occurred_at: str) -> datetime:
    return datetime.fromisoformat(occurred_at.replace("Z", "+00:00"))


class WhatIf:
    """The fold (module docstring). Feed `add` every record of each player, players one after
    another, each player's records in seq order; `result` answers the comparison."""

    def __init__(self, candidate: Economy, since: str, until: str) -> None:
        """`since`/`until`: the window `[since, until)` as RFC 3339 times (records compare as text)."""
        self.candidate = candidate
        self.since, self.until = since, until
        self.before, self.after = Side(), Side()
        self.opening: Counter[str] = Counter()  # supply at the window's start, per currency
        self.refusals = _Refusals()
        self.players = 0  # players with a record before the window's end
        self.commands = 0  # window records decided again
        self.skipped = 0  # window records without a command
        self._entity: str | None = None
        self._was = self._now = PlayerState(player_id="")
        self._opened = False

    def add(self, record: Record, player_id: str) -> None:
        if record.entity != self._entity:
            self.finish_player()
            self._entity, self.players = record.entity, self.players + 1
            self._was = self._now = PlayerState(player_id=player_id)
            self._opened = False
        if record.occurred_at >= self.until:
            return
        events = [e.event_from_dict(event) for event in upcast_events(record.format_version, record.events)]
        if record.occurred_at < self.since:
            self._was = self._now = apply_record(self._was, record.seq, events, record.occurred_at)
            return
        if not self._opened:
            self._open()
        day = record.occurred_at[:10]
        self._was = apply_record(self._was, record.seq, events, record.occurred_at)
        self.before.tally(events, day)
        self._decide_again(record, player_id, day)

    def _open(self) -> None:
        self._opened = True
        for currency, balance in self._now.balances.items():
            self.opening[currency] += balance

    def _decide_again(self, record: Record, player_id: str, day: str) -> None:
        if record.command is None or record.command.get("op") not in COMMAND_TYPES:
            self.skipped += 1
            return
        self.commands += 1
        command = command_from_dict(record.command)
        ctx = Context(now=parse_time(record.occurred_at), economy=self.candidate, entity=record.entity)
        decision = decide(self._now, command, ctx)
        if isinstance(decision, Accepted):
            if decision.events:
                self._now = state_after(self._now, decision, self._now.seq + 1, record.occurred_at)
                self.after.tally(decision.events, day)
            return
        self.refusals.add(command.op, decision, command_target(record.command), player_id, record.occurred_at)

    def finish_player(self) -> None:
        """Counts the current player's closing states in; `add` calls it on the next player."""
        if self._entity is None:
            return
        if not self._opened:
            self._open()
        self.before.close(self._was)
        self.after.close(self._now)
        self._entity = None

    def result(self) -> dict[str, Any]:
        """The comparison (docs/ECONOMY.md, "What-if"): call once every record was added."""
        self.finish_player()
        return {
            "players": self.players,
            "commands": self.commands,
            "skipped": self.skipped,
            "refusedCommands": self.refusals.total,
            "currencies": self._currency_rows(),
            "balances": [
                {
                    "currency": currency,
                    "before": _distribution(self.before, currency),
                    "after": _distribution(self.after, currency),
                }
                for currency in self._currencies()
            ],  # fmt: skip
            "levels": {"before": _levels(self.before.levels), "after": _levels(self.after.levels)},
            "purchases": [
                {"sku": sku, "before": _bought(self.before, sku), "after": _bought(self.after, sku)}
                for sku in sorted(set(self.before.purchases) | set(self.after.purchases))
            ],
            "items": [
                {"itemId": item, "before": _moved(self.before, item), "after": _moved(self.after, item)}
                for item in sorted(set(self.before.items) | set(self.after.items))
            ],
            "refused": self.refusals.rows(),
        }

    def _currencies(self) -> list[str]:
        seen = set(self.opening) | {c for c, _ in self.before.flows} | {c for c, _ in self.after.flows}
        return sorted(seen | set(self.before.balances) | set(self.after.balances))

    def _currency_rows(self) -> list[dict[str, Any]]:
        """Every (day, currency) of the window: flows, and supply as opening plus net so far."""
        rows: list[dict[str, Any]] = []
        days = window_days(self.since[:10], self.until)
        for currency in self._currencies():
            supply = {"before": self.opening[currency], "after": self.opening[currency]}
            for day in days:
                row: dict[str, Any] = {"day": day, "currency": currency}
                for name, side in (("before", self.before), ("after", self.after)):
                    flows = side.flows.get((currency, day)) or DayFlows(day, currency)
                    supply[name] += flows.sources_total - flows.sinks_total
                    flows.figures = SupplyFigures(supply[name], 0, 0)
                    full = flows.row()
                    row[name] = {"sources": full["sources"], "sinks": full["sinks"], "net": full["net"],
                                 "supply": supply[name]}  # fmt: skip
                rows.append(row)
        return rows


def window_days(since_day: str, until: str) -> list[str]:
    """The UTC days `[since_day, until)` touches (`until` exclusive at midnight)."""
    first = date.fromisoformat(since_day)
    end = parse_time(until)
    days: list[str] = []
    day = first
    while datetime(day.year, day.month, day.day, tzinfo=end.tzinfo) < end:
        days.append(day.isoformat())
        day += timedelta(days=1)
    return days


def _distribution(side: Side, currency: str) -> dict[str, Any]:
    holdings = side.balances.get(currency, Holdings())
    figures = holdings.figures()
    return {
        "supply": figures.supply,
        "holders": figures.holders,
        "top1PercentShare": figures.top1_percent_share,
        "buckets": [[bucket, players] for bucket, (players, _) in sorted(holdings.counts.items())],
    }


def _levels(levels: Counter[int]) -> dict[str, int]:
    return {str(level): levels[level] for level in sorted(levels)}


def _bought(side: Side, sku: str) -> dict[str, int]:
    receipts, units = side.purchases.get(sku, [0, 0])
    return {"receipts": receipts, "units": units}


def _moved(side: Side, item: str) -> dict[str, int]:
    granted, consumed = side.items.get(item, [0, 0])
    return {"granted": granted, "consumed": consumed}


def replay(candidate: Economy, since: str, until: str, records: Sequence[tuple[str, Record]]) -> dict[str, Any]:
    """The whole fold over `(playerId, record)` pairs at once (tests, the benchmark)."""
    fold = WhatIf(candidate, since, until)
    for player_id, record in records:
        fold.add(record, player_id)
    return fold.result()
