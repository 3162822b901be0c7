"""Item effects: what consuming one unit of an item does, and the timed boosts that creates.

An item's `effects` run once per unit consumed, in the order written, inside the consume
decision, so a consumption is all or nothing like any other command. Effects are plain
quantities: they are never themselves multiplied by a boost (a potion says what it gives), which
also makes consuming n units at once exactly the same as consuming one unit n times.

Boosts multiply every later XP award or currency credit of their metric (the `xp` and `credit`
commands, quest and achievement rewards) until they end; purchase grants are exchanges at the
catalog's rates and are not boosted (a boost must not turn a safe pair of SKUs into a loop).
Stacking: a boost with the same metric and multiplier as an active one extends it (its end
moves by `durationS` per unit); boosts of different multipliers on one metric run side by side
and the largest active one applies (they never multiply each other). Time is the command's own
time, so replaying a journal, which keeps each boost's end in its `player.boost.started` event,
rebuilds the same state.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from engine.flags import FlagValue, declared_types
from engine.limits import MAX_AMOUNT

MAX_EFFECTS_PER_ITEM = 16
MAX_BOOST_MULTIPLIER = 10
MAX_BOOST_SECONDS = 30 * 24 * 3600  # one unit's duration
MAX_BOOST_TOTAL_SECONDS = 365 * 24 * 3600  # how far past the running end one consumption may reach
XP_METRIC = "xp"
CURRENCY_METRIC = "currency:"

Report = Callable[[str, str], None]


@dataclass(frozen=True)
class XpEffect:
    amount: int


@dataclass(frozen=True)
class CurrencyEffect:
    currency: str
    amount: int


@dataclass(frozen=True)
class ItemEffect:
    item_id: str
    quantity: int


@dataclass(frozen=True)
class CounterEffect:
    counter_id: str
    amount: int


@dataclass(frozen=True)
class FlagEffect:
    flag: str
    value: FlagValue


@dataclass(frozen=True)
class BoostEffect:
    metric: str  # "xp" or "currency:<id>"
    multiplier: float
    duration_s: int


Effect = XpEffect | CurrencyEffect | ItemEffect | CounterEffect | FlagEffect | BoostEffect


@dataclass(frozen=True)
class Boost:
    """An active (or since ended) boost in a player's state."""

    metric: str
    multiplier: float
    ends_at: str


@dataclass(frozen=True)
class Known:
    """The ids effects may name, from the rest of the economy document."""

    currencies: Collection[str]
    items: Collection[str]
    counters: Collection[str]
    flags: Mapping[str, object]  # flag id -> its economy entry (for the value's type)


_FIELDS: dict[str, tuple[str, ...]] = {
    "xp": ("amount",),
    "currency": ("currency", "amount"),
    "item": ("itemId", "quantity"),
    "counter": ("counterId", "amount"),
    "flag": ("flag", "value"),
    "boost": ("metric", "multiplier", "durationS"),
}


# ------------------------------------------------------------------------------------- parsing


def parse_effects(value: object, path: str, known: Known, report: Report) -> tuple[Effect, ...] | None:
    """Every effect of one item, or None after reporting each bad one with its path."""
    if not isinstance(value, list):
        report(path, "must be a list")
        return None
    if len(value) > MAX_EFFECTS_PER_ITEM:
        report(path, f"must have at most {MAX_EFFECTS_PER_ITEM} entries")
        return None
    effects: list[Effect] = []
    failed = False
    for index, raw in enumerate(value):
        effect = _parse_effect(raw, f"{path}[{index}]", known, report)
        failed = failed or effect is None
        if effect is not None:
            effects.append(effect)
    return None if failed else tuple(effects)


def _parse_effect(raw: object, path: str, known: Known, report: Report) -> Effect | None:
    if not isinstance(raw, Mapping):
        report(path, "must be a mapping")
        return None
    kind = raw.get("kind")
    if not isinstance(kind, str) or kind not in _FIELDS:
        report(f"{path}.kind", f"must be one of {', '.join(_FIELDS)}")
        return None
    fields = _FIELDS[kind]
    bad = [key for key in raw if key != "kind" and key not in fields]
    missing = [key for key in fields if key not in raw]
    for key in bad:
        report(f"{path}.{key}", "unknown field")
    for key in missing:
        report(f"{path}.{key}", "required")
    if bad or missing:
        return None
    return _READERS[kind](raw, path, known, report)


def _count(value: object, path: str, report: Report) -> int | None:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_AMOUNT:
        report(path, f"must be an integer from 1 to {MAX_AMOUNT}")
        return None
    return value


def _known(value: object, path: str, ids: Collection[str], what: str, report: Report) -> str | None:
    if not isinstance(value, str) or value not in ids:
        report(path, f"unknown {what} {value!r}")
        return None
    return value


def _read_xp(raw: Mapping[str, Any], path: str, known: Known, report: Report) -> Effect | None:
    amount = _count(raw["amount"], f"{path}.amount", report)
    return None if amount is None else XpEffect(amount)


def _read_currency(raw: Mapping[str, Any], path: str, known: Known, report: Report) -> Effect | None:
    currency = _known(raw["currency"], f"{path}.currency", known.currencies, "currency", report)
    amount = _count(raw["amount"], f"{path}.amount", report)
    return None if currency is None or amount is None else CurrencyEffect(currency, amount)


def _read_item(raw: Mapping[str, Any], path: str, known: Known, report: Report) -> Effect | None:
    item_id = _known(raw["itemId"], f"{path}.itemId", known.items, "item", report)
    quantity = _count(raw["quantity"], f"{path}.quantity", report)
    return None if item_id is None or quantity is None else ItemEffect(item_id, quantity)


def _read_counter(raw: Mapping[str, Any], path: str, known: Known, report: Report) -> Effect | None:
    counter_id = _known(raw["counterId"], f"{path}.counterId", known.counters, "counter", report)
    amount = _count(raw["amount"], f"{path}.amount", report)
    return None if counter_id is None or amount is None else CounterEffect(counter_id, amount)


def _read_flag(raw: Mapping[str, Any], path: str, known: Known, report: Report) -> Effect | None:
    flag = _known(raw["flag"], f"{path}.flag", known.flags, "flag", report)
    if flag is None:
        return None
    value = raw["value"]
    declared = declared_types(known.flags[flag])
    if isinstance(value, float) or type(value) not in declared:
        names = " or ".join(sorted(kind.__name__ for kind in declared))
        report(f"{path}.value", f"must be of the flag's own type ({names})")
        return None
    return FlagEffect(flag, value)


def _read_boost(raw: Mapping[str, Any], path: str, known: Known, report: Report) -> Effect | None:
    metric = raw["metric"]
    ok = True
    currency = metric.removeprefix(CURRENCY_METRIC) if isinstance(metric, str) else None
    if metric != XP_METRIC and (currency is None or currency == metric or currency not in known.currencies):
        report(f"{path}.metric", f"must be 'xp' or 'currency:<id>' of a defined currency, not {metric!r}")
        ok = False
    multiplier = raw["multiplier"]
    if (
        not isinstance(multiplier, int | float)
        or isinstance(multiplier, bool)
        or not math.isfinite(multiplier)
        or not 1 < multiplier <= MAX_BOOST_MULTIPLIER
    ):
        report(f"{path}.multiplier", f"must be a number above 1 and at most {MAX_BOOST_MULTIPLIER}")
        ok = False
    duration = raw["durationS"]
    if not isinstance(duration, int) or isinstance(duration, bool) or not 1 <= duration <= MAX_BOOST_SECONDS:
        report(f"{path}.durationS", f"must be an integer from 1 to {MAX_BOOST_SECONDS}")
        ok = False
    return BoostEffect(metric, multiplier, duration) if ok else None


_READERS: dict[str, Callable[[Mapping[str, Any], str, Known, Report], Effect | None]] = {
    "xp": _read_xp,
    "currency": _read_currency,
    "item": _read_item,
    "counter": _read_counter,
    "flag": _read_flag,
    "boost": _read_boost,
}


def effect_cycle(effects: Mapping[str, Iterable[Effect]]) -> list[str] | None:
    """A loop of items whose effects grant each other (`a` gives `b` gives `a`), or None.

    Such a loop is an endless supply: every round pays its other effects again for nothing."""
    edges = {
        item: [effect.item_id for effect in item_effects if isinstance(effect, ItemEffect)]
        for item, item_effects in effects.items()
    }
    done: set[str] = set()
    for start in sorted(edges):
        if start in done:
            continue
        path: list[str] = []
        on_path: set[str] = set()
        stack: list[tuple[str, int]] = [(start, 0)]
        while stack:
            node, index = stack.pop()
            if index == 0:
                path.append(node)
                on_path.add(node)
            targets = edges.get(node, [])
            if index < len(targets):
                stack.append((node, index + 1))
                target = targets[index]
                if target in on_path:
                    return [*path[path.index(target) :], target]
                if target not in done:
                    stack.append((target, 0))
            else:
                path.pop()
                on_path.discard(node)
                done.add(node)
    return None


def effect_to_document(effect: Effect) -> dict[str, Any]:
    match effect:
        case XpEffect(amount=amount):
            return {"kind": "xp", "amount": amount}
        case CurrencyEffect(currency=currency, amount=amount):
            return {"kind": "currency", "currency": currency, "amount": amount}
        case ItemEffect(item_id=item_id, quantity=quantity):
            return {"kind": "item", "itemId": item_id, "quantity": quantity}
        case CounterEffect(counter_id=counter_id, amount=amount):
            return {"kind": "counter", "counterId": counter_id, "amount": amount}
        case FlagEffect(flag=flag, value=value):
            return {"kind": "flag", "flag": flag, "value": value}
        case BoostEffect(metric=metric, multiplier=multiplier, duration_s=duration):
            return {"kind": "boost", "metric": metric, "multiplier": multiplier, "durationS": duration}
    raise TypeError(f"not an effect: {effect!r}")


def consumed_value(effects: Mapping[str, Iterable[Effect]]) -> dict[str, tuple[int, dict[str, int]]]:
    """What consuming one unit of each item gives in the end, `(xp, {currency: amount})`,
    following item effects to the items they grant (consumed in turn). For the verifier: an item
    bought and consumed is currency and XP bought. Needs the acyclic graph parsing guarantees."""
    value: dict[str, tuple[int, dict[str, int]]] = {}

    def of(item: str) -> tuple[int, dict[str, int]]:
        if item not in value:
            xp, currencies = 0, dict[str, int]()
            for effect in effects.get(item, ()):
                if isinstance(effect, XpEffect):
                    xp += effect.amount
                elif isinstance(effect, CurrencyEffect):
                    currencies[effect.currency] = currencies.get(effect.currency, 0) + effect.amount
                elif isinstance(effect, ItemEffect):
                    inner_xp, inner = of(effect.item_id)
                    xp += inner_xp * effect.quantity
                    for currency, amount in inner.items():
                        currencies[currency] = currencies.get(currency, 0) + amount * effect.quantity
            value[item] = (xp, currencies)
        return value[item]

    for item in effects:
        of(item)
    return value


# -------------------------------------------------------------------------------------- boosts


def moment(text: str) -> datetime:
    """An RFC 3339 time as this code writes it (`...Z`), as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def active_boosts(boosts: Iterable[Boost], now: datetime) -> list[Boost]:
    """The boosts still running at `now` (one that ends at `now` has ended)."""
    return [boost for boost in boosts if moment(boost.ends_at) > now]


def multiplier_at(boosts: Iterable[Boost], metric: str, now: datetime) -> float:
    """The largest active multiplier of `metric`, 1 when none runs."""
    return max((b.multiplier for b in active_boosts(boosts, now) if b.metric == metric), default=1)


def boosted(amount: int, multiplier: float) -> int:
    """`amount` times `multiplier`, rounded down, computed exactly from the multiplier as written
    (1.15 is 23/20, not the binary float just below it)."""
    if multiplier == 1:
        return amount
    return math.floor(amount * Fraction(repr(multiplier)))


def extended_end(boosts: Iterable[Boost], boost: BoostEffect, units: int, now: datetime) -> datetime | None:
    """Where a boost of `units` units ends: after the running boost of the same metric and
    multiplier, if any, else from now. None past `MAX_BOOST_TOTAL_SECONDS` from now: a boost
    stacked past a year is a typo, not a plan."""
    running = [
        moment(b.ends_at)
        for b in active_boosts(boosts, now)
        if b.metric == boost.metric and b.multiplier == boost.multiplier
    ]
    start = max([now, *running])
    total = (start - now).total_seconds() + boost.duration_s * units
    if total > MAX_BOOST_TOTAL_SECONDS:
        return None
    return start + timedelta(seconds=boost.duration_s * units)


def with_boost(boosts: Iterable[Boost], started: Boost, at: str) -> tuple[Boost, ...]:
    """The state's boosts after `started` begins at `at`: it replaces the entry of its metric and
    multiplier, and boosts that ended by `at` are dropped so the list stays short."""
    kept = [
        b for b in active_boosts(boosts, moment(at)) if (b.metric, b.multiplier) != (started.metric, started.multiplier)
    ]
    return (*kept, started)


def boosts_view(boosts: Iterable[Boost], now: datetime) -> list[dict[str, Any]]:
    """The profile's `boosts`: the active ones, soonest to end first."""
    return boost_documents(active_boosts(boosts, now))


def boost_documents(boosts: Iterable[Boost]) -> list[dict[str, Any]]:
    """Boosts in the API's shape, soonest to end first (an export shows the ended ones kept too)."""
    ordered = sorted(boosts, key=lambda b: (b.ends_at, b.metric))
    return [{"metric": b.metric, "multiplier": b.multiplier, "endsAt": b.ends_at} for b in ordered]


def boosts_to_rows(boosts: Iterable[Boost]) -> tuple[dict[str, Any], ...]:
    """The snapshot form of a state's boosts (what `dataclasses.asdict` makes of them)."""
    return tuple({"metric": b.metric, "multiplier": b.multiplier, "ends_at": b.ends_at} for b in boosts)


def boosts_from_list(rows: Iterable[Mapping[str, Any]]) -> tuple[Boost, ...]:
    return tuple(Boost(row["metric"], row["multiplier"], row["ends_at"]) for row in rows)
