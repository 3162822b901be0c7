"""One simulated deployment: a shard host (the real `ShardHost`, its committer and pipeline)
over a real SQLite file, clients that reach it through a faulty network, and a chaos task that
crashes the host, passivates its players and steps the wall clock. Everything random comes from
one `random.Random(seed)`; the host restarts (a new incarnation over the same file) as Ray
restarts a dead actor."""

from __future__ import annotations

import asyncio
import contextvars
import random
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from actors.host import CommandRequest, ShardHost, unavailable_outcome
from actors.stores.sqlite import SqliteStore
from engine.outcomes import Outcome
from sim.clients import PROJECT, TENANT, Client, Sent
from sim.clock import SimClock
from sim.faults import FaultPlan, FaultyStore
from sim.invariants import Checker
from sim.loop import INCARNATION, SimLoop
from sim.network import Network

ECONOMY = Path(__file__).resolve().parents[1] / "config" / "demo-economy.yaml"
CHAOS_TICK_S = 0.15
RESTART_S = (0.05, 1.5)  # how long a dead host stays unreachable before Ray has restarted it


@dataclass(frozen=True)
class HostShape:
    """The host's tunables, drawn per seed: small values make snapshots, passivation and
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


class World:
    def __init__(
        self, seed: int, directory: Path, *, clients: int, commands: int, trace: Callable[[str], None] | None
    ) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.loop = SimLoop(self.rng)
        self.plan = FaultPlan.draw(self.rng)
        self.shape = HostShape.draw(self.rng)
        self.clock = SimClock(self.loop)
        self.network = Network(self.loop, self.rng, self.plan)
        self.loop.slow_io = self._slow_io
        self.path = directory / "ludex.sqlite3"
        self.checker = Checker(self.path, self.trace)
        self.players = [f"p{i}" for i in range(clients)]
        self.history: dict[str, Sent] = {}
        self.created: set[str] = set()
        self.commands = commands
        self._trace = trace
        self.incarnation = 0
        self.store: FaultyStore | None = None
        self.host: ShardHost | None = None
        self.down_until = 0.0
        self.finished = False
        self.ended_at = 0.0

    # ------------------------------------------------------------------ tracing

    def trace(self, line: str) -> None:
        if self._trace is not None:
            self._trace(f"{self.loop.time():9.4f}s [{self.incarnation}] {line}")

    def _slow_io(self) -> float:
        return self.rng.uniform(0.01, 0.3) if self.plan.hit(self.rng, "slow store call", self.plan.slow_io) else 0.0

    # ------------------------------------------------------------------ the host process

    def boot(self) -> None:
        """A new host process over the same file (it opens the store on its first call)."""
        self.incarnation += 1
        self.store = FaultyStore(self.path, self.rng, self.plan)
        self.store.after_write = self._maybe_crash_after_write
        self.host = ShardHost(
            self.store,
            clock=self.clock,
            snapshot_every=self.shape.snapshot_every,
            snapshot_on_passivation_after=self.shape.snapshot_on_passivation_after,
            idle_timeout_s=self.shape.idle_timeout_s,
            max_batch_size=self.shape.max_batch_size,
        )

    def crash(self, why: str) -> None:
        assert self.store is not None
        self.trace(f"host crashes ({why})")
        self.loop.kill(self.incarnation)
        self.store.vanish()
        self.down_until = self.loop.time() + self.rng.uniform(*RESTART_S)
        self.boot()

    def _maybe_crash_after_write(self) -> bool:
        """Called by the store right after a commit is written: the process may die before anyone hears of it."""
        if self.plan.hit(self.rng, "host crashed right after a commit", self.plan.crash / 2):
            self.crash("right after a commit was written")
            return True
        return False

    def in_host(self, work: Coroutine[Any, Any, Any], what: str) -> None:
        """Run `work` inside the current host process (it dies with it)."""
        context = contextvars.copy_context()
        context.run(INCARNATION.set, self.incarnation)
        task = self.loop.create_task(work, context=context)
        task.add_done_callback(lambda done: self._check_task(done, what))

    def _check_task(self, task: asyncio.Task[Any], what: str) -> None:
        if not task.cancelled() and task.exception() is not None:
            self.checker.fail("the host never raises to its caller", f"{what}: {task.exception()!r}")

    # ------------------------------------------------------------------ the network's two ends

    def transport(self, request: CommandRequest, reply: Callable[[Outcome], None]) -> None:
        self.trace(f"send {request.idempotency_key} {request.player_id} {request.command.op}")
        self.network.send(lambda: self._arrive(request, reply), request=True)

    def _arrive(self, request: CommandRequest, reply: Callable[[Outcome], None]) -> None:
        if self.loop.time() < self.down_until:  # the directory's call meets a dead actor: 503
            self.network.send(lambda: reply(unavailable_outcome("the shard host is restarting")), request=False)
            return
        host = self.host
        assert host is not None

        async def execute() -> None:
            outcome = (await host.execute([request]))[0]
            self.network.send(lambda: reply(outcome), request=False)

        self.in_host(execute(), f"execute {request.idempotency_key}")

    def on_answer(self, sent: Sent, outcome: Outcome) -> None:
        self.trace(
            f"answer {sent.key}: {outcome.slug}{' (replay)' if outcome.replayed else ''}"
            f" {'' if outcome.body is None else _brief(outcome.body)}"
        )
        alive = self.host if self.loop.time() >= self.down_until else None
        self.checker.on_answer(sent, outcome, alive)

    # ------------------------------------------------------------------ chaos

    async def chaos(self) -> None:
        while not self.finished:
            await asyncio.sleep(self.rng.expovariate(1 / CHAOS_TICK_S))
            if self.finished:
                return
            host = self.host
            assert host is not None
            if self.loop.time() >= self.down_until and self.plan.hit(self.rng, "host crashed", self.plan.crash):
                self.crash("at a random moment")
            elif self.plan.hit(self.rng, "passivation sweep", self.plan.passivate):
                force = self.rng.random() < 0.5
                self.trace(f"passivation sweep{' (forced)' if force else ''}")
                self.in_host(host.passivate_idle(force=force), "passivation")
            if self.plan.hit(self.rng, "wall clock jumped", self.plan.clock_jump):
                seconds = self.rng.uniform(-600.0, 3600.0)
                self.trace(f"wall clock jumps {seconds:+.0f}s")
                self.clock.jump(seconds)

    # ------------------------------------------------------------------ one run

    async def setup(self) -> None:
        """Define the economy on a calm host first (the run is about commands, not definitions)."""
        self.boot()
        host = self.host
        assert host is not None
        document = yaml.safe_load(ECONOMY.read_text())
        done: asyncio.Future[Outcome] = self.loop.create_future()

        async def define() -> None:
            done.set_result(await host.define_economy(TENANT, PROJECT, document))

        self.plan.paused = True
        self.in_host(define(), "define the economy")
        defined = await done
        assert defined.ok, defined
        self.plan.paused = False

    async def run(self) -> None:
        await self.setup()
        clients = [
            Client(
                n, self.players, self.rng, self.transport, self.history, self.created, self.on_answer,
                commands=self.commands,
            )
            for n in range(len(self.players))
        ]  # fmt: skip
        chaos = asyncio.ensure_future(self.chaos())
        await asyncio.gather(*(client.run() for client in clients))
        self.finished = True
        self.ended_at = self.loop.time()
        await chaos
        self.crash("end of the run: what survives is what the file holds")
        await self.verify()

    async def verify(self) -> None:
        store = SqliteStore(self.path)
        host = ShardHost(store, clock=self.clock)
        done: asyncio.Future[None] = self.loop.create_future()

        async def check() -> None:
            await host.start(sweep=False)
            try:
                await self.checker.at_end(self.history, self.players, store, host)
            finally:
                await host.stop()
            done.set_result(None)

        self.in_host(check(), "the final check")
        await done
        self.checker.close()


def _brief(body: Any) -> str:
    if isinstance(body, dict):
        return " ".join(f"{k}={v}" for k, v in body.items() if k in ("balance", "balances", "xp", "level", "sku"))
    return ""
