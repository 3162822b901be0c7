"""What can go wrong in one run, and how often: each seed draws its own rates (some runs calm,
some stormy), and every fault injected is counted for the summary. `FaultyStore` is the real
SQLite store with failures and stalls let in at its public calls."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from actors.boards.sqlite import SqliteBoardStore
from actors.stores.base import CommitResult, History, JournalRecord, Remembered, RememberedAnswer
from actors.stores.sqlite import SqliteStore


@dataclass
class FaultPlan:
    crash: float  # per chaos tick: the host process dies
    passivate: float  # per chaos tick: a passivation sweep (forced or not)
    clock_jump: float  # per chaos tick: wall time steps
    slot_moves: float  # per chaos tick: the coordinator scales to one or two hosts (slot handoffs)
    commit_fails: float  # per commit: refused before anything is written
    commit_fails_after_write: float  # per commit: written, but the caller hears a failure
    commit_stalls: float  # per commit: seconds of stall first
    read_fails: float  # per activation or key lookup batch
    slow_io: float  # per store call: tens to hundreds of milliseconds late (I/O latency has a long tail)
    message_lost: float  # per message, either way
    message_duplicated: float  # per request
    message_delay_s: float  # the most a message may take (so later ones overtake it)
    counts: Counter[str] = field(default_factory=Counter)
    paused: bool = False  # while the world is being set up

    @classmethod
    def draw(cls, rng: random.Random) -> FaultPlan:
        def rate(high: float) -> float:
            return rng.choice([0.0, high / 4, high])

        return cls(
            crash=rate(0.08),
            passivate=rate(0.5),
            clock_jump=rate(0.1),
            slot_moves=rate(0.2),
            commit_fails=rate(0.1),
            commit_fails_after_write=rate(0.1),
            commit_stalls=rate(0.1),
            read_fails=rate(0.08),
            slow_io=rate(0.2),
            message_lost=rate(0.1),
            message_duplicated=rate(0.15),
            message_delay_s=rng.choice([0.001, 0.05, 0.5]),
        )

    def hit(self, rng: random.Random, name: str, rate: float) -> bool:
        """Whether fault `name` strikes now (counted when it does)."""
        if rate and not self.paused and rng.random() < rate:
            self.counts[name] += 1
            return True
        return False


class StoreFaultError(OSError):
    """The simulated disk or driver failed."""


class FaultyStore(SqliteStore):
    def __init__(self, path: Path, rng: random.Random, plan: FaultPlan) -> None:
        super().__init__(path)
        self.rng = rng
        self.plan = plan
        # Called right after a commit is written; True: the process died there, so nobody hears back.
        self.after_write: Callable[[], bool] = lambda: False

    async def commit(self, records: Sequence[JournalRecord], outcomes: Sequence[RememberedAnswer]) -> CommitResult:
        if self.plan.hit(self.rng, "commit stalled", self.plan.commit_stalls):
            await asyncio.sleep(self.rng.uniform(0.2, 4.0))
        if self.plan.hit(self.rng, "commit failed", self.plan.commit_fails):
            raise StoreFaultError("simulated: the commit failed, nothing written")
        result = await super().commit(records, outcomes)
        if self.after_write():
            await asyncio.get_running_loop().create_future()  # a dead process never goes on
        if self.plan.hit(self.rng, "commit failed after writing", self.plan.commit_fails_after_write):
            raise StoreFaultError("simulated: the commit was written but its answer failed")
        return result

    async def load_histories(self, entities: Sequence[str]) -> list[History]:
        if self.plan.hit(self.rng, "activation read failed", self.plan.read_fails):
            raise StoreFaultError("simulated: the history read failed")
        return await super().load_histories(entities)

    async def find_outcomes(self, keys: Sequence[tuple[str, str]], since_ms: int) -> list[Remembered | None]:
        if self.plan.hit(self.rng, "key lookup failed", self.plan.read_fails):
            raise StoreFaultError("simulated: the key lookup failed")
        return await super().find_outcomes(keys, since_ms)

    def vanish(self) -> None:
        """The process died: the OS closes its connections (what was committed stays)."""
        for connection in [self._writer, *self._readers, self._checkpointer]:
            if connection is not None and connection.conn is not None:
                connection.conn.close()
                connection.conn = None


def vanish_boards(boards: SqliteBoardStore) -> None:
    """The process died: the OS closes the board store's connections too."""
    for connection in (boards._writer, boards._reader):
        if connection is not None and connection.conn is not None:
            connection.conn.close()
            connection.conn = None
