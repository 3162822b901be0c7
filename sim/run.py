"""Running seeds: one with its trace (`make sim SEED=...`), or many with a summary of the faults
injected and the invariants checked (`make sim`). A run is a function of its seed alone."""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.loop import StalledError
from sim.world import World

CLIENTS = 4
COMMANDS = 10
VIRTUAL_LIMIT_S = 600.0  # a run still going after this much virtual time has lost liveness


@dataclass
class RunReport:
    seed: int
    violations: list[str]
    faults: Counter[str] = field(default_factory=Counter)
    checks: Counter[str] = field(default_factory=Counter)
    commands: int = 0
    acknowledged: int = 0
    virtual_s: float = 0.0
    board_entries: int = 0  # on the rebuilt boards at the end (a check of empty boards proves little)

    @property
    def ok(self) -> bool:
        return not self.violations


def _scratch() -> Path:
    """A directory for the run's SQLite file: in memory-backed /dev/shm when there is one, so
    fsyncs cost nothing (the simulation models a process crash, not a machine's)."""
    shm = Path("/dev/shm")
    return Path(tempfile.mkdtemp(prefix="ludex-sim-", dir=shm if shm.is_dir() else None))


def run_seed(
    seed: int, *, clients: int = CLIENTS, commands: int = COMMANDS, trace: Callable[[str], None] | None = None
) -> RunReport:
    directory = _scratch()
    world = World(seed, directory, clients=clients, commands=commands, trace=trace)
    quiet = logging.getLogger()
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # the faults make the host log warnings by design
    world.loop.set_exception_handler(lambda _, context: _unhandled(world, context))
    try:
        task = world.loop.create_task(world.run())
        while not task.done():
            world.loop.run_until_complete(_step())
            if world.loop.time() > VIRTUAL_LIMIT_S:
                world.checker.fail("every client finishes", f"still running after {VIRTUAL_LIMIT_S:.0f}s virtual")
                break
        if task.done() and not task.cancelled() and task.exception() is not None:
            error = task.exception()
            world.checker.fail("the run completes", repr(error))
    except StalledError as error:
        world.checker.fail("every client finishes", str(error))
    finally:
        world.checker.close()
        world.loop.bury()
        quiet.setLevel(level)
        shutil.rmtree(directory, ignore_errors=True)
    return RunReport(
        seed,
        world.checker.violations,
        world.plan.counts,
        world.checker.checks,
        len(world.history),
        sum(1 for sent in world.history.values() if sent.final is not None),
        world.ended_at,
        world.checker.board_entries,
    )


def _unhandled(world: World, context: dict[str, Any]) -> None:
    """An exception no task awaited: a bug, unless it is a crashed process's leftovers (a read
    nobody waits for any more, a task garbage-collected while pending for ever)."""
    message = str(context.get("message", ""))
    if "never retrieved" in message or "destroyed but it is pending" in message or world.finished:
        return
    world.checker.fail("no callback raises", f"{context.get('message')}: {context.get('exception')!r}")


async def _step() -> None:
    """Let the loop run for a slice of virtual time, so a runaway run is noticed."""
    await asyncio.sleep(10.0)
