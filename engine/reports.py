"""Backoffice reports: folds of journal records into per-day rows. Pure: callers scan the
journal (a page at a time) and feed each record `(player_id, occurred_at, events)` to a fold,
then read `rows()` (ordered by day) and `totals()` (the whole window).

A record's events all happened at its `occurred_at`; the day is its UTC date (`YYYY-MM-DD`,
the first ten characters of the RFC 3339 string). Memory grows with days x distinct keys
(event types, SKUs, currencies), never with the number of records. Active players are counted
without remembering players, which needs the records of one player to arrive together (as a
journal scan ordered by entity yields them).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

Events = Sequence[Mapping[str, Any]]
JournalEntry = tuple[str, str, Events]
Row = dict[str, Any]

REPORT_NAMES = ("events-per-day", "active-players", "purchases", "currency-flow")


def day_of(occurred_at: str) -> str:
    return occurred_at[:10]


class ReportFold(Protocol):
    """What every report is: fed records one at a time, read once at the end."""

    name: str
    columns: tuple[str, ...]

    def add(self, player_id: str, occurred_at: str, events: Events) -> None: ...

    def rows(self) -> list[Row]: ...

    def totals(self) -> Row: ...


class EventsPerDay:
    """How many events of each type happened each day."""

    name = "events-per-day"
    columns: tuple[str, ...] = ("day", "type", "count")

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str], int] = defaultdict(int)

    def add(self, player_id: str, occurred_at: str, events: Events) -> None:
        day = day_of(occurred_at)
        for event in events:
            self._counts[day, event["type"]] += 1

    def rows(self) -> list[Row]:
        return [{"day": day, "type": kind, "count": n} for (day, kind), n in sorted(self._counts.items())]

    def totals(self) -> Row:
        return {"events": sum(self._counts.values())}


class ActivePlayers:
    """Distinct players with at least one event each day, and over the whole window. Records of
    one player must arrive together: the fold remembers only the player it is reading."""

    name = "active-players"
    columns: tuple[str, ...] = ("day", "players")

    def __init__(self) -> None:
        self._players: dict[str, int] = defaultdict(int)
        self._window = 0
        self._current: str | None = None
        self._current_days: set[str] = set()

    def add(self, player_id: str, occurred_at: str, events: Events) -> None:
        if not events:
            return
        if player_id != self._current:
            self._flush()
            self._current = player_id
        self._current_days.add(day_of(occurred_at))

    def _flush(self) -> None:
        if self._current is None:
            return
        for day in self._current_days:
            self._players[day] += 1
        self._window += 1
        self._current, self._current_days = None, set()

    def rows(self) -> list[Row]:
        self._flush()
        return [{"day": day, "players": n} for day, n in sorted(self._players.items())]

    def totals(self) -> Row:
        self._flush()
        return {"players": self._window}


class Purchases:
    """Store purchases per day and SKU: how many, how many units, and what they cost in each
    currency (the receipt's price is already multiplied by the quantity)."""

    name = "purchases"
    columns: tuple[str, ...] = ("day", "sku", "count", "quantity", "revenue")

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], Row] = {}

    def add(self, player_id: str, occurred_at: str, events: Events) -> None:
        day = day_of(occurred_at)
        for event in events:
            if event["type"] != "store.purchase.succeeded":
                continue
            data = event["data"]
            row = self._rows.get((day, data["sku"]))
            if row is None:
                row = self._rows[day, data["sku"]] = {"count": 0, "quantity": 0, "revenue": {}}
            row["count"] += 1
            row["quantity"] += data["quantity"]
            _add_amounts(row["revenue"], data.get("price", {}))

    def rows(self) -> list[Row]:
        return [
            {"day": day, "sku": sku, **row, "revenue": dict(sorted(row["revenue"].items()))}
            for (day, sku), row in sorted(self._rows.items())
        ]

    def totals(self) -> Row:
        revenue: dict[str, int] = {}
        for row in self._rows.values():
            _add_amounts(revenue, row["revenue"])
        return {
            "count": sum(row["count"] for row in self._rows.values()),
            "quantity": sum(row["quantity"] for row in self._rows.values()),
            "revenue": dict(sorted(revenue.items())),
        }


class CurrencyFlow:
    """Per day and currency: what wallets gained (`wallet.credited`), lost (`wallet.debited`,
    purchases included) and the difference, which sums to the change of all balances."""

    name = "currency-flow"
    columns: tuple[str, ...] = ("day", "currency", "earned", "spent", "net")

    def __init__(self) -> None:
        self._flows: dict[tuple[str, str], list[int]] = {}

    def add(self, player_id: str, occurred_at: str, events: Events) -> None:
        day = day_of(occurred_at)
        for event in events:
            kind = event["type"]
            if kind not in ("wallet.credited", "wallet.debited"):
                continue
            data = event["data"]
            flow = self._flows.setdefault((day, data["currency"]), [0, 0])
            flow[0 if kind == "wallet.credited" else 1] += data["amount"]

    def rows(self) -> list[Row]:
        return [
            {"day": day, "currency": currency, "earned": earned, "spent": spent, "net": earned - spent}
            for (day, currency), (earned, spent) in sorted(self._flows.items())
        ]

    def totals(self) -> Row:
        totals: dict[str, Row] = {}
        for (_, currency), (earned, spent) in sorted(self._flows.items()):
            total = totals.setdefault(currency, {"earned": 0, "spent": 0, "net": 0})
            total["earned"] += earned
            total["spent"] += spent
            total["net"] += earned - spent
        return {"currencies": dict(sorted(totals.items()))}


_FOLDS: dict[str, type[EventsPerDay | ActivePlayers | Purchases | CurrencyFlow]] = {
    cls.name: cls for cls in (EventsPerDay, ActivePlayers, Purchases, CurrencyFlow)
}
assert tuple(_FOLDS) == REPORT_NAMES


def new_report(name: str) -> ReportFold:
    """An empty fold for the report `name`; KeyError for an unknown name."""
    return _FOLDS[name]()


def fold(name: str, records: Iterable[JournalEntry]) -> ReportFold:
    report = new_report(name)
    for player_id, occurred_at, events in records:
        report.add(player_id, occurred_at, events)
    return report


def events_per_day(records: Iterable[JournalEntry]) -> list[Row]:
    """`{day, type, count}` ordered by day, then type."""
    return fold("events-per-day", records).rows()


def active_players(records: Iterable[JournalEntry]) -> list[Row]:
    """`{day, players}` ordered by day; the window's total is `fold(...).totals()["players"]`."""
    return fold("active-players", records).rows()


def purchases(records: Iterable[JournalEntry]) -> list[Row]:
    """`{day, sku, count, quantity, revenue: {CURRENCY: n}}` ordered by day, then SKU."""
    return fold("purchases", records).rows()


def currency_flow(records: Iterable[JournalEntry]) -> list[Row]:
    """`{day, currency, earned, spent, net}` ordered by day, then currency."""
    return fold("currency-flow", records).rows()


def _add_amounts(into: dict[str, int], amounts: Mapping[str, int]) -> None:
    for currency, amount in amounts.items():
        into[currency] = into.get(currency, 0) + amount
