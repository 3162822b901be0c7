"""A refusal of a keyed command is remembered without a journal record, so the store's epoch
fence does not cover it. Found by the simulator (seed 233): a refusal decided before a handoff
and made durable after it was answered, while the slot's new owner had already accepted a retry
of the same key. The host now answers such a refusal `wrong-owner` instead."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import yaml

from actors.host import CommandRequest, ShardHost
from actors.slots import WRONG_OWNER, SlotGate
from actors.stores.base import SlotOwner
from actors.stores.sqlite import SqliteStore
from engine import commands as c
from sim.clock import SimClock
from sim.loop import SimLoop
from sim.world import ECONOMY

T, P = "acme", "space"


async def _refusal_landing_during_a_handoff(path: Path, loop: SimLoop, *, timed_out: bool) -> Any:
    store = SqliteStore(path / "ludex.sqlite3")
    host = ShardHost(store, clock=SimClock(loop), slot_gate=SlotGate(4, "h0"))
    await store.open()
    await store.init_slots([SlotOwner(slot, "h0", 1) for slot in range(4)])
    await host.start(sweep=False)
    assert (await host.define_economy(T, P, yaml.safe_load(ECONOMY.read_text()))).ok
    assert (await host.execute([CommandRequest(T, P, "ann", c.CreatePlayer(username="ann"))]))[0].ok
    slot = host.slots.slot(T, P, "ann")
    loop.slow_io = lambda: 5.0  # every store call from now on takes five seconds
    debit = asyncio.ensure_future(host.execute([CommandRequest(T, P, "ann", c.Debit("coins", 10), "key-1")]))
    entity = host.entities.get(f"player:{T}/{P}/ann")
    while "key-1" not in entity.inflight:  # decided (refused), its remembered answer not durable yet
        await asyncio.sleep(0.1)
    if timed_out:
        await host.release_slots([slot], timeout_s=1.0)  # the drain gives up; the slot moves on
        host.forget_slots([slot])
    outcome = (await debit)[0]
    loop.slow_io = lambda: 0.0
    await host.stop()
    return outcome


def _run(tmp_path: Path, *, timed_out: bool) -> Any:
    loop = SimLoop(random.Random(0))
    try:
        return loop.run_until_complete(_refusal_landing_during_a_handoff(tmp_path, loop, timed_out=timed_out))
    finally:
        loop.bury()


def test_a_refusal_made_durable_after_its_slot_moved_is_answered_wrong_owner(tmp_path: Path) -> None:
    assert _run(tmp_path, timed_out=True).slug == WRONG_OWNER


def test_a_refusal_made_durable_while_the_slot_stays_is_answered(tmp_path: Path) -> None:
    assert _run(tmp_path, timed_out=False).slug == "insufficient-funds"
