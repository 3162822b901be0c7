"""Faults of an economy that validation cannot see, because every field is right and only the
whole is wrong: a loop of store offers that mints currency, achievements whose rewards feed each
other, content no player can finish, a currency nothing spends. docs/ECONOMY.md, "Verification".

The economy is read as a graph of sources and sinks. Per the rules (engine/rules.py):

- a SKU is the only thing a player repeats at will: it turns its `price` into its `grants`, up to
  `MAX_PURCHASE_QUANTITY` at a time, as often as the wallet allows;
- a quest completes once and an achievement unlocks once, each paying its rewards once;
- the game server's `credit`, `debit`, `grant`, `xp` and `increment` commands move any amount, so
  nothing is unreachable merely because the document gives no source for it.

An arbitrage is a non-negative mix of SKU purchases whose net is never negative in any currency
and positive in at least one: `x >= 0, N x >= 0, N x != 0` with `N[c][s]` the net of SKU `s` in
currency `c`. It is found exactly (rational simplex, `engine/economy_lp.py`), so a clean verdict
means no such mix exists at any size; a store past the search's budget gets the fast check of
`engine/economy_rates.py` and a warning instead of a verdict. One-time rewards cannot be
repeated, so they are bounds, not cycles.

A what-if (issue 29) can reuse `net_matrix` (the per-SKU net flows) and `earn_bounds` (the
one-time sources per currency) to explain a replay's shift; it needs no more of this module.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any, Literal

from engine.definitions import Economy, Grants, parse_economy
from engine.economy_lp import TooLargeError, find_nonnegative_gain
from engine.economy_rates import find_rate_loop
from engine.item_effects import consumed_value
from engine.limits import MAX_SAFE_INTEGER

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
KINDS = ("arbitrage", "reward-loop", "unreachable", "no-sink", "earn-bound")
MAX_ARBITRAGE_FINDINGS = 8  # each found cycle's SKUs are set aside to look for another
MAX_XP = MAX_SAFE_INTEGER  # engine.rules.MAX_XP, restated: rules imports far more than this needs


@dataclass(frozen=True)
class Finding:
    kind: str
    severity: Severity
    path: str  # where in the document, as validation errors name it: `skus[1].grants`
    message: str
    cycle: tuple[str, ...] | None = None  # arbitrage: the purchases, then the net gain

    def to_document(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "kind": self.kind,
            "severity": self.severity,
            "path": self.path,
            "message": self.message,
        }
        if self.cycle is not None:
            document["cycle"] = list(self.cycle)
        return document


def verify_document(document: Mapping[str, Any]) -> list[Finding]:
    """Findings of a document; raises `DefinitionError` when it is not a valid economy."""
    return verify_economy(parse_economy(document))


def verify_economy(economy: Economy) -> list[Finding]:
    """Every finding, errors first, then in document order within a severity."""
    economy = _consumed(economy)
    findings = [
        *_arbitrage(economy),
        *_reward_loops(economy),
        *_unreachable(economy),
        *_no_sink(economy),
        *_earn_bounds(economy),
    ]
    return sorted(findings, key=lambda finding: SEVERITIES.index(finding.severity))


def _consumed(economy: Economy) -> Economy:
    """The economy as if every item a SKU grants were consumed at once: its effects' currencies
    and XP join the SKU's grants (engine/item_effects.py), so a chest sold for 10 coins that
    gives 20 is the arbitrage it is. Boosts are left out: they never multiply purchase grants."""
    value = consumed_value({item_id: item.effects for item_id, item in economy.items.items()})
    skus = {}
    for sku_id, sku in economy.skus.items():
        xp, currencies = sku.grants.xp, dict(sku.grants.currencies)
        for grant in sku.grants.items:
            item_xp, item_currencies = value.get(grant.item_id, (0, {}))
            xp += item_xp * grant.quantity
            for currency, amount in item_currencies.items():
                currencies[currency] = currencies.get(currency, 0) + amount * grant.quantity
        skus[sku_id] = replace(sku, grants=replace(sku.grants, xp=xp, currencies=currencies))
    return replace(economy, skus=skus)


def has_errors(findings: list[Finding]) -> bool:
    return any(finding.severity == "error" for finding in findings)


def _index(mapping: Mapping[str, Any], key: str) -> int:
    """Position of an entry in its section: a valid document's entries are parsed in order."""
    return list(mapping).index(key)


def _amounts(amounts: Mapping[str, int]) -> str:
    return ", ".join(f"{amount} {currency}" for currency, amount in amounts.items()) or "nothing"


# --- arbitrage -------------------------------------------------------------------------------


def net_matrix(economy: Economy, skus: list[str]) -> dict[str, dict[str, int]]:
    """currency -> SKU -> what one purchase of the SKU changes that currency by."""
    matrix: dict[str, dict[str, int]] = {currency: {} for currency in economy.currencies}
    for sku_id in skus:
        sku = economy.skus[sku_id]
        for currency, amount in sku.grants.currencies.items():
            matrix[currency][sku_id] = matrix[currency].get(sku_id, 0) + amount
        for currency, amount in sku.price.items():
            matrix[currency][sku_id] = matrix[currency].get(sku_id, 0) - amount
    return matrix


def _candidates(economy: Economy, excluded: set[str]) -> list[str]:
    """SKUs that can be part of a cycle: each grants some currency, and every currency it costs
    is granted by some other candidate (else that currency only ever falls)."""
    skus = [s for s in economy.skus if s not in excluded and any(economy.skus[s].grants.currencies.values())]
    while True:
        granted = {c for s in skus for c, amount in economy.skus[s].grants.currencies.items() if amount}
        kept = [s for s in skus if all(c in granted for c in economy.skus[s].price)]
        if kept == skus:
            return skus
        skus = kept


def find_arbitrage(economy: Economy, excluded: set[str] | None = None) -> dict[str, int] | None:
    """SKU -> purchases of a mix that ends with more of some currency and less of none, or None."""
    skus = _candidates(economy, excluded or set())
    if not skus:
        return None
    matrix = net_matrix(economy, skus)
    rows = [[Fraction(matrix[c].get(s, 0)) for s in skus] for c in matrix if matrix[c]]
    mix = find_nonnegative_gain(rows)
    if mix is None:
        return None
    scale = math.lcm(*(value.denominator for value in mix))
    counts = [int(value * scale) for value in mix]
    common = math.gcd(*counts)
    return {sku: count // common for sku, count in zip(skus, counts, strict=True) if count}


def mix_net(economy: Economy, mix: Mapping[str, int]) -> dict[str, int]:
    """What buying `mix` changes each currency by (zero changes left out)."""
    net: dict[str, int] = {}
    for sku_id, count in mix.items():
        sku = economy.skus[sku_id]
        for currency, amount in sku.grants.currencies.items():
            net[currency] = net.get(currency, 0) + amount * count
        for currency, amount in sku.price.items():
            net[currency] = net.get(currency, 0) - amount * count
    return {currency: amount for currency, amount in net.items() if amount}


def _arbitrage(economy: Economy) -> list[Finding]:
    findings: list[Finding] = []
    excluded: set[str] = set()
    while len(findings) < MAX_ARBITRAGE_FINDINGS:
        try:
            mix = find_arbitrage(economy, excluded)
        except TooLargeError:
            return [*findings, *_too_large(economy, excluded)]
        if mix is None:
            break
        findings.append(_arbitrage_finding(economy, mix))
        excluded.update(mix)
    return findings


def _too_large(economy: Economy, excluded: set[str]) -> list[Finding]:
    """The fast check's loop, if any, and a warning that the rest went unchecked."""
    message = (
        "the store is too large to search for arbitrage in full in time: only loops of SKUs that each "
        "turn one currency into another were checked."
    )
    unchecked = Finding("arbitrage", "warning", "skus", message)
    mix = find_rate_loop(economy, _candidates(economy, excluded))
    return [unchecked] if mix is None else [_arbitrage_finding(economy, mix), unchecked]


def _arbitrage_finding(economy: Economy, mix: Mapping[str, int]) -> Finding:
    steps = tuple(
        f"buy {sku_id} x{count}: pay {_amounts({c: a * count for c, a in economy.skus[sku_id].price.items()})}, "
        f"get {_amounts({c: a * count for c, a in economy.skus[sku_id].grants.currencies.items() if a})}"
        for sku_id, count in mix.items()
    )
    gain = mix_net(economy, mix)
    net = ", ".join(f"{'+' if amount > 0 else ''}{amount} {currency}" for currency, amount in gain.items())
    first = next(iter(mix))
    names = " and ".join(mix)
    return Finding(
        kind="arbitrage",
        severity="error",
        path=f"skus[{_index(economy.skus, first)}]",
        message=(
            f"buying {names} in a loop makes currency from nothing ({net} per round): a player "
            "can repeat it forever. Raise a price or lower a grant so the loop loses."
        ),
        cycle=(*steps, f"net per round: {net}"),
    )


# --- reward loops ----------------------------------------------------------------------------


def _raises(grants: Grants) -> set[str]:
    """Condition metrics a payment moves."""
    metrics = {f"earned.{currency}" for currency, amount in grants.currencies.items() if amount}
    if grants.xp:
        metrics |= {"xp", "level"}
    return metrics


def _reward_loops(economy: Economy) -> list[Finding]:
    """Achievements whose rewards count toward each other (or toward themselves): each unlocks
    once, so the engine stops the loop, but the design almost always meant something else."""
    feeds = {
        a.id: {
            b.id
            for b in economy.achievements.values()
            if _raises(a.rewards) & {condition.metric for condition in b.conditions}
        }
        for a in economy.achievements.values()
    }
    findings: list[Finding] = []
    for component in _cycles(feeds):
        first = component[0]
        path = f"achievements[{_index(economy.achievements, first)}].rewards"
        if len(component) == 1:
            message = (
                f"achievement {first}'s reward counts toward its own condition: it reads what it pays. "
                "It unlocks once, so the reward cannot re-trigger it, but a repeatable reward was probably "
                "meant; make the condition read something else."
            )
        else:
            chain = " -> ".join([*component, first])
            message = (
                f"achievements reward each other ({chain}): unlocking one pays toward the next, so one "
                "command can unlock them all at once. Each unlocks once, so it ends, but break the loop "
                "unless that cascade is intended."
            )
        findings.append(Finding(kind="reward-loop", severity="warning", path=path, message=message))
    return findings


def _cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Strongly connected components that hold a cycle (Tarjan), members in document order."""
    order = {node: position for position, node in enumerate(graph)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node], key=order.__getitem__):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                found.append(sorted(component, key=order.__getitem__))

    for node in graph:  # at most MAX_ACHIEVEMENTS deep: within Python's recursion limit
        if node not in index:
            visit(node)
    return sorted(found, key=lambda component: order[component[0]])


# --- unreachable -----------------------------------------------------------------------------


def _too_large_rewards(economy: Economy, grants: Grants) -> list[str]:
    return [
        f"{grant.quantity} {grant.item_id} (stackLimit {economy.items[grant.item_id].stack_limit})"
        for grant in grants.items
        if grant.quantity > economy.items[grant.item_id].stack_limit
    ]


def _unreachable_achievement(economy: Economy, achievement_id: str) -> str | None:
    for condition in economy.achievements[achievement_id].conditions:
        if condition.metric == "level" and condition.gte > economy.xp_curve.max_level:
            return f"it needs level {condition.gte}, but the XP curve ends at level {economy.xp_curve.max_level}"
        if condition.metric == "xp" and condition.gte > MAX_XP:
            return f"it needs {condition.gte} XP, more than a player can hold ({MAX_XP})"
        if condition.metric == "purchases" and condition.gte > 0 and not economy.skus:
            return "it needs purchases, but the store sells nothing"
    return None


def _unreachable(economy: Economy) -> list[Finding]:
    findings: list[Finding] = []
    for position, achievement in enumerate(economy.achievements.values()):
        path = f"achievements[{position}]"
        reason = _unreachable_achievement(economy, achievement.id)
        if reason is not None:
            message = f"no player can unlock achievement {achievement.id}: {reason}."
            findings.append(Finding("unreachable", "warning", f"{path}.conditions", message))
        too_large = _too_large_rewards(economy, achievement.rewards)
        if too_large:
            message = (
                f"achievement {achievement.id} rewards more than a stack holds ({', '.join(too_large)}): the "
                "command that would unlock it is always refused with stack-limit, so a player who meets its "
                "conditions is stuck. Lower the quantity or raise the item's stackLimit."
            )
            findings.append(Finding("unreachable", "error", f"{path}.rewards.items", message))
    for position, quest in enumerate(economy.quests.values()):
        too_large = _too_large_rewards(economy, quest.rewards)
        if too_large:
            message = (
                f"quest {quest.id} can never be completed: its reward is more than a stack holds "
                f"({', '.join(too_large)}), so the last objective's progress is always refused with "
                "stack-limit. Lower the quantity or raise the item's stackLimit."
            )
            findings.append(Finding("unreachable", "error", f"quests[{position}].rewards.items", message))
    for position, threshold in enumerate(economy.xp_curve.thresholds):
        if threshold > MAX_XP:
            where = "xpCurve.formula.maxLevel" if economy.xp_curve.formula else f"xpCurve.levels[{position}]"
            message = (
                f"levels {position + 1} to {economy.xp_curve.max_level} need more XP than a player can hold "
                f"({MAX_XP}): no player reaches them. Lower maxLevel or the growth."
            )
            findings.append(Finding("unreachable", "warning", where, message))
            break
    granted = {
        grant.item_id
        for grants in (
            *(sku.grants for sku in economy.skus.values()),
            *(a.rewards for a in economy.achievements.values()),
            *(q.rewards for q in economy.quests.values()),
        )
        for grant in grants.items
    }
    for position, item in enumerate(economy.items.values()):
        if item.id not in granted:
            message = (
                f"no SKU, quest or achievement gives item {item.id}: only the game server's grant command "
                "can. Fine for items the game awards itself; otherwise add it to a SKU or a reward."
            )
            findings.append(Finding("unreachable", "info", f"items[{position}]", message))
    return findings


# --- sinks and sources -----------------------------------------------------------------------


def _no_sink(economy: Economy) -> list[Finding]:
    priced = {currency for sku in economy.skus.values() for currency in sku.price}
    return [
        Finding(
            "no-sink",
            "warning",
            f"currencies[{position}]",
            f"nothing in this economy spends {currency}: no SKU is priced in it, so only the game server's "
            "debits remove it and its supply only grows. Price a SKU in it, or debit it in the game.",
        )
        for position, currency in enumerate(economy.currencies)
        if currency not in priced
    ]


def earn_bounds(economy: Economy) -> dict[str, dict[str, int]]:
    """currency -> one-time source (`quest:<id>`, `achievement:<id>`) -> what it pays a player,
    once ever (so also at most that per day)."""
    bounds: dict[str, dict[str, int]] = {currency: {} for currency in economy.currencies}
    for kind, entries in (("quest", economy.quests), ("achievement", economy.achievements)):
        for entry in entries.values():
            for currency, amount in entry.rewards.currencies.items():
                if amount:
                    bounds[currency][f"{kind}:{entry.id}"] = amount
    return bounds


def _earn_bounds(economy: Economy) -> list[Finding]:
    findings: list[Finding] = []
    for position, (currency, sources) in enumerate(earn_bounds(economy).items()):
        once = ", ".join(f"{source} {amount}" for source, amount in sources.items())
        sold = [sku.id for sku in economy.skus.values() if sku.grants.currencies.get(currency)]
        parts = [f"at most {sum(sources.values())} in all from rewards ({once})" if sources else "no rewards"]
        if sold:
            parts.append(f"purchases of {', '.join(sold)}: no daily bound but the wallet paying for them")
        parts.append("credits: no bound (the game server decides)")
        message = f"what one player can earn of {currency} per day: " + "; ".join(parts) + "."
        findings.append(Finding("earn-bound", "info", f"currencies[{position}]", message))
    return findings
