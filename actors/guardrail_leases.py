"""Project-wide guardrail budgets, shared by every shard host through leases.

A project budget (`guardrails[].project`: an amount per hour or day) is spent on many hosts at
once. Each host spends only what it leased; a lease is taken from one document per guardrail in
the store, `{window, granted}`, by compare-and-set (`actors.documents.update_document`):

1. a host that lacks room for a command asks for `max(share, what the command needs)`, where
   `share` is the budget divided by `LEASE_PARTS` (at least 1);
2. the change grants at most `budget - granted` for the current window (a newer window resets
   `granted` to 0; a host whose clock is behind the document's window gets nothing);
3. the host adds the grant to its local room and spends from it as commands are accepted.

So the amount granted in a window never exceeds the budget, and nothing is emitted without a
grant: the project never receives more than its budget in a window, whatever the number of hosts
and however slots move (a lease belongs to the host, not to a slot). The price is the other way:
room a host leased and did not spend (at most one lease per host, lost when it stops or when the
window ends) may let the budget trip while up to `hosts x share` of it is unspent.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from actors.documents import update_document
from actors.stores.base import DocumentStore

LEASE_KIND = "guardrail_budget"
LEASE_PARTS = 16


@dataclass
class _Room:
    window: int
    left: int


def lease_share(budget: int) -> int:
    return max(1, budget // LEASE_PARTS)


class BudgetLeases:
    """One host's leases: its room per (tenant, project, guardrail) in the current window."""

    def __init__(self, store: DocumentStore) -> None:
        self.store = store
        self._rooms: dict[str, _Room] = {}
        self._leasing: dict[str, asyncio.Lock] = {}  # one lease request per key at a time

    def room(self, key: str, window: int) -> int:
        held = self._rooms.get(key)
        return held.left if held is not None and held.window == window else 0

    async def reserve(self, key: str, window: int, budget: int, amount: int) -> int:
        """Room for `amount` in `window` if the budget has it (leasing more when needed);
        answers the room now held, which is less than `amount` when the budget is spent."""
        if self.room(key, window) >= amount:
            return self.room(key, window)
        lock = self._leasing.setdefault(key, asyncio.Lock())
        async with lock:  # commands of other players waiting here find the room the first leased
            left = self.room(key, window)
            if left >= amount:
                return left
            granted = await self._lease(key, window, budget, max(lease_share(budget), amount - left))
            left = self.room(key, window) + granted  # spending meanwhile only lowered it
            self._rooms[key] = _Room(window, left)
            return left

    async def _lease(self, key: str, window: int, budget: int, ask: int) -> int:
        """Take up to `ask` of `window`'s budget from the shared document; answers what it got."""
        granted = 0

        def take(current: dict[str, Any] | None) -> dict[str, Any] | None:
            nonlocal granted
            granted = 0
            held = 0
            if current is not None:
                if current["window"] > window:  # our clock is behind: that window is over for us
                    return None
                if current["window"] == window:
                    held = int(current["granted"])
            granted = max(0, min(ask, budget - held))
            if granted == 0:
                return None
            return {"window": window, "granted": held + granted}

        await update_document(self.store, LEASE_KIND, key, take)
        return granted

    def spend(self, key: str, window: int, amount: int) -> None:
        held = self._rooms.get(key)
        if held is not None and held.window == window:
            held.left = max(0, held.left - amount)


def lease_key(tenant: str, project: str, guardrail_id: str) -> str:
    return f"{tenant}/{project}/{guardrail_id}"
