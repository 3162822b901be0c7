"""What the ingress keeps of the control plane between calls, so the hot path reads no plan or
player count per call: each tenant's plan and its live players, re-read after a few seconds."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from actors.control_plane_records import PLANS, TENANTS
from actors.stores.base import DocumentStore, PlayerIndex


class PlanCache:
    """Each tenant's plan (None: no plan, so no quotas), re-read after `ttl_s` seconds."""

    def __init__(
        self, store: DocumentStore, *, ttl_s: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.store = store
        self.ttl_s = ttl_s
        self.clock = clock
        self._plans: dict[str, tuple[float, dict[str, Any] | None]] = {}

    async def plan_of(self, tenant: str) -> dict[str, Any] | None:
        now = self.clock()
        cached = self._plans.get(tenant)
        if cached is not None and now - cached[0] < self.ttl_s:
            return cached[1]
        plan = await self._read(tenant)
        self._plans[tenant] = (now, plan)
        return plan

    async def _read(self, tenant: str) -> dict[str, Any] | None:
        document = await self.store.get_document(TENANTS, tenant)
        plan_id = None if document is None else document.get("planId")
        if plan_id is None:
            return None
        plan = await self.store.get_document(PLANS, plan_id)
        return None if plan is None or plan.get("deleted") else plan


class PlayerCounts:
    """Each tenant's live players (up to its quota), re-counted after `ttl_s` seconds: a quota
    check per creation without a count per creation. Several creations within one interval may
    pass the quota by that many; the next count stops them."""

    def __init__(self, store: PlayerIndex, *, ttl_s: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.ttl_s = ttl_s
        self.clock = clock
        self._counts: dict[str, tuple[float, int]] = {}

    async def live_players(self, tenant: str, limit: int) -> int:
        now = self.clock()
        cached = self._counts.get(tenant)
        if cached is not None and now - cached[0] < self.ttl_s:
            return cached[1]
        count = await self.store.count_players(tenant, limit=limit)
        self._counts[tenant] = (now, count)
        return count

    def created(self, tenant: str) -> None:
        """A creation this replica saw lands in its cached count at once."""
        cached = self._counts.get(tenant)
        if cached is not None:
            self._counts[tenant] = (cached[0], cached[1] + 1)
