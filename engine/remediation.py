"""Remediation, the pure part: which journal records a selection picks, what compensating
entries undo them per player, and how a clawback and a later credit split between balance and
debt. A clawback never makes a balance negative: what the balance cannot give is debt, and a
later credit of that currency pays the debt first (`rules._credit`, `rules._remediate`).

Records are plain `(seq, occurred_at, idempotency_key, request_id, command, events)` views of
the journal (`Source`), so this module reads no store."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from engine.limits import MAX_SAFE_INTEGER

Action = Literal["clawback", "revoke"]
REMEDIATE_OP = "remediate"


@dataclass(frozen=True)
class Split:
    """How an amount moved a balance and a debt."""

    moved: int  # clawback: taken from the balance; credit: paid to the debt
    balance_after: int
    debt_after: int


def clawback_split(balance: int, debt: int, amount: int) -> Split:
    """Take `amount`: the balance gives what it has, the rest adds to the debt."""
    taken = min(max(balance, 0), amount)
    return Split(taken, balance - taken, min(debt + amount - taken, MAX_SAFE_INTEGER))


def credit_split(balance: int, debt: int, amount: int) -> Split:
    """Credit `amount`: the debt takes its share first, the balance the rest."""
    repaid = min(debt, amount)
    return Split(repaid, balance + amount - repaid, debt - repaid)


@dataclass(frozen=True)
class Selection:
    """What `select` names; None matches anything. `until` is exclusive (RFC 3339 strings)."""

    since: str
    until: str
    op: str | None = None
    sku: str | None = None
    reason: str | None = None
    key_prefix: str | None = None
    request_id: str | None = None
    player_ids: frozenset[str] | None = None


@dataclass(frozen=True)
class Source:
    """One journal record of a player, as a selection sees it."""

    player_id: str
    seq: int
    occurred_at: str
    idempotency_key: str | None
    request_id: str | None
    command: Mapping[str, Any] | None
    events: Sequence[Mapping[str, Any]]

    @property
    def op(self) -> str | None:
        return None if self.command is None else self.command.get("op")


def selects(selection: Selection, source: Source) -> bool:
    """Whether `selection` picks `source`. A remediation's own records are never picked."""
    if source.op == REMEDIATE_OP or not selection.since <= source.occurred_at < selection.until:
        return False
    if selection.player_ids is not None and source.player_id not in selection.player_ids:
        return False
    if selection.op is not None and source.op != selection.op:
        return False
    if selection.sku is not None and (source.command or {}).get("sku") != selection.sku:
        return False
    if selection.key_prefix is not None and not (source.idempotency_key or "").startswith(selection.key_prefix):
        return False
    if selection.request_id is not None and source.request_id != selection.request_id:
        return False
    if selection.reason is not None:
        reasons = {(event.get("data") or {}).get("reason") for event in source.events}
        reasons.add((source.command or {}).get("reason"))
        if selection.reason not in reasons:
            return False
    return True


def compensated(sources: Iterable[Source]) -> set[int]:
    """Seqs earlier remediations already compensated (their commands name them): a new
    remediation over the same window takes nothing back twice, even after the idempotency
    window has passed."""
    done: set[int] = set()
    for source in sources:
        if source.op == REMEDIATE_OP:
            done.update(int(seq) for seq in (source.command or {}).get("sources", []))
    return done


@dataclass
class Plan:
    """One player's compensating entries: positive amounts are taken back, negative returned."""

    player_id: str
    currencies: dict[str, int] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)
    achievements: list[str] = field(default_factory=list)
    sources: list[int] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (any(self.currencies.values()) or any(self.items.values()) or self.achievements)

    def to_dict(self) -> dict[str, Any]:
        return {
            "playerId": self.player_id,
            "currencies": dict(self.currencies),
            "items": dict(self.items),
            "achievements": list(self.achievements),
            "sources": list(self.sources),
        }

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> Plan:
        return cls(
            str(document["playerId"]),
            {str(k): int(v) for k, v in document["currencies"].items()},
            {str(k): int(v) for k, v in document["items"].items()},
            [str(a) for a in document["achievements"]],
            [int(s) for s in document["sources"]],
        )


_SIGNS = {"wallet.credited": 1, "wallet.debited": -1, "item.granted": 1, "item.consumed": -1}


def plan_for(player_id: str, sources: Iterable[Source], action: Action) -> Plan:
    """The entries that undo `sources` (one player's selected records). Clawback: the net of
    what they credited and debited per currency and granted and consumed per item, so a
    mispriced purchase gives its price back as its grants are taken. Revoke: the achievements
    they unlocked (their rewards are currency and item credits: a clawback takes those)."""
    plan = Plan(player_id)
    for source in sources:
        plan.sources.append(source.seq)
        for event in source.events:
            kind, data = event["type"], event.get("data") or {}
            if action == "revoke":
                if kind == "achievement.unlocked" and data["achievementId"] not in plan.achievements:
                    plan.achievements.append(str(data["achievementId"]))
                continue
            sign = _SIGNS.get(kind)
            if sign is None:
                continue
            if kind.startswith("wallet."):
                plan.currencies[data["currency"]] = plan.currencies.get(data["currency"], 0) + sign * data["amount"]
            else:
                plan.items[data["itemId"]] = plan.items.get(data["itemId"], 0) + sign * data["quantity"]
    plan.currencies = {k: v for k, v in plan.currencies.items() if v}
    plan.items = {k: v for k, v in plan.items.items() if v}
    return plan


def preview(
    plan: Plan, balances: Mapping[str, int], debts: Mapping[str, int], inventory: Mapping[str, int]
) -> list[dict[str, Any]]:
    """The API's entries of `plan` on the player's current holdings: `{playerId, currency |
    itemId, amount, balanceAfter, debt}` (for an item, `debt` is what cannot be taken)."""
    entries: list[dict[str, Any]] = []
    for currency, amount in sorted(plan.currencies.items()):
        balance, debt = balances.get(currency, 0), debts.get(currency, 0)
        split = clawback_split(balance, debt, amount) if amount > 0 else credit_split(balance, debt, -amount)
        entries.append(_entry(plan.player_id, "currency", currency, amount, split.balance_after, split.debt_after))
    for item_id, quantity in sorted(plan.items.items()):
        held = inventory.get(item_id, 0)
        taken = min(held, quantity) if quantity > 0 else quantity
        entries.append(_entry(plan.player_id, "itemId", item_id, quantity, held - taken, quantity - taken))
    for achievement in plan.achievements:
        entries.append({"playerId": plan.player_id, "achievementId": achievement, "amount": 1})
    return entries


def _entry(player_id: str, key: str, name: str, amount: int, after: int, debt: int) -> dict[str, Any]:
    return {"playerId": player_id, key: name, "amount": amount, "balanceAfter": after, "debt": debt}


def totals(entries: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Per currency, item and achievement: how much is taken back (`amount`) and left as debt."""
    out: dict[str, dict[str, dict[str, int]]] = {"currencies": {}, "items": {}, "achievements": {}}
    for entry in entries:
        for key, group in (("currency", "currencies"), ("itemId", "items"), ("achievementId", "achievements")):
            if key in entry:
                row = out[group].setdefault(entry[key], {"amount": 0, "debt": 0, "players": 0})
                row["amount"] += int(entry["amount"])
                row["debt"] += int(entry.get("debt", 0))
                row["players"] += 1
    return out


def idempotency_key(remediation_id: str, player_id: str, sources: Sequence[int]) -> str:
    """The compensating command's key: the remediation, the player and the records it undoes,
    so a rerun or a resume sends the same key and the host applies it once."""
    digest = hashlib.blake2b(
        f"{remediation_id}#{player_id}#{','.join(map(str, sources))}".encode(), digest_size=10
    ).hexdigest()
    return f"remediation:{remediation_id}:{digest}"
