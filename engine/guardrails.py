"""Economy guardrails, as the economy defines them: caps on how much of a currency or item a
player (per-player rate cap) or a whole project (project budget) may receive per fixed UTC
window (minute, hour, day). Checking them is `engine/guardrail_checks.py`.

Windows are fixed: a window of `per` seconds starts at a multiple of `per` since the epoch, so
a cap is never exceeded inside one window (refuse) and every host agrees where windows begin.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.limits import MAX_SAFE_INTEGER

PER_SECONDS: Mapping[str, int] = {"minute": 60, "hour": 3600, "day": 86400}
ACTIONS = ("refuse", "flag")
MAX_GUARDRAILS = 32
FLAG_PREFIX = "guardrail:"
_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_ALLOWED = ("id", "currency", "itemId", "source", "perPlayer", "project", "action")


@dataclass(frozen=True)
class Limit:
    amount: int
    per: str

    @property
    def seconds(self) -> int:
        return PER_SECONDS[self.per]

    def window(self, epoch_s: int) -> int:
        """The start (epoch seconds) of the window holding `epoch_s`."""
        return epoch_s - epoch_s % self.seconds

    def to_document(self) -> dict[str, Any]:
        return {"amount": self.amount, "per": self.per}


@dataclass(frozen=True)
class Guardrail:
    id: str
    currency: str | None
    item_id: str | None
    source: str | None
    per_player: Limit | None
    project: Limit | None
    action: str

    def to_document(self) -> dict[str, Any]:
        document: dict[str, Any] = {"id": self.id}
        if self.currency is not None:
            document["currency"] = self.currency
        if self.item_id is not None:
            document["itemId"] = self.item_id
        if self.source is not None:
            document["source"] = self.source
        if self.per_player is not None:
            document["perPlayer"] = self.per_player.to_document()
        if self.project is not None:
            document["project"] = self.project.to_document()
        document["action"] = self.action
        return document


# ----------------------------------------------------------------------------------- parsing

Report = Callable[[str, str], None]


def _limit(value: object, path: str, report: Report) -> Limit | None:
    if not isinstance(value, Mapping):
        report(path, "must be a mapping {amount, per}")
        return None
    ok = True
    for key in value:
        if key not in ("amount", "per"):
            report(f"{path}.{key}", "unknown field")
            ok = False
    amount = value.get("amount")
    if not isinstance(amount, int) or isinstance(amount, bool) or not 1 <= amount <= MAX_SAFE_INTEGER:
        report(f"{path}.amount", f"must be an integer from 1 to {MAX_SAFE_INTEGER}")
        ok = False
    per = value.get("per")
    if per not in PER_SECONDS:
        report(f"{path}.per", "must be 'minute', 'hour' or 'day'")
        ok = False
    return Limit(amount, per) if ok and isinstance(amount, int) and isinstance(per, str) else None


def parse_guardrails(value: object, currency_ids: set[str], item_ids: set[str], report: Report) -> dict[str, Guardrail]:
    """Well-formed guardrails by id; `report(path, message)` hears every problem."""
    guardrails: dict[str, Guardrail] = {}
    if not isinstance(value, list | tuple):
        report("guardrails", "must be a list")
        return guardrails
    if len(value) > MAX_GUARDRAILS:
        report("guardrails", f"must have at most {MAX_GUARDRAILS} entries")
        return guardrails
    for index, entry in enumerate(value):
        parsed = _guardrail(entry, f"guardrails[{index}]", currency_ids, item_ids, report, guardrails)
        if parsed is not None:
            guardrails[parsed.id] = parsed
    return guardrails


def _guardrail(
    entry: object,
    path: str,
    currency_ids: set[str],
    item_ids: set[str],
    report: Report,
    seen: Mapping[str, Guardrail],
) -> Guardrail | None:
    if not isinstance(entry, Mapping):
        report(path, "must be a mapping")
        return None
    problems: list[tuple[str, str]] = []
    for key in entry:
        if key not in _ALLOWED:
            problems.append((f"{path}.{key}", "unknown field"))
    guardrail_id = entry.get("id")
    if not isinstance(guardrail_id, str) or not _ID.fullmatch(guardrail_id):
        problems.append((f"{path}.id", "must be 1 to 64 letters, digits, '-', '_' or '.'"))
    elif guardrail_id in seen:
        problems.append((f"{path}.id", f"duplicate id {guardrail_id!r}"))
    currency, item_id = entry.get("currency"), entry.get("itemId")
    if (currency is None) == (item_id is None):
        problems.append((path, "must name exactly one of 'currency' or 'itemId'"))
    elif currency is not None and currency not in currency_ids:
        problems.append((f"{path}.currency", f"unknown currency {currency!r}"))
    elif item_id is not None and item_id not in item_ids:
        problems.append((f"{path}.itemId", f"unknown item {item_id!r}"))
    source = entry.get("source")
    if source is not None and (not isinstance(source, str) or not 1 <= len(source) <= 128):
        problems.append((f"{path}.source", "must be an op, a SKU or a reason (1 to 128 characters)"))
    action = entry.get("action")
    if action not in ACTIONS:
        problems.append((f"{path}.action", "must be 'refuse' or 'flag'"))
    if "perPlayer" not in entry and "project" not in entry:
        problems.append((path, "must set 'perPlayer', 'project' or both"))
    for problem in problems:
        report(*problem)
    broken = bool(problems)
    limits: dict[str, Limit | None] = {}
    for key in ("perPlayer", "project"):
        if key in entry:
            limits[key] = _limit(entry[key], f"{path}.{key}", report)
            broken = broken or limits[key] is None
    if broken:
        return None
    return Guardrail(
        id=str(guardrail_id),
        currency=currency,
        item_id=item_id,
        source=source,
        per_player=limits.get("perPlayer"),
        project=limits.get("project"),
        action=str(action),
    )
