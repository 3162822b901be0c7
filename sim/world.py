"""One simulated deployment: shard hosts `h0` and `h1` (the real `ShardHost`, its committer and
pipeline, fenced by slot epochs) over one real SQLite file, the real `Coordinator` moving slots
between them, clients reaching them through a directory and a faulty network, and a chaos task
that crashes hosts, moves slots, passivates players and steps the wall clock. Everything random
comes from one `random.Random(seed)`."""

from __future__ import annotations

import asyncio
import contextvars
import random
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import yaml

from actors.boards.sqlite import SqliteBoardStore
from actors.coordinator import Coordinator
from actors.host import CommandRequest, ShardHost, unavailable_outcome
from actors.slots import WRONG_OWNER
from actors.stores.sqlite import SqliteStore
from engine.outcomes import Outcome
from engine.slots import slot_of
from sim.clients import PROJECT, TENANT, Client, Sent
from sim.clock import SimClock
from sim.faults import FaultPlan
from sim.hosts import HostProcess, HostShape, SimPool
from sim.invariants import Checker
from sim.keys import Console
from sim.loop import INCARNATION, SimLoop
from sim.network import Network

ECONOMY = Path(__file__).resolve().parents[1] / "config" / "demo-economy.yaml"
CHAOS_TICK_S = 0.15
HOSTS = ("h0", "h1")
KEYS = 3  # API keys the console creates, each rotated and revoked at once
SLOTS = 8


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
        self.slot_count = SLOTS
        self._trace = trace
        self.checker = Checker(self.path, self.trace)
        self.players = [f"p{i}" for i in range(clients)]
        self.history: dict[str, Sent] = {}
        self.created: set[str] = set()
        self.commands = commands
        self._incarnations = 0
        self.processes = {name: HostProcess(self, name) for name in HOSTS}
        self.coordinator = Coordinator(
            SqliteStore(self.path),
            SimPool(self.processes),
            host_name=lambda i: HOSTS[i],
            slots=SLOTS,
            batch_size=self.rng.choice([1, 2, SLOTS]),
            handoff_timeout_s=self.rng.choice([0.5, 10.0]),
        )
        self.owners: list[str] = []  # the directory's slot map (refreshed on wrong-owner)
        self._coordinating: list[asyncio.Future[Any]] = []
        self.console = Console(self.path, self.clock, self.rng, self.checker.check, self.trace, keys=KEYS)
        self.finished = False
        self.ended_at = 0.0

    # ------------------------------------------------------------------ what the hosts share

    def new_incarnation(self) -> int:
        self._incarnations += 1
        return self._incarnations

    def trace(self, line: str) -> None:
        if self._trace is not None:
            self._trace(f"{self.loop.time():9.4f}s {line}")

    def task_done(self, task: asyncio.Task[Any], what: str) -> None:
        if not task.cancelled() and task.exception() is not None:
            self.checker.fail("the host never raises to its caller", f"{what}: {task.exception()!r}")

    def _slow_io(self) -> float:
        return self.rng.uniform(0.01, 0.3) if self.plan.hit(self.rng, "slow store call", self.plan.slow_io) else 0.0

    # ------------------------------------------------------------------ the directory and the network

    def transport(self, request: CommandRequest, reply: Callable[[Outcome], None]) -> None:
        slot = slot_of(request.tenant, request.project, request.player_id, SLOTS)
        name = self.owners[slot]
        self.trace(f"send {request.idempotency_key} {request.player_id} {request.command.op} -> {name}")
        self.network.send(lambda: self._arrive(self.processes[name], request, reply), request=True)

    def _arrive(self, process: HostProcess, request: CommandRequest, reply: Callable[[Outcome], None]) -> None:
        if not process.reachable:  # the directory's call meets a dead actor: 503
            self.network.send(lambda: reply(unavailable_outcome(f"{process.name} is restarting")), request=False)
            return
        host = process.host
        assert host is not None

        async def execute() -> None:
            try:
                outcome = (await host.execute([request]))[0]
            except Exception as error:
                if process.running and process.host is host and not process.stopping:
                    raise
                # The coordinator stopped this host under the call (its store closed): the
                # directory's call fails and the client hears 503, as from a dead actor.
                self.trace(f"{process.name} failed a call while stopping: {error!r}")
                outcome = unavailable_outcome(f"{process.name} stopped")
            self.network.send(lambda: reply(outcome), request=False)

        process.spawn(execute(), f"execute {request.idempotency_key}")

    def on_answer(self, sent: Sent, outcome: Outcome) -> None:
        self.trace(
            f"answer {sent.key}: {outcome.slug}{' (replay)' if outcome.replayed else ''}"
            f" {'' if outcome.body is None else _brief(outcome.body)}"
        )
        if outcome.slug in (WRONG_OWNER, "entity-unavailable"):
            self.owners = [row.host for row in self.coordinator.table]  # the directory refreshes its map
        live = [p.host for p in self.processes.values() if p.reachable and p.host is not None]
        self.checker.on_answer(sent, outcome, live)

    # ------------------------------------------------------------------ chaos

    async def chaos(self) -> None:
        while not self.finished:
            await asyncio.sleep(self.rng.expovariate(1 / CHAOS_TICK_S))
            if self.finished:
                return
            running = [p for p in self.processes.values() if p.reachable]
            if running and self.plan.hit(self.rng, "host crashed", self.plan.crash):
                self.rng.choice(running).crash("at a random moment")
            elif running and self.plan.hit(self.rng, "passivation sweep", self.plan.passivate):
                process = self.rng.choice(running)
                host = process.host
                assert host is not None
                force = self.rng.random() < 0.5
                self.trace(f"{process.name} passivation sweep{' (forced)' if force else ''}")
                process.spawn(host.passivate_idle(force=force), "passivation")
            if self.plan.hit(self.rng, "slots moved", self.plan.slot_moves):
                hosts = self.rng.choice([1, 2])
                self.trace(f"the coordinator scales to {hosts} hosts")
                self.as_coordinator(self.coordinator.scale(hosts), f"scale to {hosts}")
            if self.plan.hit(self.rng, "wall clock jumped", self.plan.clock_jump):
                seconds = self.rng.uniform(-600.0, 3600.0)
                self.trace(f"wall clock jumps {seconds:+.0f}s")
                self.clock.jump(seconds)

    def as_coordinator(self, work: Coroutine[Any, Any, Any], what: str) -> asyncio.Future[Any]:
        """The coordinator is a process of its own that never dies in the simulation."""
        context = contextvars.copy_context()
        context.run(INCARNATION.set, 0)
        task = self.loop.create_task(work, context=context)
        task.add_done_callback(lambda done: self.task_done(done, f"coordinator: {what}"))
        self._coordinating.append(task)
        return task

    # ------------------------------------------------------------------ one run

    async def setup(self) -> None:
        """Deal the slots and define the economy while the faults wait."""
        self.plan.paused = True
        await self.as_coordinator(self.coordinator.start(self.rng.choice([1, 2]), watch=False), "start")
        await self.coordinator.pool.start(self.coordinator.hosts, SLOTS)
        self.owners = [row.host for row in self.coordinator.table]
        document = yaml.safe_load(ECONOMY.read_text())
        defined = await self.processes[self.owners[0]].call(
            lambda host: host.define_economy(TENANT, PROJECT, document), "define the economy"
        )
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
        console = self.as_coordinator(self.console.run(), "the console")  # a process that never dies either
        await asyncio.gather(console, *(client.run() for client in clients))
        self.finished = True
        self.ended_at = self.loop.time()
        await chaos
        await asyncio.gather(*self._coordinating)  # the moves under way finish before the last crash
        for process in self.processes.values():
            process.crash("end of the run: what survives is what the file holds", restart=False)
        await self.as_coordinator(self.coordinator.stop(), "stop")
        await self.verify()

    async def verify(self) -> None:
        store = SqliteStore(self.path)
        # Unfenced: it reads every slot. Its views activate every player, repairing their boards.
        host = ShardHost(store, clock=self.clock, boards=SqliteBoardStore(self.path))

        async def check() -> None:
            await host.start(sweep=False)
            try:
                await self.checker.at_end(self.history, self.players, store, host)
            finally:
                await host.stop()  # its board changes applied first
            reopened = SqliteStore(self.path)
            await reopened.open()
            try:
                await self.checker.check_boards(reopened)
            finally:
                await reopened.close()
            await self.console.verify()

        await self.as_coordinator(check(), "the final check")
        self.checker.close()


def _brief(body: Any) -> str:
    if isinstance(body, dict):
        return " ".join(f"{k}={v}" for k, v in body.items() if k in ("balance", "balances", "xp", "level", "sku"))
    return ""
