"""A project's economy: what currencies, items, SKUs, curves, counters, quests and
achievements exist. Definitions are immutable values; rules read them, never change them.

`parse_economy` turns a plain mapping (from YAML or JSON) into an `Economy` and reports every
bad field with its path, so an operator can fix a definition file in one pass.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from engine.client_policy import DEFAULT_CLIENT_ALLOW, parse_client_policy
from engine.flags import Flag, FlagValue, flag_to_document, parse_flag
from engine.guardrails import Guardrail, parse_guardrails
from engine.item_effects import Effect, ItemEffect, Known, effect_cycle, effect_to_document, parse_effects
from engine.leaderboards import Leaderboard, parse_leaderboards
from engine.limits import (
    MAX_ACHIEVEMENTS,
    MAX_CONDITIONS,
    MAX_ECONOMY_BYTES,
    MAX_ENTRIES_PER_KIND,
    MAX_SAFE_INTEGER,
    MAX_XP_LEVELS,
)

CurrencyKind = Literal["soft", "hard"]


@dataclass(frozen=True)
class Currency:
    id: str
    kind: CurrencyKind


@dataclass(frozen=True)
class Item:
    id: str
    stack_limit: int
    effects: tuple[Effect, ...] = ()  # applied once per unit consumed: engine/item_effects.py


@dataclass(frozen=True)
class ItemGrant:
    item_id: str
    quantity: int


@dataclass(frozen=True)
class Grants:
    """What a purchase, quest or achievement gives: all of it or nothing."""

    xp: int = 0
    items: tuple[ItemGrant, ...] = ()
    currencies: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Sku:
    id: str
    title: str
    price: Mapping[str, int]
    grants: Grants
    bundle: bool = False


@dataclass(frozen=True)
class XpCurve:
    """Cumulative XP thresholds: `thresholds[i]` is the XP needed to reach level i + 1.

    A formula curve is expanded into thresholds when parsed, so every rule reads one shape.
    """

    thresholds: tuple[int, ...]
    formula: Mapping[str, float] | None = None

    @property
    def max_level(self) -> int:
        return len(self.thresholds)

    def level_for(self, xp: int) -> int:
        level = 1
        for index, threshold in enumerate(self.thresholds):
            if xp >= threshold:
                level = index + 1
            else:
                break
        return level

    def threshold(self, level: int) -> int | None:
        """XP needed to reach `level`, or None past the last level."""
        if 1 <= level <= self.max_level:
            return self.thresholds[level - 1]
        return None

    def next_level_xp(self, level: int) -> int | None:
        return self.threshold(level + 1)


@dataclass(frozen=True)
class Counter:
    id: str
    title: str = ""


@dataclass(frozen=True)
class Condition:
    """`metric >= gte`. Metrics: `level`, `xp`, `purchases`, `counter.<id>`,
    `earned.<currency>`, `spent.<currency>`."""

    metric: str
    gte: int


@dataclass(frozen=True)
class Achievement:
    id: str
    title: str
    conditions: tuple[Condition, ...]
    rewards: Grants = field(default_factory=Grants)


@dataclass(frozen=True)
class Objective:
    id: str
    target: int


@dataclass(frozen=True)
class Quest:
    id: str
    title: str
    objectives: tuple[Objective, ...]
    rewards: Grants = field(default_factory=Grants)


@dataclass(frozen=True)
class Economy:
    currencies: Mapping[str, Currency]
    items: Mapping[str, Item]
    skus: Mapping[str, Sku]
    xp_curve: XpCurve
    counters: Mapping[str, Counter] = field(default_factory=dict)
    achievements: Mapping[str, Achievement] = field(default_factory=dict)
    quests: Mapping[str, Quest] = field(default_factory=dict)
    feature_flags: Mapping[str, FlagValue] = field(default_factory=dict)  # each flag's default value
    flags: Mapping[str, Flag] = field(default_factory=dict)  # rollouts and targeting: engine/flags.py
    leaderboards: Mapping[str, Leaderboard] = field(default_factory=dict)
    client_allow: frozenset[str] = frozenset(DEFAULT_CLIENT_ALLOW)  # ops a player session may send
    guardrails: Mapping[str, Guardrail] = field(default_factory=dict)  # engine/guardrails.py


class DefinitionError(ValueError):
    """Every problem found in a definition, each as `path: message`."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{path}: {message}" for path, message in problems))


ECONOMY_SECTIONS = (  # an economy document's top-level keys
    "currencies",
    "items",
    "xpCurve",
    "skus",
    "counters",
    "achievements",
    "quests",
    "featureFlags",
    "leaderboards",
    "clientPolicy",
    "guardrails",
)
_CURRENCY_KINDS: tuple[CurrencyKind, ...] = ("soft", "hard")
_MAX_FORMULA_LEVEL = MAX_XP_LEVELS
_PLAIN_METRICS = frozenset({"level", "xp", "purchases"})

Problem = tuple[str, str]


def _join(path: str, key: object) -> str:
    """Top-level keys have no `$.` prefix, so paths read like `skus[0].price`."""
    return str(key) if path == "" else f"{path}.{key}"


def _is_int(value: object) -> bool:
    """bool is an int subclass; a `true` where a count belongs is almost always a typo."""
    return isinstance(value, int) and not isinstance(value, bool)


class _Reader:
    """Collects every problem instead of raising, so one run reports the whole file."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def report(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def mapping(
        self,
        value: object,
        path: str,
        allowed: Sequence[str],
        required: Sequence[str] = (),
    ) -> Mapping[str, Any] | None:
        if not isinstance(value, Mapping):
            self.report(path or "$", "must be a mapping")
            return None
        for key in value:
            if key not in allowed:
                self.report(_join(path, key), "unknown field")
        for key in required:
            if key not in value:
                self.report(_join(path, key), "required")
        return value

    def sequence(
        self, value: object, path: str, min_entries: int = 0, max_entries: int = MAX_ENTRIES_PER_KIND
    ) -> list[Any] | None:
        if not isinstance(value, list | tuple):
            self.report(path, "must be a list")
            return None
        if len(value) < min_entries:
            self.report(path, f"must have at least {min_entries} entry")
            return None
        if len(value) > max_entries:
            self.report(path, f"must have at most {max_entries} entries")
            return None
        return list(value)

    def integer(self, value: object, path: str, minimum: int, maximum: int = MAX_SAFE_INTEGER) -> int | None:
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            self.report(path, f"must be an integer >= {minimum}")
            return None
        if value > maximum:
            self.report(path, f"must be at most {maximum}")
            return None
        return value

    def identifier(self, value: object, path: str) -> str | None:
        if not isinstance(value, str) or not value:
            self.report(path, "must be a non-empty string")
            return None
        return value

    def title(self, entry: Mapping[str, Any], path: str, default: str) -> str:
        if "title" not in entry:
            return default
        value = entry["title"]
        if not isinstance(value, str):
            self.report(_join(path, "title"), "must be a string")
            return default
        return value

    def entries(
        self,
        document: Mapping[str, Any],
        section: str,
        id_key: str,
        allowed: Sequence[str],
        required: Sequence[str],
    ) -> list[tuple[str, Mapping[str, Any], str]]:
        """Returns (path, entry, id) for each well-formed entry, reporting duplicates once here
        so section parsers only deal with their own fields."""
        limit = MAX_ACHIEVEMENTS if section == "achievements" else MAX_ENTRIES_PER_KIND
        raw = self.sequence(document.get(section, []), section, max_entries=limit)
        if raw is None:
            return []
        seen: set[str] = set()
        result: list[tuple[str, Mapping[str, Any], str]] = []
        for index, value in enumerate(raw):
            path = f"{section}[{index}]"
            entry = self.mapping(value, path, allowed, required)
            if entry is None or id_key not in entry:
                continue
            entry_id = self.identifier(entry[id_key], _join(path, id_key))
            if entry_id is None:
                continue
            if entry_id in seen:
                self.report(_join(path, id_key), f"duplicate id {entry_id!r}")
                continue
            seen.add(entry_id)
            result.append((path, entry, entry_id))
        return result


class _EconomyParser(_Reader):
    def __init__(self) -> None:
        super().__init__()
        self.currencies: dict[str, Currency] = {}
        self.currency_ids: set[str] = set()
        self.items: dict[str, Item] = {}
        # Items whose own entry is broken still count as known, so one typo in
        # `stackLimit` doesn't also flag every SKU that grants the item.
        self.item_ids: set[str] = set()
        self.counter_ids: set[str] = set()

    def parse(self, document: object) -> Economy | None:
        size = _json_size(document)
        if size > MAX_ECONOMY_BYTES:
            self.report("$", f"the economy document must be at most {MAX_ECONOMY_BYTES} bytes of JSON (got {size})")
            return None
        top = self.mapping(document, "", ECONOMY_SECTIONS, ("xpCurve",))
        if top is None:
            return None
        currencies = self.parse_currencies(top)
        items = self.parse_items(top)
        counters = self.parse_counters(top)
        xp_curve = self.parse_xp_curve(top["xpCurve"]) if "xpCurve" in top else None
        skus = self.parse_skus(top)
        achievements = self.parse_achievements(top)
        quests = self.parse_quests(top)
        flags = self.parse_flags(top.get("featureFlags", {}), "featureFlags", set(achievements))
        leaderboards = parse_leaderboards(top.get("leaderboards", []), self.counter_ids, self.currency_ids, self.report)
        client = top.get("clientPolicy", {"allow": list(DEFAULT_CLIENT_ALLOW)})
        allow = parse_client_policy(client, "clientPolicy", self.report)
        self.parse_item_effects(top)
        guardrails = parse_guardrails(top.get("guardrails", []), self.currency_ids, self.item_ids, self.report)
        if self.problems or xp_curve is None:
            return None
        return Economy(
            currencies=currencies,
            items=items,
            skus=skus,
            xp_curve=xp_curve,
            counters=counters,
            achievements=achievements,
            quests=quests,
            feature_flags={flag_id: flag.default for flag_id, flag in flags.items()},
            flags=flags,
            leaderboards=leaderboards,
            client_allow=allow,
            guardrails=guardrails,
        )

    def parse_currencies(self, top: Mapping[str, Any]) -> dict[str, Currency]:
        for path, entry, currency_id in self.entries(top, "currencies", "id", ("id", "kind"), ("id", "kind")):
            self.currency_ids.add(currency_id)
            if "kind" not in entry:
                continue
            kind = entry["kind"]
            if kind not in _CURRENCY_KINDS:
                self.report(_join(path, "kind"), "must be 'soft' or 'hard'")
                continue
            self.currencies[currency_id] = Currency(id=currency_id, kind=kind)
        return self.currencies

    def parse_items(self, top: Mapping[str, Any]) -> dict[str, Item]:
        keys = ("id", "stackLimit")
        for path, entry, item_id in self.entries(top, "items", "id", (*keys, "effects"), keys):
            self.item_ids.add(item_id)
            if "stackLimit" not in entry:
                continue
            limit = self.integer(entry["stackLimit"], _join(path, "stackLimit"), 1)
            if limit is not None:
                self.items[item_id] = Item(id=item_id, stack_limit=limit)
        return self.items

    def parse_item_effects(self, top: Mapping[str, Any]) -> None:
        """Effects name currencies, items, counters and flags, so they are read once all of
        those are known; a loop of items granting each other is refused (`effect_cycle`)."""
        flags = top.get("featureFlags", {})
        known = Known(self.currency_ids, self.item_ids, self.counter_ids, flags if isinstance(flags, Mapping) else {})
        raw_items = top.get("items", [])
        for index, raw in enumerate(raw_items if isinstance(raw_items, list) else []):
            item_id = raw.get("id") if isinstance(raw, Mapping) else None
            if not isinstance(item_id, str) or "effects" not in raw or item_id not in self.items:
                continue
            item = self.items[item_id]
            effects = parse_effects(raw["effects"], f"items[{index}].effects", known, self.report)
            if effects:
                self.check_effect_stacks(effects, f"items[{index}].effects")
                self.items[item.id] = Item(id=item.id, stack_limit=item.stack_limit, effects=effects)
        cycle = effect_cycle({item_id: item.effects for item_id, item in self.items.items()})
        if cycle is not None:
            self.report("items", f"item effects grant each other in a loop: {' -> '.join(cycle)}")

    def check_effect_stacks(self, effects: tuple[Effect, ...], path: str) -> None:
        """An effect granting more than the item's stack limit could never be consumed."""
        for index, effect in enumerate(effects):
            target = self.items.get(effect.item_id) if isinstance(effect, ItemEffect) else None
            if isinstance(effect, ItemEffect) and target is not None and effect.quantity > target.stack_limit:
                self.report(
                    f"{path}[{index}].quantity", f"exceeds stackLimit {target.stack_limit} of item {effect.item_id!r}"
                )

    def parse_counters(self, top: Mapping[str, Any]) -> dict[str, Counter]:
        counters: dict[str, Counter] = {}
        for path, entry, counter_id in self.entries(top, "counters", "id", ("id", "title"), ("id",)):
            self.counter_ids.add(counter_id)
            counters[counter_id] = Counter(id=counter_id, title=self.title(entry, path, ""))
        return counters

    def parse_xp_curve(self, value: object) -> XpCurve | None:
        path = "xpCurve"
        curve = self.mapping(value, path, ("levels", "formula"))
        if curve is None:
            return None
        if ("levels" in curve) == ("formula" in curve):
            self.report(path, "must have exactly one of 'levels' or 'formula'")
            return None
        if "levels" in curve:
            return self.parse_levels(curve["levels"], _join(path, "levels"))
        return self.parse_formula(curve["formula"], _join(path, "formula"))

    def parse_levels(self, value: object, path: str) -> XpCurve | None:
        levels = self.sequence(value, path, min_entries=1, max_entries=MAX_XP_LEVELS)
        if levels is None:
            return None
        before = len(self.problems)
        thresholds: list[int] = []
        previous: int | None = None
        for index, level in enumerate(levels):
            level_path = f"{path}[{index}]"
            threshold = self.integer(level, level_path, 0)
            if threshold is None:
                continue
            if index == 0 and threshold != 0:
                self.report(level_path, "must be 0")
            elif previous is not None and threshold <= previous:
                self.report(level_path, "must be strictly increasing")
            previous = threshold
            thresholds.append(threshold)
        if len(self.problems) != before:
            return None
        return XpCurve(thresholds=tuple(thresholds))

    def parse_formula(self, value: object, path: str) -> XpCurve | None:
        keys = ("base", "growth", "maxLevel")
        formula = self.mapping(value, path, keys, keys)
        if formula is None or any(key not in formula for key in keys):
            return None
        base = self.integer(formula["base"], _join(path, "base"), 1)
        growth = formula["growth"]
        growth_ok = (
            isinstance(growth, int | float) and not isinstance(growth, bool) and math.isfinite(growth) and growth >= 1
        )
        if not growth_ok:
            self.report(_join(path, "growth"), "must be a number >= 1")
        max_level = formula["maxLevel"]
        if not _is_int(max_level) or not 1 <= max_level <= _MAX_FORMULA_LEVEL:
            self.report(
                _join(path, "maxLevel"),
                f"must be an integer from 1 to {_MAX_FORMULA_LEVEL}",
            )
            return None
        if base is None or not growth_ok:
            return None
        try:
            thresholds = _expand_formula(base, growth, max_level)
        except OverflowError:
            self.report(path, "thresholds grow too large")
            return None
        return XpCurve(
            thresholds=thresholds,
            formula={"base": base, "growth": growth, "maxLevel": max_level},
        )

    def parse_grants(self, value: object, path: str, check_stack_limits: bool) -> Grants | None:
        grants = self.mapping(value, path, ("xp", "items", "currencies"))
        if grants is None:
            return None
        before = len(self.problems)
        xp = self.integer(grants.get("xp", 0), _join(path, "xp"), 0)
        items: list[ItemGrant] = []
        raw_items = self.sequence(grants.get("items", []), _join(path, "items"))
        for index, raw in enumerate(raw_items or []):
            item_path = f"{_join(path, 'items')}[{index}]"
            keys = ("itemId", "quantity")
            entry = self.mapping(raw, item_path, keys, keys)
            if entry is None or any(key not in entry for key in keys):
                continue
            item_id = self.known(entry["itemId"], _join(item_path, "itemId"), self.item_ids, "item")
            quantity_path = _join(item_path, "quantity")
            quantity = self.integer(entry["quantity"], quantity_path, 1)
            if item_id is None or quantity is None:
                continue
            item = self.items.get(item_id)
            if check_stack_limits and item is not None and quantity > item.stack_limit:
                self.report(
                    quantity_path,
                    f"exceeds stackLimit {item.stack_limit} of item {item_id!r}",
                )
            items.append(ItemGrant(item_id=item_id, quantity=quantity))
        currencies = self.amounts(grants.get("currencies", {}), _join(path, "currencies"), minimum=0)
        if len(self.problems) != before or xp is None or currencies is None:
            return None
        return Grants(xp=xp, items=tuple(items), currencies=currencies)

    def known(self, value: object, path: str, known: set[str], what: str) -> str | None:
        if not isinstance(value, str) or value not in known:
            self.report(path, f"unknown {what} {value!r}")
            return None
        return value

    def amounts(self, value: object, path: str, minimum: int) -> dict[str, int] | None:
        """A currency -> amount map; `minimum` differs because a price of 0 is a bug while a
        zero grant is a harmless placeholder."""
        if not isinstance(value, Mapping):
            self.report(path, "must be a mapping")
            return None
        result: dict[str, int] = {}
        for currency, raw in value.items():
            amount_path = _join(path, currency)
            currency_id = self.known(currency, amount_path, self.currency_ids, "currency")
            amount = self.integer(raw, amount_path, minimum)
            if currency_id is not None and amount is not None:
                result[currency_id] = amount
        return result

    def parse_skus(self, top: Mapping[str, Any]) -> dict[str, Sku]:
        skus: dict[str, Sku] = {}
        keys = ("sku", "title", "price", "grants", "bundle")
        for path, entry, sku_id in self.entries(top, "skus", "sku", keys, ("sku", "price")):
            title = self.title(entry, path, sku_id)
            price: dict[str, int] | None = None
            if "price" in entry:
                price_path = _join(path, "price")
                price = self.amounts(entry["price"], price_path, minimum=1)
                if price is not None and not entry["price"]:
                    self.report(price_path, "must have at least 1 entry")
            grants = self.parse_grants(entry.get("grants", {}), _join(path, "grants"), check_stack_limits=True)
            bundle = entry.get("bundle", False)
            if not isinstance(bundle, bool):
                self.report(_join(path, "bundle"), "must be true or false")
            if price is not None and grants is not None:
                skus[sku_id] = Sku(
                    id=sku_id,
                    title=title,
                    price=price,
                    grants=grants,
                    bundle=bool(bundle),
                )
        return skus

    def parse_condition(self, value: object, path: str) -> Condition | None:
        keys = ("metric", "gte")
        entry = self.mapping(value, path, keys, keys)
        if entry is None or any(key not in entry for key in keys):
            return None
        metric_path = _join(path, "metric")
        metric = entry["metric"]
        metric_ok = self.check_metric(metric, metric_path)
        gte = self.integer(entry["gte"], _join(path, "gte"), 0)
        if not metric_ok or gte is None:
            return None
        return Condition(metric=metric, gte=gte)

    def check_metric(self, metric: object, path: str) -> bool:
        if not isinstance(metric, str):
            self.report(path, f"unknown metric {metric!r}")
            return False
        if metric in _PLAIN_METRICS:
            return True
        scope, _, name = metric.partition(".")
        scopes = {
            "counter": (self.counter_ids, "counter"),
            "earned": (self.currency_ids, "currency"),
            "spent": (self.currency_ids, "currency"),
        }
        if scope not in scopes or not name:
            self.report(path, f"unknown metric {metric!r}")
            return False
        known, what = scopes[scope]
        return self.known(name, path, known, what) is not None

    def parse_achievements(self, top: Mapping[str, Any]) -> dict[str, Achievement]:
        achievements: dict[str, Achievement] = {}
        keys = ("id", "title", "conditions", "rewards")
        for path, entry, achievement_id in self.entries(top, "achievements", "id", keys, ("id", "conditions")):
            before = len(self.problems)
            title = self.title(entry, path, achievement_id)
            conditions: list[Condition] = []
            conditions_path = _join(path, "conditions")
            raw = None
            if "conditions" in entry:
                raw = self.sequence(entry["conditions"], conditions_path, 1, MAX_CONDITIONS)
            for index, value in enumerate(raw or []):
                condition = self.parse_condition(value, f"{conditions_path}[{index}]")
                if condition is not None:
                    conditions.append(condition)
            rewards = self.parse_grants(
                entry.get("rewards", {}),
                _join(path, "rewards"),
                check_stack_limits=False,
            )
            if len(self.problems) == before and rewards is not None:
                achievements[achievement_id] = Achievement(
                    id=achievement_id,
                    title=title,
                    conditions=tuple(conditions),
                    rewards=rewards,
                )
        return achievements

    def parse_quests(self, top: Mapping[str, Any]) -> dict[str, Quest]:
        quests: dict[str, Quest] = {}
        keys = ("id", "title", "objectives", "rewards")
        for path, entry, quest_id in self.entries(top, "quests", "id", keys, ("id", "objectives")):
            before = len(self.problems)
            title = self.title(entry, path, quest_id)
            objectives = self.parse_objectives(entry, _join(path, "objectives"))
            rewards = self.parse_grants(
                entry.get("rewards", {}),
                _join(path, "rewards"),
                check_stack_limits=False,
            )
            if len(self.problems) == before and rewards is not None:
                quests[quest_id] = Quest(id=quest_id, title=title, objectives=objectives, rewards=rewards)
        return quests

    def parse_objectives(self, quest: Mapping[str, Any], path: str) -> tuple[Objective, ...]:
        raw = self.sequence(quest["objectives"], path, 1) if "objectives" in quest else None
        objectives: list[Objective] = []
        seen: set[str] = set()
        for index, value in enumerate(raw or []):
            objective_path = f"{path}[{index}]"
            keys = ("id", "target")
            entry = self.mapping(value, objective_path, keys, keys)
            if entry is None or any(key not in entry for key in keys):
                continue
            objective_id = self.identifier(entry["id"], _join(objective_path, "id"))
            if objective_id is not None and objective_id in seen:
                self.report(_join(objective_path, "id"), f"duplicate id {objective_id!r}")
                objective_id = None
            target = self.integer(entry["target"], _join(objective_path, "target"), 1)
            if objective_id is not None and target is not None:
                seen.add(objective_id)
                objectives.append(Objective(id=objective_id, target=target))
        return tuple(objectives)

    def parse_flags(self, value: object, path: str, achievements: set[str]) -> dict[str, Flag]:
        if not isinstance(value, Mapping):
            self.report(path, "must be a mapping")
            return {}
        flags: dict[str, Flag] = {}
        for name, document in value.items():
            flag_path = _join(path, name)
            if not isinstance(name, str) or not name:
                self.report(flag_path, "name must be a non-empty string")
                continue
            flag = parse_flag(name, document, flag_path, self.report, achievements)
            if flag is not None:
                flags[name] = flag
        return flags


def _json_size(document: object) -> int:
    """Bytes of the document as compact JSON; a document JSON cannot hold is left to the
    field checks, which say where."""
    try:
        return len(json.dumps(document, separators=(",", ":"), default=str).encode())
    except (TypeError, ValueError):
        return 0


def _expand_formula(base: int, growth: float, max_level: int) -> tuple[int, ...]:
    """Each level costs `base * growth**(level - 1)` more than the last, rounded so every
    threshold stays an exact integer the rules can compare against."""
    thresholds = [0]
    for level in range(1, max_level):
        thresholds.append(thresholds[-1] + round(base * growth ** (level - 1)))
    return tuple(thresholds)


def parse_economy(document: Mapping[str, Any]) -> Economy:
    """Validates everything before building anything, so a bad file never yields a
    half-usable economy and the operator sees every problem in one error."""
    parser = _EconomyParser()
    economy = parser.parse(document)
    if parser.problems or economy is None:
        raise DefinitionError(parser.problems or [("$", "invalid economy")])
    return economy


def leaderboards_of(document: Mapping[str, Any]) -> dict[str, Leaderboard]:
    """The boards of an installed (so already valid) economy document, without parsing the rest."""
    parser = _EconomyParser()
    parser.parse_currencies(document)
    parser.parse_counters(document)
    boards = parse_leaderboards(
        document.get("leaderboards", []), parser.counter_ids, parser.currency_ids, parser.report
    )
    if parser.problems:
        raise DefinitionError(parser.problems)
    return boards


def _grants_to_document(grants: Grants) -> dict[str, Any]:
    """Omits empty parts so generated files stay as terse as hand-written ones."""
    document: dict[str, Any] = {}
    if grants.xp:
        document["xp"] = grants.xp
    if grants.items:
        document["items"] = [{"itemId": grant.item_id, "quantity": grant.quantity} for grant in grants.items]
    if grants.currencies:
        document["currencies"] = dict(grants.currencies)
    return document


def _item_to_document(item: Item) -> dict[str, Any]:
    document: dict[str, Any] = {"id": item.id, "stackLimit": item.stack_limit}
    if item.effects:  # absent when none: documents written before effects existed stay equal
        document["effects"] = [effect_to_document(effect) for effect in item.effects]
    return document


def economy_to_document(economy: Economy) -> dict[str, Any]:
    """The inverse of `parse_economy`, so tools can edit an economy and write it back out."""
    curve: dict[str, Any]
    if economy.xp_curve.formula is not None:
        curve = {"formula": dict(economy.xp_curve.formula)}
    else:
        curve = {"levels": list(economy.xp_curve.thresholds)}
    skus: list[dict[str, Any]] = []
    for sku in economy.skus.values():
        entry: dict[str, Any] = {
            "sku": sku.id,
            "title": sku.title,
            "price": dict(sku.price),
        }
        grants = _grants_to_document(sku.grants)
        if grants:
            entry["grants"] = grants
        entry["bundle"] = sku.bundle
        skus.append(entry)
    achievements: list[dict[str, Any]] = []
    for achievement in economy.achievements.values():
        entry = {
            "id": achievement.id,
            "title": achievement.title,
            "conditions": [{"metric": c.metric, "gte": c.gte} for c in achievement.conditions],
        }
        rewards = _grants_to_document(achievement.rewards)
        if rewards:
            entry["rewards"] = rewards
        achievements.append(entry)
    quests: list[dict[str, Any]] = []
    for quest in economy.quests.values():
        entry = {
            "id": quest.id,
            "title": quest.title,
            "objectives": [{"id": o.id, "target": o.target} for o in quest.objectives],
        }
        rewards = _grants_to_document(quest.rewards)
        if rewards:
            entry["rewards"] = rewards
        quests.append(entry)
    document: dict[str, Any] = {
        "currencies": [{"id": c.id, "kind": c.kind} for c in economy.currencies.values()],
        "items": [_item_to_document(item) for item in economy.items.values()],
        "xpCurve": curve,
        "skus": skus,
        "counters": [{"id": c.id, "title": c.title} for c in economy.counters.values()],
        "achievements": achievements,
        "quests": quests,
        "featureFlags": {
            flag_id: flag_to_document(economy.flags[flag_id]) if flag_id in economy.flags else default
            for flag_id, default in economy.feature_flags.items()
        },
    }
    if economy.leaderboards:  # absent when empty: documents written before boards existed stay equal
        document["leaderboards"] = [board.to_document() for board in economy.leaderboards.values()]
    if economy.client_allow != frozenset(DEFAULT_CLIENT_ALLOW):  # absent when the default, likewise
        document["clientPolicy"] = {"allow": sorted(economy.client_allow)}
    if economy.guardrails:  # absent when empty, likewise
        document["guardrails"] = [guardrail.to_document() for guardrail in economy.guardrails.values()]
    return document
