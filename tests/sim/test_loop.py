"""The simulator's event loop: virtual time, store calls run on the loop's thread in a seeded
order, and a killed process runs nothing more."""

from __future__ import annotations

import asyncio
import contextvars
import random
import time
from concurrent.futures import ThreadPoolExecutor

from sim.loop import INCARNATION, SimLoop


def test_an_hour_of_sleeping_takes_no_real_time() -> None:
    loop = SimLoop(random.Random(1))
    started = time.perf_counter()
    loop.run_until_complete(asyncio.sleep(3600))
    assert loop.time() >= 3600
    assert time.perf_counter() - started < 5
    loop.close()


def test_calls_on_one_executor_run_in_submission_order() -> None:
    loop = SimLoop(random.Random(2))
    executor = ThreadPoolExecutor(max_workers=1)
    ran: list[int] = []

    async def submit_all() -> list[int]:
        return list(await asyncio.gather(*(loop.run_in_executor(executor, _note, ran, i) for i in range(50))))

    assert loop.run_until_complete(submit_all()) == list(range(50))
    assert ran == list(range(50))
    loop.close()


def test_a_killed_process_runs_nothing_more() -> None:
    loop = SimLoop(random.Random(3))
    ran: list[int] = []

    async def ticking() -> None:
        for i in range(10):
            await asyncio.sleep(1)
            ran.append(i)

    context = contextvars.copy_context()
    context.run(INCARNATION.set, 1)
    loop.create_task(ticking(), context=context)
    loop.run_until_complete(asyncio.sleep(3.5))
    loop.kill(1)
    loop.run_until_complete(asyncio.sleep(10))
    assert ran == [0, 1, 2]
    loop.bury()


def _note(ran: list[int], value: int) -> int:
    ran.append(value)
    return value
