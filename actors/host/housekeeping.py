"""A shard host's sweeper: every host passivates its idle players; host 0, one per deployment,
also purges old events and remembered answers, checks economy health, repairs projections a
failed write left unfinished, resets leaderboards and takes scheduled backups. A failing step is
logged and the others still run; it is retried on the next sweep."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, Protocol

from actors.boards.resets import BoardResets
from actors.clock import Clock
from actors.economy_health import EconomyHealthSweep
from actors.host.entities import Entities
from actors.retention import EventRetention, OutcomeRetention, TenantRetentions
from actors.scheduled_backups import ScheduledBackups
from actors.stores.base import DocumentStore, EventFeed, RetentionStore, StoreLifecycle
from engine.retention import Retention, RetentionBounds


class HousekeepingStore(StoreLifecycle, RetentionStore, DocumentStore, EventFeed, Protocol):
    """Sweeps repair projections, purge what outlived retention and check economies (documents
    and the event feed)."""


log = logging.getLogger("ludex.host")
DELIVERIES_UNUSED_DAYS = 30.0  # the webhook worker purges deliveries; hosts compare events and keys only


class Housekeeping:
    def __init__(
        self,
        store: HousekeepingStore,
        clock: Clock,
        entities: Entities,
        *,
        shard_id: int,
        retention: timedelta,
        event_retention_days: float | None,
        bounds: RetentionBounds,
        board_resets: BoardResets | None,
        backups: ScheduledBackups | None,
    ) -> None:
        self.store = store
        self.entities = entities
        self.shard_id = shard_id
        tenants = TenantRetentions(
            store, Retention(event_retention_days, DELIVERIES_UNUSED_DAYS, retention / timedelta(days=1)), bounds
        )
        self.event_retention = EventRetention(store, clock, event_retention_days, tenants=tenants)
        self.outcome_retention = OutcomeRetention(store, clock, retention, tenants=tenants)
        self.economy_health = EconomyHealthSweep(store, clock)
        self.board_resets = board_resets
        self.backups = backups  # scheduled backups of the embedded store; host 0's sweep runs them
        self._sweeper: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="ludex-passivation")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)

    async def _sweep_forever(self) -> None:
        interval = max(0.05, min(self.entities.idle_timeout_s / 2, 30.0))
        while True:
            await asyncio.sleep(interval)
            await self.sweep_once()

    async def sweep_once(self) -> None:
        """One round of housekeeping; a failing step is logged and the others still run."""
        steps: list[tuple[str, Callable[[], Awaitable[Any]]]] = [("passivation", self.entities.passivate_idle)]
        if self.shard_id == 0:  # one purger and repairer per deployment
            steps += [
                ("event retention", self.event_retention.run_if_due),
                ("idempotency retention", self.outcome_retention.run_if_due),
                ("economy health", self.economy_health.run_if_due),
                ("projection repair", self.store.repair),  # projections a failed write left unfinished
            ]
            if self.board_resets is not None:
                steps.append(("leaderboard resets", self.board_resets.run_if_due))
            if self.backups is not None:
                steps.append(("scheduled backup", self.backups.run_if_due))
        for name, step in steps:
            try:
                await step()
            except Exception:
                log.exception("shard %d: %s failed; retried on the next sweep", self.shard_id, name)
