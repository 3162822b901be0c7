"""The shard host processes of a simulation and the coordinator's view of them.

`HostProcess` is one named host (`h0`, `h1`) over the shared SQLite file, fenced by its slot
gate: it dies (its incarnation killed, its connections closed by the "OS") and comes back as a
new `ShardHost` over the same file, as Ray restarts a dead actor. `SimPool` is the real
`Coordinator`'s `HostPool` over them: its calls run inside the host process and fail when it
dies, as a Ray call to a dead actor does."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import random
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from actors.boards.sqlite import SqliteBoardStore
from actors.host import ShardHost
from actors.slots import SlotGate
from sim.clock import SimClock
from sim.faults import FaultPlan, FaultyStore, vanish_boards
from sim.loop import INCARNATION, SimLoop

T = TypeVar("T")
RESTART_S = (0.05, 1.5)  # how long a dead host stays unreachable before Ray has restarted it


@dataclass(frozen=True)
class HostShape:
    """The hosts' tunables, drawn per seed: small values make snapshots, passivation and
    batching happen often enough to meet the faults."""

    snapshot_every: int
    snapshot_on_passivation_after: int
    idle_timeout_s: float
    max_batch_size: int

    @classmethod
    def draw(cls, rng: random.Random) -> HostShape:
        return cls(
            snapshot_every=rng.choice([1, 2, 3, 5, 100]),
            snapshot_on_passivation_after=rng.choice([0, 1, 3, 8]),
            idle_timeout_s=rng.choice([0.05, 0.3, 2.0, 300.0]),
            max_batch_size=rng.choice([1, 3, 64]),
        )


class HostDiedError(ConnectionError):
    """The host process died before answering (Ray's ActorDiedError)."""


class HostProcess:
    def __init__(self, world: HostWorld, name: str) -> None:
        self.world = world
        self.name = name
        self.incarnation = 0
        self.store: FaultyStore | None = None
        self.host: ShardHost | None = None
        self.boards: SqliteBoardStore | None = None  # the embedded leaderboards, in the same file
        self.down_until = 0.0
        self.running = False
        self.stopping = False  # the coordinator is stopping it (its calls may fail meanwhile)
        self._calls: set[asyncio.Future[Any]] = set()  # answers owed to callers outside the process

    @property
    def reachable(self) -> bool:
        return self.running and self.world.loop.time() >= self.down_until

    def boot(self) -> ShardHost:
        """A new process over the same file (it opens the store on its first call)."""
        world = self.world
        self.incarnation = world.new_incarnation()
        self.store = FaultyStore(world.path, world.rng, world.plan)
        self.store.after_write = self._maybe_crash_after_write
        shape = world.shape
        self.boards = SqliteBoardStore(world.path)
        self.host = ShardHost(
            self.store,
            clock=world.clock,
            snapshot_every=shape.snapshot_every,
            snapshot_on_passivation_after=shape.snapshot_on_passivation_after,
            idle_timeout_s=shape.idle_timeout_s,
            max_batch_size=shape.max_batch_size,
            slot_gate=SlotGate(world.slot_count, self.name),
            boards=self.boards,
        )
        self.running = True
        self.stopping = False
        return self.host

    def crash(self, why: str, *, restart: bool = True) -> None:
        if not self.running or self.store is None:
            return
        self.world.trace(f"{self.name} crashes ({why})")
        self.world.loop.kill(self.incarnation)
        self.store.vanish()
        if self.boards is not None:
            vanish_boards(self.boards)
        for call in self._calls:
            if not call.done():
                call.set_exception(HostDiedError(f"{self.name} died"))
        self._calls.clear()
        self.running = False
        if restart:
            self.down_until = self.world.loop.time() + self.world.rng.uniform(*RESTART_S)
            self.boot()

    def _maybe_crash_after_write(self) -> bool:
        """Right after a commit is written the process may die before anyone hears of it."""
        world = self.world
        if world.plan.hit(world.rng, "host crashed right after a commit", world.plan.crash / 2):
            self.crash("right after a commit was written")
            return True
        return False

    def spawn(self, work: Coroutine[Any, Any, Any], what: str) -> None:
        """Run `work` inside this process (it dies with it)."""
        context = contextvars.copy_context()
        context.run(INCARNATION.set, self.incarnation)
        task = self.world.loop.create_task(work, context=context)
        task.add_done_callback(lambda done: self.world.task_done(done, f"{self.name}: {what}"))

    async def call(self, work: Callable[[ShardHost], Coroutine[Any, Any, T]], what: str) -> T:
        """Ask the process from outside: its answer, or `HostDiedError` if it dies first."""
        if not self.running or self.host is None:
            raise HostDiedError(f"{self.name} is not running")
        answer: asyncio.Future[T] = self.world.loop.create_future()
        self._calls.add(answer)
        host = self.host

        async def run() -> None:
            result = await work(host)
            if not answer.done():
                answer.set_result(result)

        self.spawn(run(), what)
        try:
            return await answer
        finally:
            self._calls.discard(answer)


class HostWorld(Protocol):
    """What the host processes share with the world around them (`sim.world.World`)."""

    loop: SimLoop
    rng: random.Random
    plan: FaultPlan
    clock: SimClock
    path: Path
    slot_count: int
    shape: HostShape

    def new_incarnation(self) -> int: ...

    def trace(self, line: str) -> None: ...

    def task_done(self, task: asyncio.Task[Any], what: str) -> None: ...


class SimPool:
    """`HostPool` over the simulated processes."""

    def __init__(self, processes: dict[str, HostProcess]) -> None:
        self.processes = processes

    async def start(self, names: list[str], slots: int) -> None:
        for name in names:
            process = self.processes[name]
            if not process.running:
                process.boot()

    async def stop(self, names: list[str]) -> None:
        for name in names:
            process = self.processes[name]
            if process.running:
                process.stopping = True
                with contextlib.suppress(HostDiedError):
                    await process.call(lambda host: host.stop(), "stop")
                process.crash("stopped by the coordinator", restart=False)

    async def release(self, name: str, slots: list[int], timeout_s: float) -> int:
        return await self.processes[name].call(lambda host: host.release_slots(slots, timeout_s), "release slots")

    async def adopt(self, name: str, owned: dict[int, int], exact: bool) -> None:
        await self.processes[name].call(lambda host: _sync(host.adopt_slots, owned, exact), "adopt slots")

    async def forget(self, name: str, slots: list[int]) -> None:
        await self.processes[name].call(lambda host: _sync(host.forget_slots, slots), "forget slots")

    async def alive(self, name: str, timeout_s: float) -> bool:
        return self.processes[name].reachable


async def _sync(method: Callable[..., None], *args: Any) -> None:
    method(*args)
