"""Virtual shards: entities hash to a fixed number of slots, and slots are dealt to shard hosts.

The slot of an entity never changes (the count is fixed for the life of the data), so moving
load between hosts means moving slots, never re-hashing players. These rules decide who owns
what: a fair share for every host (counts differ by at most one) reached with as few moves as
possible, so adding a host moves about `slots / hosts` slots and removing one moves only its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_SLOTS = 1024


def slot_of(tenant: str, project: str, player_id: str, slots: int) -> int:
    """Stable across processes and releases (unlike Python's `hash`): a restarted deployment
    finds every entity in the slot its journal rows name."""
    return slot_of_path(f"{tenant}/{project}/{player_id}", slots)


def slot_of_path(path: str, slots: int) -> int:
    """The slot of an entity by the path in its key (`player:{path}`), the same as `slot_of`."""
    digest = hashlib.blake2b(path.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % slots


@dataclass(frozen=True)
class Move:
    slot: int
    source: str | None  # None: the slot had no owner yet (a fresh table)
    target: str


def quotas(owners: Sequence[str | None], hosts: Sequence[str]) -> dict[str, int]:
    """How many slots each host ends up with: `len(owners) // len(hosts)`, one more for the
    first `len(owners) % len(hosts)` hosts by current holdings (so the hosts that already hold
    the most keep them), ties by name."""
    if not hosts:
        raise ValueError("at least one host is needed")
    if len(set(hosts)) != len(hosts):
        raise ValueError("host names must be distinct")
    base, extra = divmod(len(owners), len(hosts))
    held = {host: 0 for host in hosts}
    for owner in owners:
        if owner in held:
            held[owner] += 1
    ranked = sorted(hosts, key=lambda host: (-held[host], host))
    return {host: base + (1 if rank < extra else 0) for rank, host in enumerate(ranked)}


def rebalance(owners: Sequence[str | None], hosts: Sequence[str]) -> list[Move]:
    """The moves that give every host in `hosts` its quota. A slot moves only if its owner is
    not in `hosts` or holds more than its quota (then its highest-numbered slots go); freed
    slots go, in slot order, to the hosts short of their quota, in name order."""
    quota = quotas(owners, hosts)
    kept = dict.fromkeys(hosts, 0)
    freed: list[tuple[int, str | None]] = []
    for slot, owner in enumerate(owners):
        if owner in kept and kept[owner] < quota[owner]:
            kept[owner] += 1
        else:
            freed.append((slot, owner))
    moves: list[Move] = []
    freed.reverse()  # pop() from the end hands out the lowest slot first
    for host in sorted(hosts):
        for _ in range(quota[host] - kept[host]):
            slot, source = freed.pop()
            moves.append(Move(slot, source, host))
    assert not freed, "quotas add up to the slot count"
    return sorted(moves, key=lambda move: move.slot)


def apply_moves(owners: Sequence[str | None], moves: Sequence[Move]) -> list[str | None]:
    table = list(owners)
    for move in moves:
        table[move.slot] = move.target
    return table


def initial_owners(slots: int, hosts: Sequence[str]) -> list[str | None]:
    """A fresh table, dealt round-robin in the order `hosts` are given: slot `s` goes to host
    `s mod len(hosts)`. When the host count divides the slot count that is exactly where the
    fixed `hash mod N` sharding of earlier releases put every entity."""
    if not hosts:
        raise ValueError("at least one host is needed")
    return [hosts[slot % len(hosts)] for slot in range(slots)]


def handoff_batches(moves: Sequence[Move], batch_size: int) -> list[list[Move]]:
    """Moves grouped by (source, target) and cut into batches: one batch is one handoff (its
    source drains and snapshots those slots once), so a batch is the unit of unavailability."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    pairs: dict[tuple[str | None, str], list[Move]] = {}
    for move in moves:
        pairs.setdefault((move.source, move.target), []).append(move)
    return [
        group[start : start + batch_size]
        for _, group in sorted(pairs.items(), key=lambda item: (item[0][0] or "", item[0][1]))
        for start in range(0, len(group), batch_size)
    ]


def owned_by(owners: Sequence[str | None], host: str) -> list[int]:
    return [slot for slot, owner in enumerate(owners) if owner == host]
