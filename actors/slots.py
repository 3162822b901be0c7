"""Which slots a shard host owns, and the gate every command passes on its way in.

A host serves a command only for a slot it owns, and stamps what it writes with the slot's
epoch (the store refuses a stale one). During a handoff the gate holds the slot's new commands
back while the commands already inside finish (their commits included); once the coordinator
says where the slot went, the held ones are answered `wrong-owner` and the ingress sends them to
the new owner. A host built without a slot count (tests, tools) owns everything, unfenced.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable
from typing import Any

from actors.stores.base import SlotClaim, SlotStore
from engine.outcomes import Outcome, Refusal
from engine.slots import slot_of, slot_of_path

WRONG_OWNER = "wrong-owner"
HANDOFF_WAIT_S = 30.0  # a held command gives up (wrong-owner) if no coordinator decides by then
DRAIN_POLL_S = 0.002


def wrong_owner_outcome(slot: int | None) -> Outcome:
    """Retryable: nothing was decided. The ingress refreshes its slot map and sends it again."""
    return Outcome.refused(Refusal(WRONG_OWNER, "this shard host does not own the slot", {"slot": slot}))


class SlotGate:
    def __init__(self, slots: int | None = None, host: str | None = None) -> None:
        self.slots = slots  # None: every entity is ours and nothing is stamped
        self.host = host
        self.owned: dict[int, int] = {}  # slot -> epoch
        self._inside: Counter[int] = Counter()
        self._held: dict[int, asyncio.Event] = {}  # slots being handed off

    @property
    def fenced(self) -> bool:
        return self.slots is not None

    def slot(self, tenant: str, project: str, player_id: str) -> int | None:
        return None if self.slots is None else slot_of(tenant, project, player_id, self.slots)

    def slot_of_key(self, key: str) -> int | None:
        return None if self.slots is None else slot_of_path(key.partition(":")[2], self.slots)

    def epoch(self, slot: int | None) -> int | None:
        return None if slot is None else self.owned.get(slot)

    def owns(self, slot: int | None, epoch: int | None) -> bool:
        """Whether this host still owns `slot` at `epoch` with no handoff of it under way."""
        return slot is None or (self.owned.get(slot) == epoch and slot not in self._held)

    async def enter(self, slot: int | None) -> bool:
        """Admit a command (True: call `leave` when it is answered); False: not ours."""
        if slot is None:
            return True
        held = self._held.get(slot)
        if held is not None:
            try:
                async with asyncio.timeout(HANDOFF_WAIT_S):  # not wait_for: see realtime_hub's feed
                    await held.wait()
            except TimeoutError:
                return False
        if slot not in self.owned:
            return False
        self._inside[slot] += 1
        return True

    def leave(self, slot: int | None) -> None:
        if slot is not None:
            self._inside[slot] -= 1
            if self._inside[slot] <= 0:
                del self._inside[slot]

    async def release(self, slots: Iterable[int], timeout_s: float) -> list[int]:
        """Hold new commands of `slots` and wait (up to `timeout_s`) until those inside are
        answered; answers the slots this host owned. They stay held until `adopt` or `forget`."""
        mine = [slot for slot in slots if slot in self.owned]
        for slot in mine:
            self._held.setdefault(slot, asyncio.Event())
        # The loop's clock (monotonic in production): a simulation on virtual time sees the same
        # deadline as its sleeps, where the process's clock made it depend on the machine's speed.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while any(self._inside[slot] for slot in mine) and loop.time() < deadline:
            await asyncio.sleep(DRAIN_POLL_S)
        return mine

    def adopt(self, owned: dict[int, int], *, exact: bool = False) -> list[int]:
        """Own these slots at these epochs (a later epoch this host claimed itself is kept);
        `exact`: and no others. Answers the slots no longer owned."""
        dropped = [slot for slot in self.owned if exact and slot not in owned]
        for slot in dropped:
            del self.owned[slot]
        for slot, epoch in owned.items():
            self.owned[slot] = max(epoch, self.owned.get(slot, 0))
        self._unhold([*owned, *dropped])
        return dropped

    def forget(self, slots: Iterable[int]) -> list[int]:
        """The slots went elsewhere: held commands are answered wrong-owner."""
        slots = list(slots)
        dropped = [slot for slot in slots if self.owned.pop(slot, None) is not None]
        self._unhold(slots)
        return dropped

    def _unhold(self, slots: Iterable[int]) -> None:
        for slot in slots:
            held = self._held.pop(slot, None)
            if held is not None:
                held.set()

    def snapshot(self) -> dict[str, Any]:
        return {"host": self.host, "slots": self.slots, "owned": dict(self.owned), "held": sorted(self._held)}


async def claim_own_slots(store: SlotStore, gate: SlotGate) -> None:
    """A host (re)starting takes the slots the table gives it, each one epoch on: an earlier
    incarnation of it that still writes (a process presumed dead) is refused from then on."""
    rows = await store.load_slots()
    moved = await store.move_slots([SlotClaim(r.slot, r.epoch, r.host) for r in rows if r.host == gate.host])
    gate.adopt({row.slot: row.epoch for row in moved}, exact=True)
