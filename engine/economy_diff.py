"""What changes between two economy documents, as lines a human reviews before applying:
`+ currency gems (hard)`, `- item shield`, `~ sku potion-pack: price {coins: 100} -> {coins: 120}`.

Valid documents are first put in their canonical form (`parse_economy` then
`economy_to_document`), so defaults written out or left implicit (a SKU's title, `bundle:
false`) are not reported as changes. Sections come in a fixed order, entries by id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from engine.client_policy import DEFAULT_CLIENT_ALLOW
from engine.definitions import DefinitionError, economy_to_document, parse_economy

Document = Mapping[str, Any]

# section -> (singular noun, id key, fields compared, describe a new entry)
_SECTIONS: dict[str, tuple[str, str, tuple[str, ...], Callable[[Mapping[str, Any]], str]]] = {
    "currencies": ("currency", "id", ("kind",), lambda e: f" ({e.get('kind')})"),
    "items": ("item", "id", ("stackLimit", "effects"), lambda e: f" (stackLimit {e.get('stackLimit')})"),
    "skus": (
        "sku",
        "sku",
        ("title", "price", "grants", "bundle"),
        lambda e: f" (price {_show(e.get('price', {}))})",
    ),
    "counters": ("counter", "id", ("title",), lambda e: ""),
    "achievements": ("achievement", "id", ("title", "conditions", "rewards"), lambda e: ""),
    "quests": ("quest", "id", ("title", "objectives", "rewards"), lambda e: ""),
    "leaderboards": (
        "leaderboard",
        "id",
        ("title", "metric", "operator", "order", "reset"),
        lambda e: f" ({e.get('metric')}, {e.get('operator')}, {e.get('order')}, reset {e.get('reset')})",
    ),
    "guardrails": (
        "guardrail",
        "id",
        ("currency", "itemId", "source", "perPlayer", "project", "action"),
        lambda e: f" ({e.get('currency') or e.get('itemId')}, {e.get('action')})",
    ),
}


def diff_economies(old: Document | None, new: Document) -> list[str]:
    """Every difference from `old` (None: no economy yet) to `new`; empty when identical."""
    before = _canonical(old) if old is not None else {}
    after = _canonical(new)
    lines: list[str] = []
    for section, (noun, id_key, compared, describe) in _SECTIONS.items():
        lines.extend(_diff_entries(noun, id_key, compared, describe, before.get(section), after.get(section)))
    lines.extend(_diff_flags(before.get("featureFlags"), after.get("featureFlags")))
    lines.extend(_diff_curve(before.get("xpCurve") if old is not None else None, after.get("xpCurve")))
    lines.extend(_diff_client_policy(before.get("clientPolicy"), after.get("clientPolicy")))
    return lines


def _canonical(document: Document) -> dict[str, Any]:
    try:
        return economy_to_document(parse_economy(document))
    except DefinitionError:
        return dict(document)


def _by_id(entries: Any, id_key: str) -> dict[str, Mapping[str, Any]]:
    if not isinstance(entries, list):
        return {}
    return {str(e[id_key]): e for e in entries if isinstance(e, Mapping) and id_key in e}


def _diff_entries(
    noun: str,
    id_key: str,
    compared: tuple[str, ...],
    describe: Callable[[Mapping[str, Any]], str],
    old_entries: Any,
    new_entries: Any,
) -> list[str]:
    old, new = _by_id(old_entries, id_key), _by_id(new_entries, id_key)
    lines: list[str] = []
    for entry_id in sorted(old.keys() | new.keys()):
        if entry_id not in new:
            lines.append(f"- {noun} {entry_id}")
        elif entry_id not in old:
            lines.append(f"+ {noun} {entry_id}{describe(new[entry_id])}")
        else:
            changes = [
                f"{field} {_show(old[entry_id].get(field))} -> {_show(new[entry_id].get(field))}"
                for field in compared
                if old[entry_id].get(field) != new[entry_id].get(field)
            ]
            if changes:
                lines.append(f"~ {noun} {entry_id}: {'; '.join(changes)}")
    return lines


def _diff_flags(old_flags: Any, new_flags: Any) -> list[str]:
    old = dict(old_flags) if isinstance(old_flags, Mapping) else {}
    new = dict(new_flags) if isinstance(new_flags, Mapping) else {}
    lines: list[str] = []
    for name in sorted(old.keys() | new.keys(), key=str):
        if name not in new:
            lines.append(f"- featureFlag {name}")
        elif name not in old:
            lines.append(f"+ featureFlag {name} = {_show(new[name])}")
        elif old[name] != new[name] or type(old[name]) is not type(new[name]):
            lines.append(f"~ featureFlag {name}: {_show(old[name])} -> {_show(new[name])}")
    return lines


def _diff_curve(old: Any, new: Any) -> list[str]:
    if old == new:
        return []
    if old is None:
        return [f"+ xpCurve: {_curve(new)}"]
    if isinstance(old, Mapping) and isinstance(new, Mapping) and "levels" in old and "levels" in new:
        before, after = _count(old["levels"]), _count(new["levels"])
        counted = f"{before} -> {after} levels" if before != after else f"{after} levels"
        return [f"~ xpCurve: levels changed ({counted})"]
    return [f"~ xpCurve: {_curve(old)} -> {_curve(new)}"]


def _diff_client_policy(old: Any, new: Any) -> list[str]:
    """The ops player sessions may send (`clientPolicy.allow`), the default when absent."""
    before, after = _client_allow(old), _client_allow(new)
    if before == after:
        return []
    return [f"~ clientPolicy: allow [{', '.join(before)}] -> [{', '.join(after)}]"]


def _client_allow(policy: Any) -> list[str]:
    allow = policy.get("allow") if isinstance(policy, Mapping) else None
    return sorted(str(op) for op in allow) if isinstance(allow, list) else sorted(DEFAULT_CLIENT_ALLOW)


def _curve(curve: Any) -> str:
    if isinstance(curve, Mapping) and "levels" in curve:
        return f"levels ({_count(curve['levels'])} levels)"
    if isinstance(curve, Mapping) and "formula" in curve:
        return f"formula {_show(curve['formula'])}"
    return _show(curve)


def _count(levels: Any) -> int:
    return len(levels) if isinstance(levels, list) else 0


def _show(value: Any) -> str:
    """YAML flow style, the way the definition files are written: `{coins: 100}`, `[a, b]`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, str):
        return repr(value)
    return str(value)
