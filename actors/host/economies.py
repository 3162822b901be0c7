"""Each project's economy as this host sees it: read from the project's journal once, cached
until invalidated, and replaced by journaling a new version (`define`) under a per-project lock.

Every command needs its project's economy, so the cache is on the hot path; another host's
`define` reaches this one as an `invalidate` (`ShardDirectory.define_economy`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from actors.clock import Clock, epoch_ms
from actors.economy_reads import current_project
from actors.host.unavailable import unavailable_outcome
from actors.stores.base import JournalRecord, JournalStore
from engine.definitions import Economy
from engine.errors import EconomyNotDefinedError, Rejection
from engine.identity import project_key
from engine.outcomes import Outcome
from engine.project import ProjectState, define_economy, economy_of
from engine.rules import rfc3339

ReadProject = Callable[[str], Awaitable[ProjectState]]


class ProjectEconomies:
    def __init__(self, store: JournalStore, clock: Clock, read: ReadProject | None = None) -> None:
        self.store = store
        self.clock = clock
        # How a project's state is read (by project key); a test may hand in a slower one.
        self.read: ReadProject = read or (lambda key: current_project(store, key))
        self._economies: dict[tuple[str, str], Economy] = {}
        self._generations: dict[tuple[str, str], int] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(self, tenant: str, project: str) -> Economy:
        """The project's current economy; `EconomyNotDefinedError` if it has none."""
        economy = self._economies.get((tenant, project))
        if economy is None:
            generation = self._generations.get((tenant, project), 0)
            state = await self.read(project_key(tenant, project))
            economy = economy_of(state)
            if economy is None:
                raise EconomyNotDefinedError(project)
            # An invalidation that arrived while we read may mean what we read is already old.
            if self._generations.get((tenant, project), 0) == generation:
                self._economies[(tenant, project)] = economy
        return economy

    async def define(self, tenant: str, project: str, document: dict[str, Any]) -> Outcome:
        """Install a new version of a project's definitions (journaled on the project entity)."""
        key = project_key(tenant, project)
        async with self._locks.setdefault(key, asyncio.Lock()):
            state = await self.read(key)
            event = define_economy(state, document)
            if isinstance(event, Rejection):
                return Outcome.refused(event)
            now = self.clock.now()
            record = JournalRecord(key, state.seq + 1, [event], rfc3339(now), epoch_ms(now))
            result = await self.store.commit([record], [])
            if result.conflicts:
                return unavailable_outcome("another host changed this project's definitions")
            self.invalidate(tenant, project)
        return Outcome.accepted({"version": event["data"]["version"]}, created=True)

    async def version(self, tenant: str, project: str) -> int:
        return (await self.read(project_key(tenant, project))).version

    def invalidate(self, tenant: str, project: str) -> None:
        self._economies.pop((tenant, project), None)
        self._generations[(tenant, project)] = self._generations.get((tenant, project), 0) + 1
