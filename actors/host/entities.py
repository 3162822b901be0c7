"""The players a shard host holds in memory, each behind its own FIFO lock.

An entity activates from its snapshot and journal tail (read in one round trip with the other
activations of the moment), passivates when idle (snapshots of a sweep in one transaction), and
is dropped unsaved when its slot moves to another host. `Entities` owns the table; the command
pipeline, the reads and the erasure take entities from it and hold their locks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from actors.clock import Clock, epoch_ms
from actors.coalescer import Coalescer
from actors.slots import SlotGate
from actors.stores.base import History, JournalRecord, Snapshot, SnapshotStore
from engine.outcomes import Outcome
from engine.rules import replay_record
from engine.state import PlayerState, state_from_dict, state_to_dict

SNAPSHOTS_PER_WRITE = 500


@dataclass
class Inflight:
    """A command decided and queued but not durable yet: a copy sent with the same key waits for
    it (`future`) and gets its `outcome` as a replay."""

    fingerprint: str
    outcome: Outcome
    future: asyncio.Future[None]
    event_ids: list[str] = field(default_factory=list)
    unfenced: tuple[int | None, int | None] | None = None
    """(slot, epoch) of an answer remembered without a journal record: the store does not check
    its epoch, so the host does before answering (`CommandPipeline._await_durable`)."""


@dataclass(eq=False)
class Entity:
    """One player in memory. `state` is what was last decided (maybe not durable yet) and
    `durable_state` what the journal holds; both are None until the entity is `loaded`. A
    `broken` entity (a write of it failed) or a `retired` one (passivated, dropped) is replaced
    by a fresh one on its next use."""

    key: str
    state: PlayerState | None = None
    durable_state: PlayerState | None = None
    loaded: bool = False
    broken: bool = False
    retired: bool = False
    last_used: float = 0.0
    snapshot_seq: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    inflight: dict[str, Inflight] = field(default_factory=dict)
    # Done once the board changes of every record decided so far are applied (None: none were
    # owed). A snapshot never covers a record whose change may still miss the board: the next
    # activation's tail repairs only what it replays (actors/boards/feed.py).
    boards_settled: asyncio.Future[None] | None = None

    @property
    def usable(self) -> bool:
        return not (self.broken or self.retired)


class Entities:
    def __init__(
        self,
        store: SnapshotStore,
        clock: Clock,
        slots: SlotGate,
        *,
        snapshot_every: int,
        snapshot_on_passivation_after: int,
        idle_timeout_s: float,
        max_batch_size: int,
    ) -> None:
        self.store = store
        self.clock = clock
        self.slots = slots
        self.snapshot_every = snapshot_every
        # A passivated entity with a shorter journal tail than this is not snapshotted: replaying
        # a few records on its next activation is cheaper than a snapshot written for each of
        # many players seen once or twice (benchmarks/bench_scale.py, 100k-1M players).
        self.snapshot_on_passivation_after = snapshot_on_passivation_after
        # The board feed's repair of an activation's tail (`BoardFeed.repair`), when the host has boards.
        self.repair_boards: (
            Callable[[str, str, PlayerState, list[JournalRecord]], asyncio.Future[None] | None] | None
        ) = None
        self.idle_timeout_s = idle_timeout_s
        # Entities activated together read their snapshots and journal tails in one round trip.
        self.histories: Coalescer[str, History] = Coalescer(
            store.load_histories, max_batch_size=max_batch_size, max_inflight=2
        )
        self._table: dict[str, Entity] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._waiting_on_boards: set[asyncio.Task[Any]] = set()  # snapshots waiting for board changes

    def count(self) -> int:
        """How many entities are in memory (a method, not `__len__`: an empty table stays truthy)."""
        return len(self._table)

    def peek(self, key: str) -> Entity | None:
        """The entity in memory for `key`, if any, untouched (not created, not marked used): what
        an observer (the simulator's invariants) may look at without changing what it sees."""
        return self._table.get(key)

    def get(self, key: str) -> Entity:
        """The entity to lock for `key`, a fresh (unloaded) one if none is usable."""
        entity = self._table.get(key)
        if entity is None or not entity.usable:
            entity = Entity(key)
            self._table[key] = entity
        entity.last_used = self.clock.monotonic()
        return entity

    @asynccontextmanager
    async def held(self, key: str) -> AsyncIterator[Entity]:
        """The usable entity for `key` with its lock held for the block; one retired or broken
        while we waited for its lock is replaced. (The command pipeline writes this loop out.)"""
        while True:
            entity = self.get(key)
            await entity.lock.acquire()
            if entity.usable:
                break
            entity.lock.release()
        try:
            yield entity
        finally:
            entity.lock.release()

    def activate(self, entity: Entity, player_id: str, history: History) -> None:
        snapshot = history.snapshot
        state = PlayerState(player_id=player_id) if snapshot is None else state_from_dict(snapshot.state)
        entity.snapshot_seq = state.seq
        if self.repair_boards is not None:
            entity.boards_settled = self.repair_boards(entity.key, player_id, state, history.records)
        for record in history.records:
            state = replay_record(state, record.seq, record.events, record.occurred_at, record.format_version)
        entity.state = entity.durable_state = state
        entity.loaded = True

    async def load(self, entity: Entity, player_id: str) -> PlayerState:
        """The entity's durable state, activating it first if needed (its lock held)."""
        if not entity.loaded:
            self.activate(entity, player_id, await self.histories.call(entity.key))
        assert entity.durable_state is not None  # activation sets it
        return entity.durable_state

    def made_durable(self, entity: Entity, state: PlayerState) -> None:
        """The journal now holds `state`; every `snapshot_every` records it is snapshotted in
        the background, so activation replays a short tail."""
        entity.durable_state = state
        if state.seq - entity.snapshot_seq >= self.snapshot_every:
            entity.snapshot_seq = state.seq
            self._spawn(self._snapshot_after(entity.boards_settled, self.snapshot(entity.key, state)))

    async def _snapshot_after(self, boards_settled: asyncio.Future[None] | None, snapshot: Snapshot) -> None:
        """Write `snapshot` once the board changes it covers are applied; not at all if they fail
        (the journal tail, replayed and repaired by the next activation, is the safe side)."""
        if boards_settled is not None:
            waiting = asyncio.current_task()
            if waiting is not None:
                self._waiting_on_boards.add(waiting)
            try:
                await asyncio.shield(boards_settled)
            except (Exception, asyncio.CancelledError):
                return
            finally:
                self._waiting_on_boards.discard(waiting)
        await self.store.save_snapshot(snapshot)

    def snapshot(self, key: str, state: PlayerState) -> Snapshot:
        return Snapshot(key, state.seq, state_to_dict(state), epoch_ms(self.clock.now()))

    async def settle(self, *, stopping: bool = False) -> None:
        """Wait for the snapshots being written in the background. `stopping` (the board feed has
        stopped): a snapshot still waiting for board changes gives up, since the write it waits
        for may never be answered now, so a stopping host cannot wait for it forever."""
        if stopping:
            for waiting in list(self._waiting_on_boards):
                waiting.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def retire(self, entity: Entity) -> None:
        """Drop this entity (its lock held), so the next use reloads it from the store."""
        entity.retired = True
        if self._table.get(entity.key) is entity:
            del self._table[entity.key]

    async def passivate_idle(self, *, force: bool = False, slots: set[int] | None = None) -> int:
        """Snapshot and drop entities idle for `idle_timeout_s` (all quiet ones when forced;
        `slots`: only entities of these slots)."""
        cutoff = self.clock.monotonic() - self.idle_timeout_s
        snapshots: list[Snapshot] = []
        passivated = 0
        for key, entity in list(self._table.items()):
            if slots is not None and self.slots.slot_of_key(key) not in slots:
                continue
            settled = entity.boards_settled is None or entity.boards_settled.done()
            quiet = (
                not entity.lock.locked() and not entity.inflight and entity.state is entity.durable_state and settled
            )
            if not quiet or not (force or entity.last_used <= cutoff):
                continue
            entity.retired = True
            del self._table[key]
            passivated += 1
            state = entity.durable_state
            if state is not None and state.seq - entity.snapshot_seq >= self.snapshot_on_passivation_after:
                snapshots.append(self.snapshot(key, state))
        # One transaction per sweep, not one per entity: one at a time, passivation fell behind
        # activation with many distinct players (benchmarks/bench_scale.py).
        for start in range(0, len(snapshots), SNAPSHOTS_PER_WRITE):
            await self.store.save_snapshots(snapshots[start : start + SNAPSHOTS_PER_WRITE])
        return passivated

    def drop_slots(self, slots: list[int]) -> None:
        """Drop, unsaved, the entities of slots this host no longer owns."""
        if not slots:
            return
        gone = set(slots)
        for key in [k for k in self._table if self.slots.slot_of_key(k) in gone]:
            self._table.pop(key).retired = True
