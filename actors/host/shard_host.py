"""The shard host: one process-sized container for many virtual actors (players), a thin shell
over its parts, each with one job:

- `Entities` (entities.py): players in memory, their FIFO locks, activation and passivation;
- `CommandPipeline` (pipeline.py): idempotency lookup → decide → journal record → group commit;
- `ProjectEconomies` (economies.py): each project's economy, cached until invalidated;
- `Housekeeping` (housekeeping.py): the sweeper (passivation, retention, repair, resets, backups);
- `PlayerReads` (reads.py): views, the ledger, receipts, economy documents;
- `PlayerErasure` (erasure.py): deleting a player and rewriting its personal data.

The shell builds them, starts and stops them, and is the host's public face: its methods are
what `actors.directory` calls (the host is a plain class; `actors.cluster` makes it a Ray actor,
and tests construct it directly). Any first call starts the host, so one Ray restarted after a
crash recovers without being told to.
"""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from typing import Any

from actors.boards.feed import BoardFeed
from actors.boards.resets import BoardResets
from actors.boards.store import BoardStore
from actors.clock import Clock, SystemClock
from actors.committer import GroupCommitter
from actors.event_publisher import EventPublisher
from actors.guardrail_leases import BudgetLeases
from actors.host.economies import ProjectEconomies
from actors.host.entities import Entities
from actors.host.erasure import PlayerErasure
from actors.host.guardrails import HostGuardrails
from actors.host.housekeeping import Housekeeping
from actors.host.pipeline import CommandPipeline, CommandRequest
from actors.host.reads import PlayerReads
from actors.metrics import HostMetrics
from actors.scheduled_backups import ScheduledBackups
from actors.slots import SlotGate, claim_own_slots
from actors.stores.base import Store
from config.gc_tuning import tune_for_long_lived_objects
from engine.outcomes import Outcome
from engine.retention import RetentionBounds


class ShardHost:
    def __init__(
        self,
        store: Store,
        *,
        clock: Clock | None = None,
        shard_id: int = 0,
        snapshot_every: int = 100,
        snapshot_on_passivation_after: int = 8,
        idle_timeout_s: float = 300.0,
        max_batch_size: int = 512,
        group_commit: bool = True,
        idempotency_retention_s: float = 7 * 24 * 3600.0,
        event_retention_days: float | None = None,
        retention_bounds: RetentionBounds | None = None,
        publisher: EventPublisher | None = None,
        boards: BoardStore | None = None,
        slot_gate: SlotGate | None = None,
        backups: ScheduledBackups | None = None,
    ) -> None:
        self.store = store
        self.slots = slot_gate or SlotGate()  # the slots this host owns (all, unfenced, by default)
        self.clock: Clock = clock or SystemClock()
        self.shard_id = shard_id
        self.publisher = publisher
        self.board_feed = None if boards is None else BoardFeed(boards, store, max_batch_size=max_batch_size)
        self.metrics = HostMetrics()
        self.backups = backups
        self.committer = GroupCommitter(
            store, max_batch_size=max_batch_size, group_commit=group_commit, metrics=self.metrics
        )
        retention = timedelta(seconds=idempotency_retention_s)
        self.entities = Entities(
            store,
            self.clock,
            self.slots,
            snapshot_every=snapshot_every,
            snapshot_on_passivation_after=snapshot_on_passivation_after,
            idle_timeout_s=idle_timeout_s,
            max_batch_size=max_batch_size,
        )
        self.economies = ProjectEconomies(store, self.clock)
        if self.board_feed is not None:
            self.board_feed.economy_of = self.economies.get
            self.entities.repair_boards = self.board_feed.repair
        self.commands = CommandPipeline(
            store,
            self.clock,
            self.slots,
            self.entities,
            self.economies,
            self.committer,
            self.metrics,
            shard_id=shard_id,
            retention=retention,
            max_batch_size=max_batch_size,
            board_feed=self.board_feed,
            publisher=publisher,
            guardrails=HostGuardrails(BudgetLeases(store)),
        )
        self.housekeeping = Housekeeping(
            store,
            self.clock,
            self.entities,
            shard_id=shard_id,
            retention=retention,
            event_retention_days=event_retention_days,
            bounds=retention_bounds or RetentionBounds(),
            board_resets=None if boards is None else BoardResets(store, boards, self.clock),
            backups=backups,
        )
        self.reads = PlayerReads(store, self.slots, self.entities, self.economies)
        self.erasure = PlayerErasure(store, self.entities, self.commands)
        self._started = False
        self._starting = asyncio.Lock()

    # ------------------------------------------------------------------------------ lifecycle

    async def start(self, *, sweep: bool = True) -> None:
        """Open the store and start committing. Idempotent, and also run by the first call, so a
        host that Ray restarted after a crash recovers without being told to."""
        async with self._starting:
            if self._started:
                return
            tune_for_long_lived_objects()
            await self.store.open()
            if self.slots.fenced:
                await claim_own_slots(self.store, self.slots)
            if self.board_feed is not None:
                await self.board_feed.start()
            self.committer.start()
            if sweep:
                self.housekeeping.start()
            self._started = True

    async def stop(self) -> None:
        """Drain pending writes, snapshot what is active, close the store."""
        if not self._started:
            return
        self._started = False
        await self.housekeeping.stop()
        await self.committer.stop()
        if self.board_feed is not None:
            await self.board_feed.stop()
        await self.entities.passivate_idle(force=True)
        await self.entities.settle(stopping=True)
        if self.publisher is not None:
            await self.publisher.close()
        await self.store.close()

    def ready(self) -> bool:
        return True

    def pid(self) -> int:
        return os.getpid()

    def stats(self) -> dict[str, Any]:
        return {
            "shardId": self.shard_id,
            "activeEntities": self.entities.count(),
            "commits": self.committer.commits,
            "records": self.committer.records,
            **self.metrics.snapshot(),
            **({} if self.backups is None else {"backups": self.backups.indicators.snapshot()}),
        }

    # ------------------------------------------------------------------------------ commands

    async def execute(self, requests: list[CommandRequest]) -> list[Outcome]:
        """Run many commands in one call; each answer is an `Outcome` in request order.
        Commands for one player apply in array order."""
        if not self._started:
            await self.start()
        outcomes = await asyncio.gather(*(self.commands.execute_owned(r) for r in requests))
        self.commands.account(requests, outcomes)
        return list(outcomes)

    async def erase(self, tenant: str, project: str, player_id: str, request_id: str | None = None) -> Outcome:
        """Delete the player and rewrite its personal data (`PlayerErasure`, docs/PRIVACY.md)."""
        if not self._started:
            await self.start()
        return await self.erasure.erase(tenant, project, player_id, request_id)

    # ------------------------------------------------------------------------------ projects

    async def define_economy(self, tenant: str, project: str, document: dict[str, Any]) -> Outcome:
        """Install a new version of a project's definitions (journaled on the project entity)."""
        if not self._started:
            await self.start()
        return await self.economies.define(tenant, project, document)

    async def economy_version(self, tenant: str, project: str) -> int:
        return await self.economies.version(tenant, project)

    def invalidate_economy(self, tenant: str, project: str) -> None:
        self.economies.invalidate(tenant, project)

    # ------------------------------------------------------------------------------ reads

    async def view(self, tenant: str, project: str, player_id: str, name: str) -> Outcome:
        """A read model of the player's durable state: `profile`, `progression`, `wallet`,
        `inventory`, `counters`, `quests` or `achievements`."""
        if not self._started:
            await self.start()
        return await self.reads.view(tenant, project, player_id, name)

    async def economy_document(self, tenant: str, project: str) -> dict[str, Any] | None:
        """The project's current definitions in document form (for catalogs), or None."""
        return await self.reads.economy_document(tenant, project)

    async def ledger(
        self, tenant: str, project: str, player_id: str, *, currency: str | None, after: tuple[int, int], limit: int
    ) -> list[dict[str, Any]]:
        """Wallet entries oldest first, strictly after position `after` = (seq, index).
        Read from the journal, so it always agrees with the balance."""
        return await self.reads.ledger(tenant, project, player_id, currency=currency, after=after, limit=limit)

    async def receipt(self, tenant: str, project: str, player_id: str, purchase: str) -> dict[str, Any] | None:
        return await self.reads.receipt(tenant, project, player_id, purchase)

    # ------------------------------------------------------------------------------ housekeeping

    async def passivate_idle(self, *, force: bool = False, slots: set[int] | None = None) -> int:
        """Snapshot and drop entities idle for `idle_timeout_s` (all quiet ones when forced;
        `slots`: only entities of these slots)."""
        return await self.entities.passivate_idle(force=force, slots=slots)

    async def sweep_once(self) -> None:
        """One round of housekeeping; a failing step is logged and the others still run."""
        await self.housekeeping.sweep_once()

    def active_entities(self) -> int:
        return self.entities.count()

    # ------------------------------------------------------------------------------ slots

    async def release_slots(self, slots: list[int], timeout_s: float = 10.0) -> int:
        """First half of a handoff: hold the slots' new commands, let those inside finish
        (commits included), snapshot and drop their entities. Answers how many were passivated."""
        if not self._started:
            await self.start()
        released = await self.slots.release(slots, timeout_s)
        return await self.entities.passivate_idle(force=True, slots=set(released))

    def adopt_slots(self, owned: dict[int, int], exact: bool = False) -> None:
        """Own these slots at these epochs (their entities activate on demand)."""
        self.entities.drop_slots(self.slots.adopt(owned, exact=exact))

    def forget_slots(self, slots: list[int]) -> None:
        """Last half of a handoff (or a move away from a host presumed dead): held commands are
        answered `wrong-owner`, and entities left of those slots are dropped unsaved."""
        self.entities.drop_slots(self.slots.forget(slots))

    def slot_state(self) -> dict[str, Any]:
        return self.slots.snapshot()
