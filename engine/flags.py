"""Feature flags evaluated per player: constant flags, percentage rollouts, targeting rules and
the project's overrides. Pure: the same flags, player and overrides give the same values on any
replica, at any time, so a player never flickers between variants.

A flag serves `value` to a player who satisfies every rule and whose bucket falls inside the
rollout, and `default` to everyone else. A player's bucket for a flag is the first 8 bytes of
`sha256("<flagId>/<playerId>")` as a big-endian integer, modulo 10,000: a number in
`[0, 10000)`, fixed for the pair, independent between flags. The player is in the rollout when
`bucket < rollout * 100` (`rollout` is a percentage with up to two decimals). So raising a
rollout only ever adds players, and lowering it removes the most recently added first.

An override (a project setting, see `docs/ECONOMY.md`) replaces a flag's evaluated value for
every player of the project: a kill switch, or a way to turn a flag fully on for one tenant's
project without editing the shared economy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.limits import MAX_SAFE_INTEGER

FlagValue = bool | int | str
BUCKETS = 10_000  # rollout resolution: 0.01 %
FULL_ROLLOUT = 100.0


@dataclass(frozen=True)
class MinLevel:
    """The player's level is at least `level`."""

    level: int


@dataclass(frozen=True)
class HasAchievement:
    """The player unlocked `achievement_id`."""

    achievement_id: str


@dataclass(frozen=True)
class MetadataMatch:
    """The player's metadata has `key`, and (when `values` is not empty) its value is one of them."""

    key: str
    values: tuple[Any, ...] = ()


Rule = MinLevel | HasAchievement | MetadataMatch


@dataclass(frozen=True)
class Flag:
    id: str
    default: FlagValue
    value: FlagValue = True
    rollout: float = FULL_ROLLOUT  # percent of players, 0 to 100, two decimals
    rules: tuple[Rule, ...] = ()

    @property
    def constant(self) -> bool:
        """A flag written as a bare value: everyone gets `default`."""
        return self.default == self.value and type(self.default) is type(self.value) and not self.rules


def constant_flag(flag_id: str, value: FlagValue) -> Flag:
    return Flag(flag_id, default=value, value=value)


@dataclass(frozen=True)
class PlayerTraits:
    """What targeting may look at: nothing else about the player reaches a flag."""

    player_id: str
    level: int = 1
    achievements: frozenset[str] = frozenset()
    metadata: Mapping[str, Any] = field(default_factory=dict)


def bucket(flag_id: str, player_id: str) -> int:
    """The player's stable bucket for this flag, in `[0, BUCKETS)` (see the module docstring)."""
    digest = hashlib.sha256(f"{flag_id}/{player_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def threshold(rollout: float) -> int:
    """Buckets below this are in the rollout; rounding to 0.01 % keeps 12.5 and 12.50 alike."""
    return max(0, min(BUCKETS, round(rollout * BUCKETS / 100)))


def is_in_rollout(flag_id: str, player_id: str, rollout: float) -> bool:
    return bucket(flag_id, player_id) < threshold(rollout)


def matches(rule: Rule, traits: PlayerTraits) -> bool:
    match rule:
        case MinLevel(level=level):
            return traits.level >= level
        case HasAchievement(achievement_id=achievement_id):
            return achievement_id in traits.achievements
        case MetadataMatch(key=key, values=values):
            if key not in traits.metadata:
                return False
            return not values or any(_same(traits.metadata[key], v) for v in values)


def _same(left: Any, right: Any) -> bool:
    """Equal and of the same JSON type: `true` is not `1`."""
    return bool(left == right and isinstance(left, bool) == isinstance(right, bool))


def evaluate(flag: Flag, traits: PlayerTraits) -> FlagValue:
    """The flag's value for this player, before overrides."""
    if flag.constant:
        return flag.default
    if all(matches(rule, traits) for rule in flag.rules) and is_in_rollout(flag.id, traits.player_id, flag.rollout):
        return flag.value
    return flag.default


def evaluate_all(
    flags: Mapping[str, Flag], traits: PlayerTraits, overrides: Mapping[str, FlagValue] | None = None
) -> dict[str, FlagValue]:
    """Every flag for this player; an override of a defined flag wins, an override of a flag the
    economy no longer defines is ignored."""
    return with_overrides({flag_id: evaluate(flag, traits) for flag_id, flag in flags.items()}, overrides or {})


def with_overrides(values: Mapping[str, FlagValue], overrides: Mapping[str, FlagValue]) -> dict[str, FlagValue]:
    """Evaluated values with the project's overrides applied to the flags that exist."""
    return {flag_id: overrides.get(flag_id, value) for flag_id, value in values.items()}


def override_problems(overrides: Mapping[str, object], flags: Mapping[str, object]) -> list[tuple[str, str]]:
    """Why these overrides cannot be saved, as `(field, message)`: each must name a flag the
    economy defines (`flags`: each flag's economy entry) and give it a value of the flag's own
    type — the type of its `default` and `value` — an integer within the safe range."""
    problems: list[tuple[str, str]] = []
    for flag_id, value in overrides.items():
        where = f"overrides.{flag_id}"
        if flag_id not in flags:
            problems.append((where, "the economy defines no such flag"))
            continue
        declared = declared_types(flags[flag_id])
        if not _is_value(value) or type(value) not in declared:
            names = " or ".join(sorted(_TYPE_NAMES[kind] for kind in declared))
            problems.append((where, f"must be a {names}, as the flag's default and value are"))
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SAFE_INTEGER:
            problems.append((where, f"must be an integer from -{MAX_SAFE_INTEGER} to {MAX_SAFE_INTEGER}"))
    return problems


def declared_types(document: object) -> frozenset[type]:
    """The types a flag serves, read from its economy entry (a bare value, or `{default, value}`
    with `value` true when left out); an entry of neither form declares all three."""
    if _is_value(document):
        return frozenset({type(document)})
    if isinstance(document, Mapping):
        served = (document.get("default"), document.get("value", True))
        return frozenset(type(v) for v in served if _is_value(v)) or frozenset(_TYPE_NAMES)
    return frozenset(_TYPE_NAMES)


def traits_of(player_id: str, level: int, achievements: Sequence[str], metadata: Mapping[str, Any]) -> PlayerTraits:
    return PlayerTraits(player_id, level, frozenset(achievements), dict(metadata))


def flag_to_document(flag: Flag) -> FlagValue | dict[str, Any]:
    """A constant flag stays a bare value, so existing economy files read back as written."""
    if flag.constant:
        return flag.default
    document: dict[str, Any] = {"default": flag.default, "value": flag.value}
    if flag.rollout != FULL_ROLLOUT:
        document["rollout"] = flag.rollout
    if flag.rules:
        document["rules"] = [rule_to_document(rule) for rule in flag.rules]
    return document


def rule_to_document(rule: Rule) -> dict[str, Any]:
    match rule:
        case MinLevel(level=level):
            return {"minLevel": level}
        case HasAchievement(achievement_id=achievement_id):
            return {"achievement": achievement_id}
        case MetadataMatch(key=key, values=values):
            if not values:
                return {"metadata": {"key": key}}
            if len(values) == 1:
                return {"metadata": {"key": key, "equals": values[0]}}
            return {"metadata": {"key": key, "in": list(values)}}


# ------------------------------------------------------------------------------ definitions

Report = Callable[[str, str], None]
FLAG_KEYS = ("default", "value", "rollout", "rules")
MAX_RULES = 16
MAX_RULE_VALUES = 100


def _is_value(value: object) -> bool:
    return isinstance(value, bool | int | str)


_TYPE_NAMES: dict[type, str] = {bool: "boolean", int: "integer", str: "string"}


def parse_flag(flag_id: str, document: object, path: str, report: Report, achievements: Collection[str]) -> Flag | None:
    """A flag from its economy entry: a bare boolean, integer or string (a constant), or a
    mapping `{default, value?, rollout?, rules?}`. Reports every problem with its path."""
    if _is_value(document):
        assert isinstance(document, bool | int | str)
        return constant_flag(flag_id, document)
    if not isinstance(document, Mapping):
        report(path, "must be a boolean, integer or string, or a mapping {default, value, rollout, rules}")
        return None
    problems = 0

    def problem(where: str, message: str) -> None:
        nonlocal problems
        problems += 1
        report(where, message)

    for key in document:
        if key not in FLAG_KEYS:
            problem(f"{path}.{key}", "unknown field")
    default = document.get("default")
    if "default" not in document:
        problem(f"{path}.default", "required")
    elif not _is_value(default):
        problem(f"{path}.default", "must be a boolean, integer or string")
    value = document.get("value", True)
    if "value" not in document and _is_value(default) and not isinstance(default, bool):
        problem(f"{path}.value", "required when `default` is not a boolean")
    elif not _is_value(value):
        problem(f"{path}.value", "must be a boolean, integer or string")
    rollout = document.get("rollout", FULL_ROLLOUT)
    if isinstance(rollout, bool) or not isinstance(rollout, int | float) or not 0 <= rollout <= FULL_ROLLOUT:
        problem(f"{path}.rollout", "must be a percentage from 0 to 100")
    elif round(rollout, 2) != rollout:
        problem(f"{path}.rollout", "must have at most two decimals")
    rules: list[Rule] = []
    raw_rules = document.get("rules", [])
    if not isinstance(raw_rules, list) or len(raw_rules) > MAX_RULES:
        problem(f"{path}.rules", f"must be a list of at most {MAX_RULES} rules")
        raw_rules = []
    for index, raw in enumerate(raw_rules):
        rule = _parse_rule(raw, f"{path}.rules[{index}]", problem, achievements)
        if rule is not None:
            rules.append(rule)
    if problems:
        return None
    assert isinstance(default, bool | int | str) and isinstance(value, bool | int | str)
    return Flag(flag_id, default, value, float(rollout), tuple(rules))


def _parse_rule(raw: object, path: str, problem: Report, achievements: Collection[str]) -> Rule | None:
    if not isinstance(raw, Mapping) or len(raw) != 1:
        problem(path, "must be one of {minLevel: n}, {achievement: id}, {metadata: {key, equals | in}}")
        return None
    ((kind, argument),) = raw.items()
    if kind == "minLevel":
        if isinstance(argument, bool) or not isinstance(argument, int) or argument < 1:
            problem(f"{path}.minLevel", "must be an integer >= 1")
            return None
        return MinLevel(argument)
    if kind == "achievement":
        if not isinstance(argument, str) or argument not in achievements:
            problem(f"{path}.achievement", f"unknown achievement {argument!r}")
            return None
        return HasAchievement(argument)
    if kind == "metadata":
        return _parse_metadata_rule(argument, f"{path}.metadata", problem)
    problem(f"{path}.{kind}", "unknown rule (minLevel, achievement or metadata)")
    return None


def _parse_metadata_rule(argument: object, path: str, problem: Report) -> Rule | None:
    if not isinstance(argument, Mapping) or not isinstance(argument.get("key"), str) or not argument["key"]:
        problem(path, "must be a mapping with a non-empty string `key`")
        return None
    unknown = set(argument) - {"key", "equals", "in"}
    if unknown or ("equals" in argument and "in" in argument):
        problem(path, "takes `key` and at most one of `equals` or `in`")
        return None
    values: list[Any] = []
    if "equals" in argument:
        values = [argument["equals"]]
    elif "in" in argument:
        if not isinstance(argument["in"], list) or not 1 <= len(argument["in"]) <= MAX_RULE_VALUES:
            problem(f"{path}.in", f"must be a list of 1 to {MAX_RULE_VALUES} values")
            return None
        values = list(argument["in"])
    if not all(v is None or _is_value(v) or isinstance(v, float) for v in values):
        problem(path, "compares with booleans, numbers, strings or null only")
        return None
    return MetadataMatch(argument["key"], tuple(values))
