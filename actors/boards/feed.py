"""The shard host's side of leaderboards: it applies the board changes of durable journal
records, in commit order, before their commands are answered.

`follow(durable, change)` answers a future that completes once the record is durable *and* its
change is on the board, so a player who was told "+50 XP" reads a rank that counts it. Changes
that become durable together are applied in one store call (one Redis pipeline, one SQLite
transaction). A board write that fails is logged and counted, never turned into a failed
command: the journal already holds the award, and `ludex leaderboards rebuild` restores the
board from it.

A change can also miss the board with nothing failing loudly: its host dies after the record is
durable and before the change is applied, or the commit is written but its answer fails (a retry
is then answered from the journal, which applies nothing). So an activation re-applies the
changes of the journal tail it replays (`repair`; an entry skips a seq it already holds), and
the entities never snapshot past a change not yet applied (`Entity.boards_settled`), so every
record whose change may be missing is in some activation's tail. The deterministic simulator
found it ("a leaderboard equals its rebuild", docs/SIMULATION.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from actors.boards.store import BoardStore
from actors.stores.base import JournalRecord
from engine.definitions import Economy
from engine.leaderboards import BoardChange, record_changes
from engine.rules import replay_record
from engine.state import PlayerState

EconomyOf = Callable[[str, str], Awaitable[Economy]]
Changes = BoardChange | Callable[[], Awaitable[list[BoardChange]]]  # one change, or a repair's, computed when applied

log = logging.getLogger("ludex.leaderboards")


class BoardFeed:
    def __init__(self, boards: BoardStore, store: object = None, *, max_batch_size: int = 512) -> None:
        self.boards = boards
        share = getattr(boards, "share_writer", None)
        if share is not None:  # the embedded boards in the host's own SQLite file
            share(store)
        self.max_batch_size = max_batch_size
        self.failures = 0
        self.applied = 0
        self.economy_of: EconomyOf | None = None  # set by the host: the repairs need the economy
        self._pending: list[tuple[Changes, asyncio.Future[None]]] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.boards.open()
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="ludex-board-feed")

    async def stop(self) -> None:
        if self._task is not None:
            await asyncio.sleep(0)  # callbacks of the last commits run first and queue their changes
            while self._pending:
                await asyncio.sleep(0.01)
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.boards.close()

    def follow(self, durable: asyncio.Future[None], change: BoardChange) -> asyncio.Future[None]:
        """A future done when `durable` is and `change` was applied after every change before it."""
        answered: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def on_durable(done: asyncio.Future[None]) -> None:
            error = None if done.cancelled() else done.exception()
            if done.cancelled() or error is not None:
                if not answered.done():
                    answered.set_exception(error or asyncio.CancelledError())
                return
            self._pending.append((change, answered))
            assert self._wake is not None
            self._wake.set()

        # Futures settle in commit order and their callbacks run in that order: the queue is the journal's.
        durable.add_done_callback(on_durable)
        return answered

    def repair(
        self, key: str, player_id: str, base: PlayerState, records: Sequence[JournalRecord]
    ) -> asyncio.Future[None] | None:
        """Re-apply the changes of an activation's journal tail (`records`, replayed from `base`),
        queued before any change of a command decided after the activation; None if there are none."""
        if not records or self.economy_of is None:
            return None
        economy_of = self.economy_of
        tenant, project, _ = key.removeprefix("player:").split("/", 2)

        async def changes() -> list[BoardChange]:
            economy = await economy_of(tenant, project)
            if not economy.leaderboards:
                return []
            found, state = [], base
            for record in records:
                state = replay_record(state, record.seq, record.events, record.occurred_at, record.format_version)
                change = record_change(economy, tenant, project, player_id, record, state)
                if change is not None:
                    found.append(change)
            return found

        answered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((changes, answered))
        if self._wake is not None:
            self._wake.set()
        return answered

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch, self._pending = self._pending[: self.max_batch_size], self._pending[self.max_batch_size :]
                try:
                    await self.boards.apply(
                        [
                            change
                            for item, _ in batch
                            for change in ([item] if isinstance(item, BoardChange) else await item())
                        ]
                    )
                    self.applied += len(batch)
                except Exception:  # noqa: BLE001 - the journal has it; a rebuild restores the board
                    self.failures += len(batch)
                    log.exception(
                        "leaderboards: %d changes not applied; `ludex leaderboards rebuild` restores them", len(batch)
                    )
                for _, answered in batch:
                    if not answered.done():
                        answered.set_result(None)

    def stats(self) -> dict[str, Any]:
        return {"boardChangesApplied": self.applied, "boardChangesFailed": self.failures}


def totals_of(state: PlayerState) -> dict[str, Any]:
    return {"xp": state.xp, "level": state.level, "counters": state.counters, "earned": state.earned}


def record_change(
    economy: Economy, tenant: str, project: str, player_id: str, record: JournalRecord, state: PlayerState
) -> BoardChange | None:
    """The board change of `record`, which led the player to `state`."""
    return record_changes(
        economy.leaderboards,
        tenant,
        project,
        player_id,
        record.seq,
        record.current_events(),
        record.occurred_at,
        totals_of(state),
    )
