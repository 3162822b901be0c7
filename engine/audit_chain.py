"""The audit log's hash chain: each entry of a tenant's log carries its place (`seq`), the hash of
the entry before it (`prev`) and its own `hash`, computed over a canonical encoding of the entry
and `prev`. Editing, removing or reordering any entry breaks the chain from there on, and
`verify` names the first entry that does not hold.

Personal values (the acting user's email, an `email` in `before`/`after`) enter the hash salted:
the hash covers `sha256(salt || value)`, never the value, and the salt sits beside the entry. An
erasure (`forget`) drops the value and its salt and keeps the salted digest in `sealed`, so the
entry hashes as before and the chain still verifies, while nothing left can be matched against a
guessed email. Pure rules: the caller brings the salts (random) and stores what these answer."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64  # the `prev` of a chain's first entry
CHAINED = ("id", "tenantId", "seq", "actor", "action", "target", "before", "after", "requestId", "occurredAt", "prev")
PERSONAL = ("actor", "before.email", "after.email")  # paths whose values enter the hash salted
START_ACTION = "audit.chain-start"  # the first entry of a chain over a log that had entries before


@dataclass(frozen=True)
class ChainHead:
    """Where a tenant's chain ends: the last entry's place, hash and id."""

    seq: int
    hash: str
    id: str

    def public(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash, "entryId": self.id}


@dataclass(frozen=True)
class ChainBreak:
    """The first entry that does not hold, and why (`edited`, `out-of-order`, `missing`,
    `truncated`), so an operator knows where to look first."""

    seq: int
    entry_id: str | None
    reason: str
    message: str


def canonical(value: Any) -> bytes:
    """One byte string per value: sorted keys, no spaces, UTF-8 (what the hash covers)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def salted_digest(salt: str, value: Any) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + canonical(value)).hexdigest()


def _get(entry: Mapping[str, Any], path: str) -> Any:
    head, _, field = path.partition(".")
    value = entry.get(head)
    if not field:
        return value
    return value.get(field) if isinstance(value, Mapping) else None


def _set(entry: dict[str, Any], path: str, value: Any) -> None:
    head, _, field = path.partition(".")
    if not field:
        entry[head] = value
    elif isinstance(entry.get(head), Mapping):
        entry[head] = {**entry[head], field: value}


def personal_paths(entry: Mapping[str, Any]) -> list[str]:
    """The personal paths that hold a value in this entry (they get a salt when chained)."""
    return [path for path in PERSONAL if _get(entry, path) is not None]


def hashed_view(entry: Mapping[str, Any]) -> dict[str, Any]:
    """What the hash covers: the chained fields, each personal value replaced by its salted
    digest (from its salt while the value is kept, from `sealed` once erased)."""
    view = {name: entry.get(name) for name in CHAINED}
    salts, sealed = entry.get("salts") or {}, entry.get("sealed") or {}
    for path in PERSONAL:
        if path in salts:
            _set(view, path, {"digest": salted_digest(salts[path], _get(entry, path))})
        elif path in sealed:
            _set(view, path, {"digest": sealed[path]})
    return view


def entry_hash(entry: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(hashed_view(entry))).hexdigest()


def chain_entry(fields: Mapping[str, Any], head: ChainHead | None, salts: Mapping[str, str]) -> dict[str, Any]:
    """`fields` as the entry after `head` (None: the chain's first): its `seq`, `prev`, the salts
    of its personal values (taken from `salts`, which must hold one per `personal_paths`) and its
    `hash`."""
    entry = {name: fields.get(name) for name in CHAINED if name not in ("seq", "prev")}
    entry["seq"], entry["prev"] = (1, GENESIS) if head is None else (head.seq + 1, head.hash)
    entry["salts"] = {path: salts[path] for path in personal_paths(entry)}
    entry["hash"] = entry_hash(entry)
    return entry


def head_of(entry: Mapping[str, Any]) -> ChainHead:
    return ChainHead(int(entry["seq"]), str(entry["hash"]), str(entry["id"]))


def forget(entry: Mapping[str, Any], values: frozenset[str]) -> dict[str, Any] | None:
    """The entry with every personal value among `values` erased: value and salt gone, the salted
    digest kept in `sealed` (so `entry_hash` is unchanged). None when it holds none of them."""
    salts = dict(entry.get("salts") or {})
    hits = [path for path in PERSONAL if isinstance(value := _get(entry, path), str) and value in values]
    if not hits:
        return None
    erased, sealed = dict(entry), dict(entry.get("sealed") or {})
    for path in hits:
        if path in salts:  # an entry written before the chain started has no salt: only dropped
            sealed[path] = salted_digest(salts.pop(path), _get(entry, path))
        _set(erased, path, None)
    if "seq" not in entry:
        return erased
    erased["salts"], erased["sealed"] = salts, sealed
    return erased


def verify(entries: Sequence[Mapping[str, Any]], head: ChainHead | None) -> ChainBreak | None:
    """Walk a tenant's chained entries in their stored order against the chain's `head`; None
    when every entry holds and the last one is the head, else the first that does not."""
    prev, expected = GENESIS, 1
    for entry in entries:
        seq, entry_id = entry.get("seq"), entry.get("id")
        if seq != expected:
            reason = "missing" if isinstance(seq, int) and seq > expected else "out-of-order"
            return ChainBreak(expected, entry_id, reason, f"entry {expected} expected, found {seq!r} ({entry_id})")
        if entry.get("prev") != prev:
            return ChainBreak(expected, entry_id, "edited", f"entry {seq} ({entry_id}) does not follow entry {seq - 1}")
        if entry.get("hash") != entry_hash(entry):
            return ChainBreak(
                expected, entry_id, "edited", f"entry {seq} ({entry_id}) was changed after it was written"
            )
        prev, expected = str(entry["hash"]), expected + 1
    last = expected - 1
    if head is not None and (head.seq != last or head.hash != prev):
        if head.seq > last:
            return ChainBreak(last + 1, head.id, "truncated", f"the chain ends at {last}; its head is {head.seq}")
        return ChainBreak(head.seq, head.id, "edited", f"the head ({head.seq}) does not match entry {last}")
    if head is None and last:
        return ChainBreak(last, None, "truncated", "entries are chained but the chain has no head")
    return None
