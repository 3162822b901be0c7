"""The slot gate's handoff drain: it waits for the commands inside, up to a deadline on the
event loop's clock (so a simulation on virtual time sees the deadline its sleeps see)."""

from __future__ import annotations

import asyncio
import random
import time

from actors.slots import SlotGate
from sim.loop import SimLoop


def test_a_release_gives_up_on_a_command_that_never_leaves_after_its_timeout_on_the_loops_clock() -> None:
    loop = SimLoop(random.Random(0))
    gate = SlotGate(slots=4, host="h0")
    gate.adopt({1: 3})

    async def release_with_one_command_stuck_inside() -> list[int]:
        assert await gate.enter(1)  # and never leaves
        return await gate.release([1, 2], timeout_s=60.0)

    started = time.perf_counter()
    assert loop.run_until_complete(release_with_one_command_stuck_inside()) == [1]
    assert 60.0 <= loop.time() < 61.0, "the deadline is 60 s of the loop's time"
    assert time.perf_counter() - started < 30.0, "not 60 s of the machine's"
    loop.close()


def test_a_release_returns_as_soon_as_the_commands_inside_leave() -> None:
    loop = SimLoop(random.Random(0))
    gate = SlotGate(slots=4, host="h0")
    gate.adopt({1: 3})

    async def leave_after_a_second() -> None:
        assert await gate.enter(1)
        await asyncio.sleep(1.0)
        gate.leave(1)

    async def release() -> list[int]:
        leaving = asyncio.ensure_future(leave_after_a_second())
        await asyncio.sleep(0)
        released = await gate.release([1], timeout_s=60.0)
        await leaving
        return released

    assert loop.run_until_complete(release()) == [1]
    assert 1.0 <= loop.time() < 2.0
    loop.close()
